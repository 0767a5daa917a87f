"""The Vault sync runtime: what the kopf handlers feed and the scheduler drives.

    kopf on.event (VaultSecret, VaultStore, ClusterVaultStore, owned Secret)
        -> observe_*: remember the latest body, decide whether a run is due
        -> Scheduler (due-time queue, one lane per store) -> _work(key)
        -> reconcile.sync / a store login check -> [data of an existing Secret changed:
           `controller.rollout` rolls the opted-in workloads using it]
        -> report (status, Events) -> next run

Level-triggered: every run reads the latest body seen and compares live state with Vault, so a
lost or repeated event costs at most one extra run. When a VaultSecret runs:

    first seen (start-up or creation)     paced by `Pacer` (a burst at once, then a rate)
    spec, uid or force-sync value changed  now
    its target Secret edited or deleted    now (our own writes are recognised and skipped)
    its store's spec changed               now (with a new session)
    after success                          `sync.next_refresh(refreshInterval)` (±10 %), or
                                           never again for refreshInterval 0 until a change
    after a retryable failure              `sync.backoff` (exponential, full jitter, at least
                                           Vault's Retry-After)
    after any other failure                the next refresh (a 403 never loops hot)
    invalid spec                           when the spec changes

Peering: kopf pauses its watches when a peer with a higher priority appears; this scheduler is
not a kopf handler, so before each run it asks the shared peering gate (`controller.peering`)
and, while another replica acts, only re-checks later: a paused replica reads no Vault and
writes nothing.
"""

from __future__ import annotations

import datetime
import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any

from controller import metrics as metrics_mod
from controller import status
from controller.rollout import service as rollout
from controller.vault import bulkhead
from controller.vault import sync as vault_sync
from controller.vaultsync import context, objects, reconcile, report, scheduler, stores, target
from sealer import errors
from sealer.kube import client
from sealer.kube import errors as kerrors

logger = logging.getLogger(__name__)

JSON = dict[str, Any]
SYNC_KEY = "VaultSecret"
PAUSED_RECHECK_S = 5.0
STORE_KEY = "Store"
# Writes that change an existing Secret's data. A created Secret rolls nothing (as Reloader's
# default: pods waiting for it start once it exists), nor a deleted one (they would only fail
# to start).
ROLLING_WRITES = frozenset({"updated", "merged"})


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _newer(candidate: JSON, current: JSON | None) -> bool:
    """Is `candidate` at least as new as `current` (resourceVersions compared as integers)?"""
    if current is None:
        return True
    try:
        return int(candidate["metadata"]["resourceVersion"]) >= \
            int(current["metadata"]["resourceVersion"])
    except (KeyError, ValueError):
        return True


class Runtime:
    def __init__(self, kube: client.KubeClient, *, controller_namespace: str,
                 events: status.EventRecorder, tuning: context.Tuning | None = None,
                 now: Callable[[], datetime.datetime] = utcnow,
                 rng: random.Random | None = None,
                 gate: Callable[[str], bool] = lambda _namespace: True,
                 metrics: metrics_mod.Metrics | None = None,
                 rollouts: rollout.Rollout | None = None) -> None:
        self._gate = gate
        self._rollouts = rollouts
        tuning = tuning or context.Tuning()
        rng = rng or random.SystemRandom()
        metrics = metrics or metrics_mod.Metrics(process=False)
        self.ctx = context.Context(
            kube=kube, controller_namespace=controller_namespace, events=events,
            stores=stores.StoreCache(kube, timeout=tuning.vault_timeout_s,
                                     observer=metrics.vault_observer),
            bulkhead=bulkhead.Bulkhead(max_concurrent=tuning.lane_limit,
                                       max_waiting=tuning.lane_waiting),
            now=now, rng=rng, tuning=tuning, metrics=metrics)
        self.scheduler = scheduler.Scheduler(self._work, lane_of=self._lane_of,
                                             workers=tuning.workers,
                                             lane_limit=tuning.lane_limit)
        self.pacer = scheduler.Pacer(rate=tuning.first_sync_rate,
                                     burst=tuning.first_sync_burst, rng=rng)
        self._lock = threading.Lock()
        self._bodies: dict[tuple[str, str], JSON] = {}
        self._seen: dict[tuple[str, str], tuple[Any, ...]] = {}
        self._forced: set[tuple[str, str]] = set()
        self._attempts: dict[tuple[Any, ...], int] = {}
        self._store_marks: dict[objects.StoreRef, str] = {}

    def start(self) -> None:
        self.scheduler.start()

    def close(self) -> None:
        self.scheduler.stop()
        self.ctx.bulkhead.close()
        self.ctx.stores.close()

    # -- events --------------------------------------------------------------------------------

    def observe_secret(self, event_type: str | None, obj: JSON) -> None:
        meta = obj["metadata"]
        key = (meta["namespace"], meta["name"])
        if event_type == "DELETED" or meta.get("deletionTimestamp"):
            self._forget(key)
            return
        seen = (meta.get("uid"), meta.get("generation"), objects.force_value(obj),
                status.requested_at(obj))
        with self._lock:
            previous = self._seen.get(key)
            self._seen[key] = seen
            if _newer(obj, self._bodies.get(key)):
                self._bodies[key] = obj
            if previous is not None and previous != seen:
                self._forced.add(key)
        if previous is None:
            self.scheduler.schedule((SYNC_KEY, *key), self.pacer.delay())
        elif previous != seen:
            self.scheduler.schedule((SYNC_KEY, *key), 0.0)

    def _forget(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._bodies.pop(key, None)
            self._seen.pop(key, None)
            self._forced.discard(key)
            self._attempts.pop((SYNC_KEY, *key), None)
        self.scheduler.cancel((SYNC_KEY, *key))

    def observe_store(self, event_type: str | None, obj: JSON) -> None:
        ref = stores.ref_of(obj)
        if event_type == "DELETED":
            self.ctx.stores.forget(ref)
            with self._lock:
                self._store_marks.pop(ref, None)
            self.scheduler.cancel((STORE_KEY, ref))
            self._requeue(ref)
            return
        self.ctx.stores.observe(obj)
        mark = stores.fingerprint(obj)
        with self._lock:
            changed = self._store_marks.get(ref) != mark
            self._store_marks[ref] = mark
        if changed:
            self.scheduler.schedule((STORE_KEY, ref), 0.0)
            if event_type is not None:  # not the start-up listing: dependents sync anyway
                self._requeue(ref)

    def _requeue(self, ref: objects.StoreRef) -> None:
        with self._lock:
            bodies = list(self._bodies.items())
        for key, body in bodies:
            try:
                uses = objects.store_ref(body.get("spec") or {}, namespace=key[0]) == ref
            except errors.VaultError:
                continue
            if uses:
                self.scheduler.schedule((SYNC_KEY, *key), 0.0)

    def observe_target(self, event_type: str | None, obj: JSON) -> None:
        """A Secret we manage changed or vanished: repair it (unless the change was ours)."""
        if event_type is None:
            return  # the start-up listing; every VaultSecret syncs anyway
        meta = obj["metadata"]
        owner = target.owner_of(obj)
        if owner is None:
            return
        if event_type != "DELETED" and \
                self.ctx.written.get((meta["namespace"], meta["name"])) == meta.get(
                    "resourceVersion"):
            return
        key = (meta["namespace"], owner)
        with self._lock:
            known = key in self._bodies
        if known:
            self.scheduler.schedule((SYNC_KEY, *key), 0.0)

    # -- work ----------------------------------------------------------------------------------

    def _lane_of(self, key: Any) -> str:
        if key[0] == STORE_KEY:
            lane: str = key[1].lane
            return lane
        with self._lock:
            body = self._bodies.get((key[1], key[2]))
        try:
            return objects.store_ref((body or {}).get("spec") or {}, namespace=key[1]).lane
        except errors.VaultError:
            return ""

    def _work(self, key: Any) -> float | None:
        namespace = key[1].namespace if key[0] == STORE_KEY else key[1]
        if not self._gate(namespace or self.ctx.controller_namespace):
            return PAUSED_RECHECK_S  # another replica acts; look again later
        if key[0] == STORE_KEY:
            return self._check_store(key[1])
        return self._sync((key[1], key[2]))

    def _sync(self, key: tuple[str, str]) -> float | None:
        with self._lock:
            body = self._bodies.get(key)
            forced = key in self._forced
            self._forced.discard(key)
        if body is None:
            return None
        started = time.monotonic()
        outcome = reconcile.sync(self.ctx, body)
        self.ctx.metrics.observe_reconcile(SYNC_KEY, outcome.reason, time.monotonic() - started)
        self._changed(body, outcome)
        try:
            patched = report.vault_secret(self.ctx, body, outcome, forced=forced)
        except kerrors.ApiError as exc:
            logger.warning("VaultSecret %s/%s: writing status failed: %s", *key, exc)
            return self._backoff((SYNC_KEY, *key), cap=60.0, retry_after=None)
        if patched is not None:
            with self._lock:
                if key in self._bodies and _newer(patched, self._bodies[key]):
                    self._bodies[key] = patched
        return self._next((SYNC_KEY, *key), outcome)

    def _changed(self, body: JSON, outcome: reconcile.Outcome) -> None:
        """Roll the workloads using the target Secret when its data changed: written, and the
        data hash differs from the one in status (a repaired hand edit or a relabel rolls
        nothing)."""
        if self._rollouts is None or outcome.wrote not in ROLLING_WRITES:
            return
        if outcome.data_hash is not None and \
                outcome.data_hash == (body.get("status") or {}).get("dataHash"):
            return
        namespace, _, secret = outcome.secret.partition("/")
        self._rollouts.secret_changed(namespace, secret, source="VaultSecret")

    def _next(self, key: tuple[Any, ...], outcome: reconcile.Outcome) -> float | None:
        interval = outcome.interval_s
        if outcome.ready:
            with self._lock:
                self._attempts.pop(key, None)
            return vault_sync.next_refresh(interval, rng=self.ctx.rng) if interval else None
        if interval is None or outcome.reason == "InvalidSpec":
            return None  # wait for the spec to change
        if outcome.retryable:
            return self._backoff(key, cap=max(30.0, interval), retry_after=outcome.retry_after)
        return vault_sync.next_refresh(interval, rng=self.ctx.rng) if interval else None

    def _backoff(self, key: tuple[Any, ...], *, cap: float, retry_after: float | None) -> float:
        """Exponential backoff with full jitter; Vault's Retry-After is never cut short."""
        with self._lock:
            attempt = self._attempts.get(key, 0)
            self._attempts[key] = attempt + 1
        tuning = self.ctx.tuning
        cap = max(min(tuning.backoff_cap_s, cap), retry_after or 0.0)
        return vault_sync.backoff(attempt, rng=self.ctx.rng, base=tuning.backoff_base_s,
                                  cap=cap, retry_after=retry_after)

    def _check_store(self, ref: objects.StoreRef) -> float | None:
        """Log in through the store's session (a no-op while its token is live)."""
        try:
            body = self.ctx.stores.body(ref)
        except errors.VaultError as err:
            return self._backoff((STORE_KEY, ref), cap=60.0, retry_after=err.retry_after)
        if body is None:
            return None
        started = time.monotonic()
        try:
            entry = self.ctx.stores.entry(ref)
            self.ctx.bulkhead.run(ref.lane, entry.session.check,
                                  deadline_s=self.ctx.tuning.deadline_s)
        except errors.VaultError as err:
            failure = err
        else:
            with self._lock:
                self._attempts.pop((STORE_KEY, ref), None)
            self.ctx.metrics.observe_reconcile(ref.kind, "LoggedIn", time.monotonic() - started)
            self._report_store(body, ready=True, reason="LoggedIn",
                               message=f"logged in to {entry.config.server} with "
                                       f"{entry.config.auth.method} auth")
            return None
        self.ctx.metrics.observe_reconcile(ref.kind, failure.reason, time.monotonic() - started)
        self._report_store(body, ready=False, reason=failure.reason, message=str(failure))
        if not failure.retryable:
            return None  # a spec change (or a sync through the store) tries again
        return self._backoff((STORE_KEY, ref), cap=self.ctx.tuning.backoff_cap_s,
                             retry_after=failure.retry_after)

    def _report_store(self, body: JSON, *, ready: bool, reason: str, message: str) -> None:
        try:
            report.store(self.ctx, body, ready=ready, reason=reason, message=message)
        except kerrors.ApiError as exc:
            logger.warning("writing the status of %s %s failed: %s", body["kind"],
                           body["metadata"]["name"], exc)
