"""One sync of one object: read its Vault paths and build the Secret data, all or nothing.

Called by the Vault sync handler: `fetch` inside `bulkhead.Bulkhead.run` (so a hung Vault
blocks only its own store), then `mapping.data_hash` to skip unchanged writes. `next_refresh`
and `backoff` schedule the next attempt; both take the `rng` so tests are deterministic.

`fetch` never returns partial data: the first failing read or mapping error raises
`VaultError` and the caller must keep the last-good Secret as it is (no write, no delete).
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Mapping
from typing import Protocol

from controller.vault import mapping, store
from sealer import errors

__all__ = [
    "FetchResult",
    "Reader",
    "backoff",
    "fetch",
    "next_refresh",
]

FIRST_SYNC_SPREAD = 0.1
FIRST_SYNC_MAX_S = 30.0
REFRESH_JITTER = 0.1


class Reader(Protocol):
    """What `fetch` needs from a session; `client.VaultSession` is the real one."""

    def read(self, path: str, *, version: int | None = None) -> mapping.ReadResult: ...


@dataclasses.dataclass(frozen=True, repr=False)
class FetchResult:
    """The full Secret data and, per distinct (path, requested version), the version read."""

    data: dict[str, bytes]
    versions: tuple[tuple[str, int | None], ...]

    def __repr__(self) -> str:
        return f"FetchResult(keys={sorted(self.data)}, versions={self.versions})"


def fetch(session: Reader, *, spec: Mapping[str, object], namespace: str,
          store: store.StoreConfig) -> FetchResult:
    """Read every distinct (path, version) of `spec` once and build the Secret data.

    Paths are checked against the store's `pathPrefix` for `namespace` before anything is
    read. Admission (`store.admits`) is the caller's job: it needs the namespace's labels.
    """
    plan = mapping.parse_spec(spec).map_paths(
        lambda path: mapping.resolve_path(store.path_prefix, namespace=namespace, path=path))
    if store.kv_version == 1 and any(version is not None for _, version in plan.reads()):
        raise errors.VaultError("KV v1 has no versions: remove remoteRef.version",
                                reason="InvalidSpec", retryable=False)
    results = {(path, version): session.read(path, version=version)
               for path, version in plan.reads()}
    data = mapping.build_data(plan, results)
    return FetchResult(data=data, versions=tuple(
        (path, result.version) for (path, _), result in results.items()))


def next_refresh(interval_s: float, *, rng: random.Random, first: bool = False) -> float:
    """Seconds until the next sync: `interval_s` ±10 %.

    With `first=True` (the first sync after the controller starts or the object appears) a
    delay in [0, min(10 % of the interval, 30 s)), so a restart does not hit Vault with every
    object at once yet no Secret waits long.
    """
    if interval_s <= 0:
        raise ValueError("interval_s must be positive")
    if first:
        return rng.uniform(0.0, min(interval_s * FIRST_SYNC_SPREAD, FIRST_SYNC_MAX_S))
    return interval_s * rng.uniform(1.0 - REFRESH_JITTER, 1.0 + REFRESH_JITTER)


def backoff(attempt: int, *, rng: random.Random, base: float = 1.0, cap: float = 300.0,
            retry_after: float | None = None) -> float:
    """Seconds before retry number `attempt` (0-based): exponential with full jitter.

    Uniform in [0, min(cap, base * 2**attempt)]. A `retry_after` from Vault (429) is a floor:
    the delay is at least min(retry_after, cap), plus up to `base` of jitter so clients told
    the same Retry-After do not return in lockstep.
    """
    if attempt < 0 or base <= 0 or cap <= 0:
        raise ValueError("attempt must be >= 0 and base, cap > 0")
    ceiling = min(cap, base * 2.0 ** min(attempt, 64))
    delay = rng.uniform(0.0, ceiling)
    if retry_after is not None and retry_after > 0:
        floor = min(retry_after, cap)
        if delay < floor:
            delay = floor + rng.uniform(0.0, base)
    return delay
