"""Fault-injection checkpoints for crash and race tests (hostile input R47).

`SEALOPS_FAULTS=name[,name...]` in the controller's environment makes `checkpoint(name)` end
the process at once with `os._exit(137)`, as a SIGKILL would: no cleanup, no status write.
`SEALOPS_DELAYS=name=seconds[,...]` makes `delay(name)` sleep that long, to widen a race window
a test wants to hit every time (e.g. a Secret changing while a GitSync is between stages).
Unset in production; reading two environment variables at import costs nothing afterwards.
"""

from __future__ import annotations

import os
import time

_ARMED = frozenset(filter(None, os.environ.get("SEALOPS_FAULTS", "").split(",")))


def _delays(spec: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for item in filter(None, spec.split(",")):
        name, _, seconds = item.partition("=")
        try:
            found[name] = min(60.0, max(0.0, float(seconds)))
        except ValueError:
            continue
    return found


_DELAYS = _delays(os.environ.get("SEALOPS_DELAYS", ""))


def checkpoint(name: str) -> None:
    if name in _ARMED:
        os._exit(137)


def delay(name: str) -> None:
    seconds = _DELAYS.get(name)
    if seconds:
        time.sleep(seconds)
