"""Bounded concurrency per Vault store, so a hung Vault never blocks unrelated stores.

How the controller uses it: keep one `Bulkhead` for the process, and in each (async) kopf sync
handler run the blocking work through it from a worker thread:

    data = await asyncio.to_thread(
        vault_bulkhead.run, store_key, lambda: sync.fetch(session, ...), deadline_s=30.0)

Each store key gets its own small thread pool (`max_concurrent` workers) and an admission limit
(`max_concurrent + max_waiting` calls in flight). A call that cannot be admitted fails at once
with `VaultError(reason="VaultBusy")`; a call that outlives `deadline_s` fails with
`VaultError(reason="VaultUnavailable")` while its worker finishes in the background, bounded by
the session's HTTP timeouts, and keeps its slot until then. So a Vault that hangs saturates only
its own store's slots; other stores, and the event loop, keep going. Both errors are retryable:
schedule the retry with `sync.backoff`.
"""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Callable
from typing import TypeVar

from sealer import errors

__all__ = [
    "Bulkhead",
]

T = TypeVar("T")


class _Lane:
    def __init__(self, key: str, *, max_concurrent: int, max_waiting: int) -> None:
        self.pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=max_concurrent, thread_name_prefix=f"vault-{key[:40]}")
        self.limit = max_concurrent + max_waiting
        self.in_flight = 0
        self._lock = threading.Lock()

    def admit(self) -> bool:
        with self._lock:
            if self.in_flight >= self.limit:
                return False
            self.in_flight += 1
            return True

    def release(self) -> None:
        with self._lock:
            self.in_flight -= 1


class Bulkhead:
    """Per-store thread pools with admission control and a per-call deadline."""

    def __init__(self, *, max_concurrent: int = 4, max_waiting: int = 16) -> None:
        if max_concurrent < 1 or max_waiting < 0:
            raise ValueError("max_concurrent must be >= 1 and max_waiting >= 0")
        self._max_concurrent = max_concurrent
        self._max_waiting = max_waiting
        self._lanes: dict[str, _Lane] = {}
        self._lock = threading.Lock()
        self._closed = False

    def _lane(self, key: str) -> _Lane:
        with self._lock:
            if self._closed:
                raise RuntimeError("Bulkhead is closed")
            lane = self._lanes.get(key)
            if lane is None:
                lane = _Lane(key, max_concurrent=self._max_concurrent,
                             max_waiting=self._max_waiting)
                self._lanes[key] = lane
            return lane

    def run(self, key: str, fn: Callable[[], T], *, deadline_s: float) -> T:
        """Run `fn` in `key`'s lane and wait at most `deadline_s` for its result."""
        lane = self._lane(key)
        if not lane.admit():
            raise errors.VaultError(f"too many Vault calls in flight for store {key}",
                                    reason="VaultBusy")

        def guarded() -> T:
            try:
                return fn()
            finally:
                lane.release()

        try:
            future = lane.pool.submit(guarded)
        except RuntimeError:
            lane.release()
            raise
        try:
            return future.result(timeout=deadline_s)
        except concurrent.futures.TimeoutError:
            pass
        if future.cancel():  # it never started, so `guarded` will not release its slot
            lane.release()
        raise errors.VaultError(f"Vault calls for store {key} exceeded {deadline_s}s",
                                reason="VaultUnavailable")

    def in_flight(self, key: str) -> int:
        """Calls admitted and not finished for `key` (for metrics and tests)."""
        with self._lock:
            lane = self._lanes.get(key)
        return 0 if lane is None else lane.in_flight

    def close(self, *, wait: bool = False) -> None:
        with self._lock:
            self._closed = True
            lanes, self._lanes = list(self._lanes.values()), {}
        for lane in lanes:
            lane.pool.shutdown(wait=wait, cancel_futures=True)
