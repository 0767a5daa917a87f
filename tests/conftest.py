"""Suite-wide settings: unit tests get the house 2 s timeout unless they say otherwise."""

from __future__ import annotations

import signal
from typing import Any

import pytest

UNIT_TIMEOUT_S = 2


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/unit/" in item.nodeid.replace("\\", "/") and item.get_closest_marker(
            "timeout"
        ) is None:
            item.add_marker(pytest.mark.timeout(UNIT_TIMEOUT_S))


def pytest_sessionstart(session: pytest.Session) -> None:
    """A SIGTERM (CI timeout, `kill`) unwinds like Ctrl-C, so session fixtures tear down the
    control plane, controllers and servers instead of leaving them running."""

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
