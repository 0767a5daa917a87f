"""Waiting for a condition with a deadline (no bare sleeps in tests)."""

from __future__ import annotations

import time
from typing import Any


def wait_for(predicate: Any, *, timeout: float = 30.0, interval: float = 0.1,
             what: str = "condition") -> Any:
    """Poll `predicate` until it returns a truthy value; fail with `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)
