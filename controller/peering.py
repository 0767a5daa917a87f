"""Is this replica the one that acts? The gate of every loop that kopf does not drive.

kopf pauses a replica's handlers when a live peer with a higher priority exists, but the
GitOps and Vault schedulers and the key renewal are threads of our own, so they ask the same
question before each run: it reads
the KopfPeering (or ClusterKopfPeering) that kopf keeps, and stays idle while any live peer
(lastseen + lifetime in the future) has a higher priority than ours. Priorities are random
31-bit numbers (see `controller.operator`), so an equal priority is our own entry. Until kopf
has started (and told us our priority) the gate is closed. Answers are cached for a few
seconds; a failure to read the peering object closes the gate for that check.
"""

from __future__ import annotations

import datetime
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from sealer.kube import client
from sealer.kube import errors as kerrors

__all__ = ["CLUSTER_PEERINGS", "KOPF_PEERINGS", "Gate", "blocked_by"]

KOPF_PEERINGS = client.Resource("kopf.dev", "v1", "KopfPeering", "kopfpeerings", True)
CLUSTER_PEERINGS = client.Resource("kopf.dev", "v1", "ClusterKopfPeering",
                                   "clusterkopfpeerings", False)
CACHE_S = 5.0


def blocked_by(peers: Mapping[str, Any], *, priority: int, now: datetime.datetime) -> bool:
    """True when a live peer in kopf's peering `status` has a higher priority."""
    for info in peers.values():
        if not isinstance(info, Mapping):
            continue
        try:
            seen = datetime.datetime.fromisoformat(str(info.get("lastseen")))
            lifetime = datetime.timedelta(seconds=int(info.get("lifetime", 60)))
            other = int(info.get("priority", 0))
        except (TypeError, ValueError):
            continue
        if seen.tzinfo is None:
            seen = seen.replace(tzinfo=datetime.UTC)
        if seen + lifetime > now and other > priority:
            return True
    return False


class Gate:
    def __init__(self, kube: client.KubeClient, *, peering_name: str, clusterwide: bool,
                 now: Callable[[], datetime.datetime],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._kube = kube
        self._name = peering_name
        self._clusterwide = clusterwide
        self._now = now
        self._clock = clock
        self._priority: int | None = None
        self._cache: dict[str | None, tuple[float, bool]] = {}
        self._lock = threading.Lock()

    def started(self, priority: int) -> None:
        with self._lock:
            self._priority = priority
            self._cache.clear()

    def open_for(self, namespace: str) -> bool:
        scope = None if self._clusterwide else namespace
        with self._lock:
            priority = self._priority
            cached = self._cache.get(scope)
        if priority is None:
            return False
        if cached is not None and self._clock() - cached[0] < CACHE_S:
            return cached[1]
        answer = self._ask(scope, priority)
        with self._lock:
            self._cache[scope] = (self._clock(), answer)
        return answer

    def _ask(self, scope: str | None, priority: int) -> bool:
        res = CLUSTER_PEERINGS if scope is None else KOPF_PEERINGS
        try:
            obj = self._kube.get(res, self._name, namespace=scope)
        except kerrors.ApiError:
            return False
        peers = (obj or {}).get("status") or {}
        return not blocked_by(peers, priority=priority, now=self._now())
