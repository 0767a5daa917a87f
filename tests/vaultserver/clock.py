"""A settable clock for the Vault test server and the code under test.

`VaultTestServer.start(clock=ManualClock())` makes token TTLs and KV deletion times follow this
clock instead of wall time, so expiry is tested by `clock.advance(seconds)`, not by sleeping.
"""

from __future__ import annotations

import threading


class ManualClock:
    """A callable returning seconds since the epoch; moves only when told to."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("a ManualClock never goes backwards")
        with self._lock:
            self._now += seconds
            return self._now
