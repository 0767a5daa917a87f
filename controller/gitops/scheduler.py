"""When each GitSync runs: our own scheduler thread and a small worker pool.

Why not `kopf.daemon`/`kopf.timer`: kopf puts a finalizer on every object with a daemon or
timer, so deleting a GitSync would hang whenever the controller is down. Our `on.event` handler
only calls `notify(key, trigger)`; kopf stores nothing on the object.

Rules (the pure part is `State`, which tests drive with a fake clock):
- a new key, or a new `trigger` (generation, reconcile-requested annotation), runs now;
- at most one run per key at a time: a trigger during a run queues exactly one more run;
- after a run: success -> again after its interval (re-applying reverts drift); failure ->
  after min(interval, 5 s * 2^(failures-1), 5 min); `interval=None` (suspended, refused spec)
  -> only when a new trigger arrives;
- `gate(key)` is asked before each run (peering: a paused replica does not run) and a closed
  gate re-checks after a few seconds.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable, Hashable
from concurrent import futures

from controller.gitops import reconciler

__all__ = ["Scheduler", "State", "retry_delay"]

logger = logging.getLogger(__name__)

Key = tuple[str, str]
GATE_RECHECK_S = 5.0
RETRY_BASE_S = 5.0
RETRY_CAP_S = 300.0
IDLE_WAIT_S = 60.0


def retry_delay(failures: int, *, interval: float) -> float:
    """Seconds before the next try after `failures` consecutive failures (>= 1)."""
    return min(interval, RETRY_CAP_S, RETRY_BASE_S * 2.0 ** min(max(failures - 1, 0), 16))


@dataclasses.dataclass
class _Entry:
    trigger: Hashable
    due: float | None
    running: bool = False
    again: bool = False
    failures: int = 0
    gone: bool = False


class State:
    """The schedule of every known key. Not thread-safe: `Scheduler` holds a lock around it."""

    def __init__(self) -> None:
        self._entries: dict[Key, _Entry] = {}
        self._heap: list[tuple[float, int, Key]] = []
        self._seq = itertools.count()

    def notify(self, key: Key, trigger: Hashable, *, now: float) -> bool:
        """Record an event; True when the key should run now."""
        entry = self._entries.get(key)
        if entry is not None and entry.trigger == trigger:
            return False
        if entry is None:
            entry = self._entries[key] = _Entry(trigger=trigger, due=None)
        entry.trigger = trigger
        if entry.running:
            entry.again = True
            return False
        self._schedule(key, entry, now)
        return True

    def forget(self, key: Key) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            entry.gone = True

    def take_due(self, *, now: float) -> list[Key]:
        """Keys due at `now`, marked running."""
        due: list[Key] = []
        while self._heap and self._heap[0][0] <= now:
            when, _, key = heapq.heappop(self._heap)
            entry = self._entries.get(key)
            if entry is None or entry.running or entry.due != when:
                continue  # forgotten, running, or rescheduled since
            entry.running, entry.due = True, None
            due.append(key)
        return due

    def finished(self, key: Key, result: reconciler.Result, *, now: float) -> None:
        entry = self._entries.get(key)
        if entry is None or entry.gone:
            return
        entry.running = False
        entry.failures = 0 if result.ok else entry.failures + 1
        if entry.again:
            entry.again = False
            self._schedule(key, entry, now)
        elif result.interval is not None:
            delay = result.interval if result.ok else retry_delay(entry.failures,
                                                                 interval=result.interval)
            self._schedule(key, entry, now + delay)

    def next_due(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def _schedule(self, key: Key, entry: _Entry, when: float) -> None:
        entry.due = when
        heapq.heappush(self._heap, (when, next(self._seq), key))


class Scheduler:
    """Runs `run(key)` per the `State` rules on `workers` threads."""

    def __init__(self, run: Callable[[Key], reconciler.Result], *, workers: int = 2,
                 gate: Callable[[Key], bool] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._run = run
        self._gate = gate
        self._clock = clock
        self._state = State()
        self._cond = threading.Condition()
        self._stopped = threading.Event()
        self._pool = futures.ThreadPoolExecutor(max_workers=workers,
                                                thread_name_prefix="sealops-gitsync")
        self._thread = threading.Thread(target=self._loop, name="sealops-gitops", daemon=True)
        self._pulse = 0.0

    def pulse(self) -> float | None:
        """Monotonic time of the dispatcher's last turn; None unless it runs (`/healthz`)."""
        return self._pulse if self._thread.is_alive() else None

    def start(self) -> None:
        if not self._thread.is_alive():
            self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        with self._cond:
            self._cond.notify_all()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def notify(self, key: Key, trigger: Hashable) -> None:
        with self._cond:
            if self._state.notify(key, trigger, now=self._clock()):
                self._cond.notify_all()

    def forget(self, key: Key) -> None:
        with self._cond:
            self._state.forget(key)

    def _loop(self) -> None:
        while not self._stopped.is_set():
            self._pulse = time.monotonic()
            with self._cond:
                keys = self._state.take_due(now=self._clock())
                if not keys:
                    upcoming = self._state.next_due()
                    wait = IDLE_WAIT_S if upcoming is None else upcoming - self._clock()
                    self._cond.wait(timeout=max(0.0, min(wait, IDLE_WAIT_S)))
                    continue
            for key in keys:
                try:
                    self._pool.submit(self._execute, key)
                except RuntimeError:  # shut down meanwhile
                    return

    def _execute(self, key: Key) -> None:
        result = reconciler.Result(GATE_RECHECK_S, ok=True)
        try:
            if self._gate is None or self._gate(key):
                result = self._run(key)
        except Exception as exc:  # keep scheduling; the type only (a message may hold values)
            logger.error("GitSync %s/%s: reconcile crashed (%s)", key[0], key[1],
                         type(exc).__name__)
            result = reconciler.Result(RETRY_CAP_S, ok=False)
        with self._cond:
            self._state.finished(key, result, now=self._clock())
            self._cond.notify_all()
