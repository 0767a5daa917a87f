"""Fault-injection checkpoints for crash tests (hostile input R47).

`SEALOPS_FAULTS=name[,name...]` in the controller's environment makes `checkpoint(name)` end
the process at once with `os._exit(137)`, as a SIGKILL would: no cleanup, no status write.
Unset in production; reading one environment variable at import costs nothing afterwards.
"""

from __future__ import annotations

import os

_ARMED = frozenset(filter(None, os.environ.get("SEALOPS_FAULTS", "").split(",")))


def checkpoint(name: str) -> None:
    if name in _ARMED:
        os._exit(137)
