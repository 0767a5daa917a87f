"""What every Vault sync shares: clients, caches, tuning, and the few maps kept in memory.

Built once by `controller.vaultsync.runtime.Runtime` and passed to `reconcile` and `report`
(a context object instead of globals). Nothing in it is persisted: after a restart every
VaultSecret is synced afresh (paced), which rebuilds it.
"""

from __future__ import annotations

import dataclasses
import datetime
import random
import threading
from collections.abc import Callable

from controller import metrics as metrics_mod
from controller import status
from controller.vault import bulkhead
from controller.vaultsync import hashkey, stores
from sealer.kube import client


@dataclasses.dataclass(frozen=True)
class Tuning:
    """Concurrency and timing of Vault sync (defaults sized for ~1,000 objects per store)."""

    workers: int = 16
    lane_limit: int = 8              # syncs of one store at once (<= workers / 2)
    lane_waiting: int = 8            # Bulkhead admission beyond lane_limit
    vault_timeout_s: float = 5.0     # per HTTP request to Vault (hvac's default is 30 s)
    deadline_s: float = 20.0         # one sync's Vault reads, login included
    first_sync_rate: float = 150.0   # first syncs per second after the burst
    first_sync_burst: int = 30
    backoff_base_s: float = 1.0
    backoff_cap_s: float = 300.0


@dataclasses.dataclass
class Context:
    kube: client.KubeClient
    controller_namespace: str
    events: status.EventRecorder
    stores: stores.StoreCache
    bulkhead: bulkhead.Bulkhead
    now: Callable[[], datetime.datetime]
    rng: random.Random
    tuning: Tuning
    metrics: metrics_mod.Metrics = dataclasses.field(
        default_factory=lambda: metrics_mod.Metrics(process=False))
    # resourceVersion of every target Secret we wrote last, so its watch event is known as ours.
    written: dict[tuple[str, str], str] = dataclasses.field(default_factory=dict)
    _hash_key: bytes | None = None
    _hash_lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def hash_key(self) -> bytes:
        """The data-hash key, read (or created) on first use."""
        with self._hash_lock:
            if self._hash_key is None:
                self._hash_key = hashkey.load(self.kube, namespace=self.controller_namespace)
            return self._hash_key
