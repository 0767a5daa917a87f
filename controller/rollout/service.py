"""The rollout part of a running controller: Secret changes in, at most one stamp per change out.

    unseal / Vault sync wrote a Secret  -> secret_changed(namespace, name, source)
    -> index.users: opted-in workloads of that namespace that use it
    -> claimed by a running GitSync?  yes: deferred until the claim ends (the GitSync puts the
                                      hash into the workload it applies: one rollout)
                                      no: queued, debounced by `debounce_s` per workload
    -> patcher.ensure on a worker -> Event `SecretChanged` on the workload, metrics counter

The debounce coalesces Secrets changed together (two Secrets of one Deployment, a Vault path
feeding several keys): one stamp, one rollout. A failed patch is retried with backoff, up to
`MAX_ATTEMPTS`. Only workloads of the Secret's own namespace are ever looked at, and only those
that opted in. Paused while another replica acts (the peering gate). Messages and Events name
Secrets and workloads, never data or hashes.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from controller import metrics as metrics_mod
from controller import status
from controller.rollout import index as index_mod
from controller.rollout import patcher, refs, stamp
from controller.vaultsync import hashkey, scheduler
from sealer import errors
from sealer.kube import client

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
PAUSED_RECHECK_S = 5.0
REASON = "SecretChanged"


class Claim:
    """Workloads a running GitSync is about to apply, and the Secret changes seen meanwhile."""

    def __init__(self, workloads: frozenset[refs.WorkloadRef]) -> None:
        self.workloads = workloads
        self.deferred: dict[refs.WorkloadRef, dict[str, str]] = {}

    def touched(self, ref: refs.WorkloadRef) -> bool:
        return ref in self.deferred


class Rollout:
    def __init__(self, kube: client.KubeClient, *, controller_namespace: str,
                 events: status.EventRecorder, metrics: metrics_mod.Metrics,
                 gate: Callable[[str], bool] = lambda _namespace: True,
                 debounce_s: float = 0.2, workers: int = 4,
                 rng: random.Random | None = None) -> None:
        self._kube = kube
        self._controller_namespace = controller_namespace
        self._events = events
        self._metrics = metrics
        self._gate = gate
        self._debounce = debounce_s
        self._rng = rng or random.SystemRandom()
        self.index = index_mod.Index(kube)
        self.scheduler = scheduler.Scheduler(self._work, lane_of=lambda _key: "",
                                             workers=workers, lane_limit=workers)
        self._lock = threading.Lock()
        self._changed: dict[refs.WorkloadRef, dict[str, str]] = {}
        self._claims: list[Claim] = []
        self._attempts: dict[refs.WorkloadRef, int] = {}
        self._key: bytes | None = None

    def start(self) -> None:
        self.scheduler.start()

    def close(self) -> None:
        self.scheduler.stop()

    def hash_key(self) -> bytes:
        """The controller's data-hash key (read, or created, on first use)."""
        with self._lock:
            key = self._key
        if key is None:
            key = hashkey.load(self._kube, namespace=self._controller_namespace)
            with self._lock:
                self._key = key
        return key

    # -- inputs --------------------------------------------------------------------------------

    def observe_workload(self, event_type: str | None, obj: Mapping[str, Any]) -> None:
        self.index.observe(event_type, obj)

    def secret_changed(self, namespace: str, name: str, *, source: str) -> None:
        """The data of Secret `namespace/name` changed (written by `source`, a kind)."""
        for ref in self.index.users(namespace, name):
            with self._lock:
                claim = next((c for c in self._claims if ref in c.workloads), None)
                if claim is not None:
                    claim.deferred.setdefault(ref, {})[name] = source
                    continue
                self._changed.setdefault(ref, {})[name] = source
            self.scheduler.schedule(ref, self._debounce)

    @contextlib.contextmanager
    def claim(self, workloads: Sequence[Mapping[str, Any]]) -> Iterator[Claim]:
        """Hold back the patch path for these (opted-in) workloads while a GitSync applies
        them; changes seen meanwhile are queued when the claim ends (a no-op when the GitSync
        already applied the same hash)."""
        held = Claim(frozenset(stamp.opted_in(workloads)))
        with self._lock:
            self._claims.append(held)
        try:
            yield held
        finally:
            with self._lock:
                self._claims.remove(held)
                for ref, changes in held.deferred.items():
                    self._changed.setdefault(ref, {}).update(changes)
            for ref in held.deferred:
                self.scheduler.schedule(ref, self._debounce)

    def stamp(self, workloads: Sequence[dict[str, Any]], *, kube: client.KubeClient,
              claim: Claim) -> None:
        """Put the hash into planned workloads (the GitSync side; see `stamp`)."""
        stamp.stamp(workloads, kube=kube, key=self.hash_key(), claim=claim)

    # -- work ----------------------------------------------------------------------------------

    def _work(self, key: Any) -> float | None:
        ref: refs.WorkloadRef = key
        if not self._gate(ref.namespace):
            return PAUSED_RECHECK_S
        with self._lock:
            changes = self._changed.pop(ref, {})
        if changes:
            try:
                self._ensure(ref, changes)
            except errors.SealopsError as exc:
                return self._retry(ref, changes, exc)
        with self._lock:
            self._attempts.pop(ref, None)
            return self._debounce if ref in self._changed else None

    def _ensure(self, ref: refs.WorkloadRef, changes: dict[str, str]) -> None:
        result = patcher.ensure(self._kube, ref, changed=changes, key=self.hash_key())
        if result.action != patcher.ROLLED or result.workload is None:
            logger.debug("%s: %s after a change of Secret %s", ref, result.action,
                         ", ".join(sorted(changes)))
            return
        sources = sorted({changes[name] for name in result.secrets})
        for source in sources:
            self._metrics.observe_rollout(ref.kind, source)
        listed = ", ".join(result.secrets[:5]) + (" ..." if len(result.secrets) > 5 else "")
        message = (f"Secret {listed} changed ({', '.join(sources)}): rolling {ref.kind} "
                   f"{ref.namespace}/{ref.name}")
        self._events.post({**result.workload, "apiVersion": "apps/v1", "kind": ref.kind},
                          reason=REASON, message=message)
        logger.info("%s", message)

    def _retry(self, ref: refs.WorkloadRef, changes: dict[str, str],
               exc: errors.SealopsError) -> float | None:
        with self._lock:
            attempt = self._attempts.get(ref, 0) + 1
            self._attempts[ref] = attempt
            if attempt < MAX_ATTEMPTS and exc.retryable:
                for name, source in changes.items():
                    self._changed.setdefault(ref, {}).setdefault(name, source)
        self._metrics.observe_rollout_failure(ref.kind)
        if attempt >= MAX_ATTEMPTS or not exc.retryable:
            logger.warning("rolling %s gave up: %s", ref, exc)
            with self._lock:
                self._attempts.pop(ref, None)
            return None
        logger.warning("rolling %s failed (attempt %d): %s", ref, attempt, exc)
        return min(30.0, 2.0 ** attempt) * self._rng.uniform(0.5, 1.0)  # jittered backoff
