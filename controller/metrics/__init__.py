"""The controller's Prometheus metrics, on prometheus-client with a registry of its own.

One `Metrics` per controller process, built by `controller.operator` and handed to whoever
observes something (a context object, no module globals): the SealedSecret reconcile, the
GitOps and Vault runtimes, the HTTP server, the kopf event handlers (object conditions). The
`/metrics` endpoint (`controller.http.endpoints`) serves `render()`. Every family is listed in
the README's "Metrics" table; `FAMILIES` pins the names.

Label values are kinds, object identities (namespace, name), store identities, public key ids,
the HTTP paths we serve, and reasons chosen by our own code; never a value, a token, a
message or anything else a tenant wrote besides the names Kubernetes already shows.

Series of one object (conditions, sealed values, GitSync object counters) are removed when the
object is deleted (`forget`), so a deleted object leaves no stale series behind.
"""

from __future__ import annotations

import contextlib
import datetime
import importlib.metadata
import platform
from collections.abc import Callable, Iterable, Mapping

import prometheus_client
from prometheus_client import exposition

from controller.metrics import collectors
from sealer.crypto import keyring, keys

__all__ = ["CONTENT_TYPE", "FAMILIES", "GITSYNC_STAGES", "Metrics", "VaultObserver",
           "key_infos"]

CONTENT_TYPE = exposition.CONTENT_TYPE_PLAIN_0_0_4
GITSYNC_STAGES = ("fetch", "render", "secrets", "apply", "prune")
# Seconds: a SealedSecret opens in milliseconds, a GitSync may take minutes.
RECONCILE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
                     60.0, 120.0, 300.0)
UNSEAL_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
FAMILIES = (
    "sealops_build_info", "sealops_condition", "sealops_reconcile_duration_seconds",
    "sealops_unseal_total", "sealops_unseal_duration_seconds", "sealops_queue_depth",
    "sealops_http_requests_total", "sealops_gitsync_stage_duration_seconds",
    "sealops_gitsync_objects_applied_total", "sealops_gitsync_objects_pruned_total",
    "sealops_vault_requests_total", "sealops_vault_logins_total",
    "sealops_vault_token_renewals_total", "sealops_key_generations",
    "sealops_key_generation_created_timestamp_seconds", "sealops_key_renewal_period_seconds",
    "sealops_sealed_values",
)
KeySource = Callable[[], Iterable[collectors.KeyInfo]]


def key_infos(ring: keyring.Keyring) -> list[collectors.KeyInfo]:
    """What `KeyCollector` exports of a keyring: key ids, creation times, native or Bitnami."""
    found = []
    for key in ring:
        created = key.created_at
        found.append(collectors.KeyInfo(
            key_id=key.key_id_hex, created_s=created.timestamp() if created else None,
            kind="sealops" if isinstance(key, keys.KeyGeneration) else "bitnami"))
    return found


def _version() -> str:
    try:
        return importlib.metadata.version("sealops")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


class Metrics:
    """Every metric family of the controller; thread-safe (prometheus-client's own locks)."""

    def __init__(self, *, process: bool = True, version: str | None = None) -> None:
        # No `<counter>_created` series: they double the page (benchmarks/metrics.py) and no
        # query of ours reads them. prometheus-client only has this process-wide switch.
        prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = prometheus_client.CollectorRegistry()
        reg = self.registry
        if process:
            prometheus_client.ProcessCollector(registry=reg)
            prometheus_client.PlatformCollector(registry=reg)
        build = prometheus_client.Gauge(
            "sealops_build_info", "The controller's version (always 1).",
            ["version", "python_version"], registry=reg)
        build.labels(version or _version(), platform.python_version()).set(1)
        self.objects = collectors.ObjectCollector()
        self.keys = collectors.KeyCollector()
        reg.register(self.objects)
        reg.register(self.keys)
        self._reconcile = prometheus_client.Histogram(
            "sealops_reconcile_duration_seconds",
            "Time to reconcile one object, by kind and outcome (the Ready reason).",
            ["kind", "outcome"], buckets=RECONCILE_BUCKETS, registry=reg)
        self._unseal = prometheus_client.Counter(
            "sealops_unseal_total", "SealedSecret reconciles by outcome.", ["outcome"],
            registry=reg)
        self._unseal_time = prometheus_client.Histogram(
            "sealops_unseal_duration_seconds", "Time to reconcile one SealedSecret.",
            buckets=UNSEAL_BUCKETS, registry=reg)
        self._generations = prometheus_client.Gauge(
            "sealops_key_generations", "Key generations loaded.", registry=reg)
        self._queue = prometheus_client.Gauge(
            "sealops_queue_depth", "SealedSecret reconciles waiting or running.", registry=reg)
        self._http = prometheus_client.Counter(
            "sealops_http_requests_total", "HTTP requests by endpoint and code.",
            ["endpoint", "code"], registry=reg)
        self._stages = prometheus_client.Histogram(
            "sealops_gitsync_stage_duration_seconds",
            "Time spent in each GitSync stage (fetch, render, secrets, apply, prune).",
            ["stage"], buckets=RECONCILE_BUCKETS, registry=reg)
        self._applied = prometheus_client.Counter(
            "sealops_gitsync_objects_applied_total",
            "Objects applied by a GitSync, by action (created, configured, unchanged).",
            ["namespace", "name", "action"], registry=reg)
        self._pruned = prometheus_client.Counter(
            "sealops_gitsync_objects_pruned_total", "Objects pruned by a GitSync.",
            ["namespace", "name"], registry=reg)
        self._vault_requests = prometheus_client.Counter(
            "sealops_vault_requests_total",
            "HTTP requests to Vault by store and status code (error: no answer).",
            ["store", "code"], registry=reg)
        self._vault_logins = prometheus_client.Counter(
            "sealops_vault_logins_total", "Vault logins by store and outcome.",
            ["store", "outcome"], registry=reg)
        self._vault_renewals = prometheus_client.Counter(
            "sealops_vault_token_renewals_total", "Vault token renewals by store and outcome.",
            ["store", "outcome"], registry=reg)
        self._rollouts = prometheus_client.Counter(
            "sealops_rollouts_total",
            "Workloads stamped to roll because a Secret they use changed, by workload kind and "
            "by what wrote the Secret.", ["kind", "source"], registry=reg)
        self._rollout_failures = prometheus_client.Counter(
            "sealops_rollout_failures_total", "Failed attempts to stamp a workload.",
            ["kind"], registry=reg)

    def render(self) -> bytes:
        """The Prometheus text exposition of every family."""
        return exposition.generate_latest(self.registry)

    # -- SealedSecrets, keys, HTTP --------------------------------------------------------

    def observe_unseal(self, outcome: str, seconds: float) -> None:
        self._unseal.labels(outcome).inc()
        self._unseal_time.observe(seconds)
        self.observe_reconcile("SealedSecret", outcome, seconds)

    def set_generations(self, count: int) -> None:
        self._generations.set(count)

    def watch_keys(self, source: KeySource, *,
                   renewal: datetime.timedelta | None) -> None:
        """Export the key generations `source` lists at each scrape (and the renewal period)."""
        self.keys.watch(source, renewal_s=renewal.total_seconds() if renewal else None)

    def set_sealed_values(self, kind: str, namespace: str, name: str,
                          by_key: Mapping[str, int]) -> None:
        """How many values of one SealedSecret each key generation (key id hex) opened."""
        self.objects.set_values((kind, namespace, name), by_key)

    def queue_delta(self, delta: int) -> None:
        self._queue.inc(delta)

    def observe_http(self, endpoint: str, code: int) -> None:
        self._http.labels(endpoint, str(code)).inc()

    # -- rollouts ---------------------------------------------------------------------------

    def observe_rollout(self, kind: str, source: str) -> None:
        """A workload of `kind` was stamped because a Secret written by `source` changed."""
        self._rollouts.labels(kind, source).inc()

    def observe_rollout_failure(self, kind: str) -> None:
        self._rollout_failures.labels(kind).inc()

    # -- every kind -------------------------------------------------------------------------

    def observe_reconcile(self, kind: str, outcome: str, seconds: float) -> None:
        self._reconcile.labels(kind, outcome).observe(max(0.0, seconds))

    def observe_object(self, kind: str, body: Mapping[str, object], *,
                       deleted: bool = False) -> None:
        """Record an object's status conditions from a watch event (or forget it)."""
        meta = body.get("metadata")
        if not isinstance(meta, Mapping):
            return
        namespace, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
        if deleted or meta.get("deletionTimestamp"):
            self.forget(kind, namespace, name)
            return
        status = body.get("status")
        conditions = status.get("conditions") if isinstance(status, Mapping) else None
        self.objects.set_conditions((kind, namespace, name), collectors.conditions_of(conditions))

    def forget(self, kind: str, namespace: str, name: str) -> None:
        """Drop every series of a deleted object."""
        self.objects.forget((kind, namespace, name))
        if kind == "GitSync":
            for action in ("created", "configured", "unchanged"):
                _remove(self._applied, namespace, name, action)
            _remove(self._pruned, namespace, name)

    # -- GitSync ----------------------------------------------------------------------------

    def observe_gitsync(self, namespace: str, name: str, *, outcome: str, seconds: float,
                        stages: Iterable[tuple[str, float]], applied: Mapping[str, int],
                        pruned: int) -> None:
        self.observe_reconcile("GitSync", outcome, seconds)
        for stage, spent in stages:
            self._stages.labels(stage).observe(max(0.0, spent))
        for action, count in applied.items():
            self._applied.labels(namespace, name, action).inc(count)
        self._pruned.labels(namespace, name).inc(pruned)

    # -- Vault ------------------------------------------------------------------------------

    def vault_observer(self, store: str) -> VaultObserver:
        return VaultObserver(self, store)


class VaultObserver:
    """What one Vault session reports (`controller.vault.client.Observer`), for one store."""

    def __init__(self, metrics: Metrics, store: str) -> None:
        self._metrics = metrics
        self._store = store
        # Series exist from the first session on, so a rate() over them is 0, not absent.
        metrics._vault_logins.labels(store, "Succeeded")
        metrics._vault_renewals.labels(store, "Succeeded")

    def request(self, code: str) -> None:
        self._metrics._vault_requests.labels(self._store, code).inc()

    def login(self, outcome: str) -> None:
        self._metrics._vault_logins.labels(self._store, outcome).inc()

    def renewal(self, outcome: str) -> None:
        self._metrics._vault_renewals.labels(self._store, outcome).inc()


def _remove(metric: prometheus_client.Counter, *labels: str) -> None:
    with contextlib.suppress(KeyError):
        metric.remove(*labels)
