"""Liveness of the controller's loops, as `/healthz` reports it and the watchdog acts on it.

Every long-running loop of a controller process is watched here: kopf's operator (its root
tasks), the GitOps scheduler, the Vault sync scheduler and the key renewal. A loop either pushes
(`beat(name)` each turn) or is pulled (`pulse()` returns the monotonic time of its last turn, or
None when its thread is not running). A loop is

- *starting* until its first heartbeat (the startup probe covers that window);
- *dead* once it has failed (`fail(name, why)`), or once a pulled loop that had been running
  reports None (its thread ended);
- *stuck* when its last heartbeat is older than its `max_silence`.

`Watchdog` checks every second: a dead loop, or one stuck for twice its limit, makes the
process exit with `EXIT_CODE` after `EXIT_GRACE_S` (during which `/healthz` answers 503 naming
the loop), so the Deployment restarts it; the exit is `os._exit`, because a hung worker thread
would otherwise keep the interpreter from ever exiting. Messages name loops, never values.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
import threading
import time
from collections.abc import Callable

__all__ = ["EXIT_CODE", "EXIT_GRACE_S", "Health", "Watchdog"]

logger = logging.getLogger(__name__)

EXIT_CODE = 70  # EX_SOFTWARE: an internal loop died; the Deployment restarts the container
EXIT_GRACE_S = 5.0
CHECK_S = 1.0

Pulse = Callable[[], float | None]


@dataclasses.dataclass
class _Loop:
    max_silence: float
    pulse: Pulse | None
    last: float | None = None
    failure: str | None = None


@dataclasses.dataclass(frozen=True)
class Verdict:
    """What is wrong right now: `dead` and `stuck` hold one message per loop."""

    dead: tuple[str, ...] = ()
    stuck: tuple[str, ...] = ()
    fatal: tuple[str, ...] = ()  # dead, or stuck for more than twice the limit

    @property
    def ok(self) -> bool:
        return not self.dead and not self.stuck


class Health:
    """The registry of watched loops (thread-safe)."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._loops: dict[str, _Loop] = {}
        self._lock = threading.Lock()

    def watch(self, name: str, *, max_silence: float, pulse: Pulse | None = None) -> None:
        """Watch a loop: pulled through `pulse`, or pushed through `beat(name)`."""
        with self._lock:
            self._loops[name] = _Loop(max_silence=max_silence, pulse=pulse)

    def beat(self, name: str) -> None:
        with self._lock:
            loop = self._loops.get(name)
            if loop is not None and loop.failure is None:
                loop.last = self._clock()

    def fail(self, name: str, why: str) -> None:
        with self._lock:
            loop = self._loops.setdefault(name, _Loop(max_silence=0.0, pulse=None))
            if loop.failure is None:
                loop.failure = why

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._loops)

    def check(self) -> Verdict:
        with self._lock:
            loops = list(self._loops.items())
        now = self._clock()
        dead: list[str] = []
        stuck: list[str] = []
        fatal: list[str] = []
        for name, loop in sorted(loops):
            problem, is_fatal = self._problem(name, loop, now)
            if problem is None:
                continue
            (dead if loop.failure is not None else stuck).append(problem)
            if is_fatal:
                fatal.append(problem)
        return Verdict(dead=tuple(dead), stuck=tuple(stuck), fatal=tuple(fatal))

    def _problem(self, name: str, loop: _Loop, now: float) -> tuple[str | None, bool]:
        if loop.pulse is not None and loop.failure is None:
            pulse = loop.pulse()
            with self._lock:
                if pulse is None and loop.last is not None:
                    loop.failure = "its thread has ended"
                elif pulse is not None:
                    loop.last = pulse
        if loop.failure is not None:
            return f"{name}: {loop.failure}", True
        if loop.last is None:
            return None, False
        silent = now - loop.last
        if silent <= loop.max_silence:
            return None, False
        message = f"{name}: no heartbeat for {silent:.0f} s (limit {loop.max_silence:.0f} s)"
        return message, silent > 2 * loop.max_silence


class Watchdog:
    """Exits the process when a loop is dead or stuck for good (see the module docstring)."""

    def __init__(self, health: Health, *, stop: threading.Event,
                 exit: Callable[[int], None] | None = None,
                 grace_s: float = EXIT_GRACE_S) -> None:
        self._health = health
        self._stop = stop
        self._exit = exit or _hard_exit
        self._grace_s = grace_s
        self._thread = threading.Thread(target=self._loop, name="sealops-watchdog",
                                        daemon=True)
        self._once = threading.Lock()

    def start(self) -> None:
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(CHECK_S):
            verdict = self._health.check()
            if verdict.fatal:
                self.terminate(verdict.fatal)
                return

    def terminate(self, reasons: tuple[str, ...]) -> None:
        """Log why, keep answering 503 for the grace period, then exit with `EXIT_CODE`."""
        if not self._once.acquire(blocking=False):
            return
        logger.error("a controller loop is dead (%s); /healthz answers 503; exiting with "
                     "status %d in %.0f s so that the process is restarted",
                     "; ".join(reasons), EXIT_CODE, self._grace_s)
        time.sleep(self._grace_s)
        self._exit(EXIT_CODE)


def _hard_exit(code: int) -> None:
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
