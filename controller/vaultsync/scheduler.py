"""When Vault syncs run: a due-time queue, one dispatcher thread, a worker pool, lanes, a pacer.

Owns timing only; `work(key)` does the job and returns the delay until the key's next run (None:
not again until asked). Why our own queue instead of kopf timers or daemons: a timer runs at a
fixed interval per handler, and daemons are one task per object with a finalizer on it; a
queue keeps nothing on our objects, computes each next run from the object's own interval with
jitter, and coalesces events.

    * A key has at most one pending due time; `schedule` keeps the earlier one.
    * A key never runs twice at once. A request for "now" that arrives while it runs makes it
      run again straight after (client-go's dirty set), so no event is lost.
    * Each key runs in a lane (its Vault store). At most `lane_limit` keys of a lane run at
      once; the rest wait parked, not in a worker. A hung Vault therefore ties up at most
      `lane_limit` of the `workers` threads and every other store keeps syncing.
    * `Pacer` spreads first syncs: after a burst it admits `rate` per second, so 1,000 objects
      seen at start-up do not reach Vault in the same second, yet a single new object syncs at
      once.
"""

from __future__ import annotations

import collections
import concurrent.futures
import heapq
import itertools
import logging
import random
import threading
import time
from collections.abc import Callable, Hashable

logger = logging.getLogger(__name__)

Key = Hashable
FALLBACK_DELAY_S = 60.0
PULSE_S = 30.0  # the dispatcher turns at least this often, so `/healthz` sees it alive


class Pacer:
    """A token bucket handing out start delays: `burst` at once, then `rate` per second."""

    def __init__(self, *, rate: float, burst: int, rng: random.Random,
                 now: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self._rate, self._burst, self._rng, self._now = rate, burst, rng, now
        self._tat = float("-inf")
        self._lock = threading.Lock()

    def delay(self) -> float:
        with self._lock:
            now = self._now()
            self._tat = max(self._tat, now) + 1.0 / self._rate
            wait = max(0.0, self._tat - now - self._burst / self._rate)
        return wait + self._rng.uniform(0.0, 1.0 / self._rate) if wait else wait


class Scheduler:
    def __init__(self, work: Callable[[Key], float | None], *, lane_of: Callable[[Key], str],
                 workers: int, lane_limit: int,
                 now: Callable[[], float] = time.monotonic) -> None:
        if workers < 1 or lane_limit < 1:
            raise ValueError("workers and lane_limit must be >= 1")
        self._work, self._lane_of, self._now = work, lane_of, now
        self._lane_limit = lane_limit
        self._cv = threading.Condition()
        self._heap: list[tuple[float, int, Key]] = []
        self._seq = itertools.count()
        self._due: dict[Key, float] = {}
        self._running: set[Key] = set()
        self._dirty: set[Key] = set()
        self._cancelled: set[Key] = set()
        self._lanes: collections.Counter[str] = collections.Counter()
        self._parked: dict[str, collections.deque[Key]] = {}
        self._parked_keys: set[Key] = set()
        self._pool = concurrent.futures.ThreadPoolExecutor(workers,
                                                           thread_name_prefix="vault-sync")
        self._thread = threading.Thread(target=self._loop, name="vault-scheduler", daemon=True)
        self._stopped = False
        self._pulse = 0.0

    def pulse(self) -> float | None:
        """Monotonic time of the dispatcher's last turn; None unless it runs (`/healthz`)."""
        return self._pulse if self._thread.is_alive() else None

    # -- requests ----------------------------------------------------------------------------

    def schedule(self, key: Key, delay: float = 0.0) -> None:
        """Run `key` within `delay` seconds (an earlier pending run wins)."""
        with self._cv:
            self._cancelled.discard(key)
            if key in self._running:
                if delay <= 0:
                    self._dirty.add(key)
                return
            if key in self._parked_keys:
                return
            self._set_due(key, self._now() + max(0.0, delay))

    def cancel(self, key: Key) -> None:
        """Forget `key`: its pending run is dropped and a running one is not rescheduled."""
        with self._cv:
            self._due.pop(key, None)
            self._dirty.discard(key)
            if key in self._running or key in self._parked_keys:
                self._cancelled.add(key)

    def pending(self) -> int:
        with self._cv:
            return len(self._due) + len(self._parked_keys) + len(self._running)

    def _set_due(self, key: Key, due: float, *, force: bool = False) -> None:
        current = self._due.get(key)
        if current is not None and current <= due and not force:
            return
        self._due[key] = due
        heapq.heappush(self._heap, (due, next(self._seq), key))
        self._cv.notify()

    # -- running -------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._cv:
            self._stopped = True
            self._cv.notify_all()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _loop(self) -> None:
        with self._cv:
            while not self._stopped:
                self._pulse = time.monotonic()
                wait = self._dispatch_due()
                self._cv.wait(PULSE_S if wait is None else min(wait, PULSE_S))

    def _dispatch_due(self) -> float | None:
        """Start every due key that has a lane slot; return seconds until the next due."""
        while self._heap:
            due, _, key = self._heap[0]
            wait = due - self._now()
            if wait > 0:
                return wait
            heapq.heappop(self._heap)
            if self._due.get(key) != due:
                continue  # superseded by an earlier (or cancelled) request
            del self._due[key]
            self._start_or_park(key)
        return None

    def _start_or_park(self, key: Key) -> None:
        if key in self._running:
            self._dirty.add(key)
            return
        try:
            lane = self._lane_of(key)
        except Exception:  # a broken lane lookup must not stop the dispatcher
            logger.exception("cannot find the lane of %s", key)
            lane = ""
        if self._lanes[lane] >= self._lane_limit:
            self._parked.setdefault(lane, collections.deque()).append(key)
            self._parked_keys.add(key)
            return
        self._lanes[lane] += 1
        self._running.add(key)
        try:
            self._pool.submit(self._run, key, lane)
        except RuntimeError:  # shut down
            self._running.discard(key)
            self._lanes[lane] -= 1

    def _run(self, key: Key, lane: str) -> None:
        delay: float | None = FALLBACK_DELAY_S
        try:
            delay = self._work(key)
        except Exception:  # keep the queue alive; retry later
            logger.exception("Vault sync of %s failed unexpectedly", key)
        with self._cv:
            self._finish(key, lane, delay)

    def _finish(self, key: Key, lane: str, delay: float | None) -> None:
        self._running.discard(key)
        self._lanes[lane] -= 1
        if key in self._cancelled:
            self._cancelled.discard(key)
            self._dirty.discard(key)
        elif key in self._dirty:
            self._dirty.discard(key)
            self._set_due(key, self._now(), force=True)
        elif delay is not None:
            self._set_due(key, self._now() + delay, force=True)
        self._unpark(lane)
        self._cv.notify()

    def _unpark(self, lane: str) -> None:
        parked = self._parked.get(lane)
        while parked and self._lanes[lane] < self._lane_limit:
            key = parked.popleft()
            self._parked_keys.discard(key)
            if key in self._cancelled:
                self._cancelled.discard(key)
                continue
            self._start_or_park(key)
        if parked is not None and not parked:
            del self._parked[lane]
