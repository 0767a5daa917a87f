"""Suite-wide settings.

No test carries a wall-clock budget: on a busy 2-core machine a first Hypothesis run (it builds
its character tables on first use) or a slow fsync is not a failure. `pytest-timeout` stays as a
generous hang guard only (pyproject `timeout`), and Hypothesis runs without deadlines.
"""

from __future__ import annotations

import signal
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "sealops",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile("sealops")


def pytest_sessionstart(session: pytest.Session) -> None:
    """A SIGTERM (CI timeout, `kill`) unwinds like Ctrl-C, so session fixtures tear down the
    control plane, controllers and servers instead of leaving them running."""

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
