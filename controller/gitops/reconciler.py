"""Reconciling one GitSync: read it, fetch its source, run the pipeline, report. No kopf.

    read the GitSync (gone or suspended -> nothing) -> parse spec and policy
    -> its dependencies (`dependencies.check`): a cycle or one not Ready at its current
       revision -> Ready=False DependencyCycle / DependencyNotReady, nothing fetched, applied
       or pruned, and another look after `dependencies.REQUEUE_S`
    -> with `spec.kubeConfig`, a client of that remote cluster (`remote`; reason
       KubeConfigInvalid when its Secret is missing or refused), impersonating
       `spec.serviceAccountName` there; else
    -> the identity of the sync (`spec.service_account_for`): the named ServiceAccount must
       exist (read with the controller's own client), else Ready=False with
       ServiceAccountNotFound (or ServiceAccountUnavailable when it cannot be read) and
       nothing is fetched, applied or pruned; never a fallback to the controller's identity
    -> [Reconciling=True when the generation or reconcile request is new]
    -> pipeline.run(fetch: credentials from the secretRef at this moment, then `git.fetch`
       into the GitSync's own cache dir: one `ls-remote`, no fetch when the revision is cached;
       every read and write of the sync through a client impersonating that ServiceAccount;
       how kinds are scoped from the controller's own discovery)
    -> report.finish (status and Events only when changed)

The GitSync itself, its secretRef, its status and Events are read and written with the
controller's own identity.

The rendered objects of the last revision are kept in memory per GitSync, so an interval
re-sync of an unchanged revision costs one ls-remote, a few LISTs and no render. Git
credentials live only in the `Credentials` object passed to git; they are never logged.
Called by `scheduler.Scheduler` (one run per GitSync at a time); returns when to run again.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime
import logging
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from controller import metrics as metrics_mod
from controller import sharding, status
from controller.apply import applier, inventory, prune, scope
from controller.gitops import dependencies, pipeline, remote, report, spec
from controller.rollout import service as rollout
from controller.sources import credentials, git
from controller.sources import errors as source_errors
from sealer import errors
from sealer.kube import client

__all__ = ["GITSYNCS", "REQUESTED_AT", "SERVICE_ACCOUNTS", "SERVICE_ACCOUNT_NOT_FOUND",
           "SERVICE_ACCOUNT_UNAVAILABLE", "Context", "Result", "reconcile", "revision_name"]

logger = logging.getLogger(__name__)

GITSYNCS = client.Resource("sealops.dev", "v1alpha1", "GitSync", "gitsyncs", True)
SERVICE_ACCOUNTS = client.Resource("", "v1", "ServiceAccount", "serviceaccounts", True)
REQUESTED_AT = status.RECONCILE_REQUESTED_AT
SERVICE_ACCOUNT_NOT_FOUND = "ServiceAccountNotFound"
SERVICE_ACCOUNT_UNAVAILABLE = "ServiceAccountUnavailable"
Key = tuple[str, str]


@dataclasses.dataclass
class Context:
    kube: client.KubeClient
    events: status.EventRecorder
    controller_namespace: str
    cache_root: Path
    now: Callable[[], datetime.datetime]
    allow_local: bool = False
    default_service_account: str | None = None
    refuse_privileged_pods: bool = False
    shard: str | None = None  # only GitSyncs of this shard (`controller.sharding`)
    workers: int = pipeline.DEFAULT_WORKERS
    checkpoint: applier.Checkpoint | None = None
    metrics: metrics_mod.Metrics = dataclasses.field(
        default_factory=lambda: metrics_mod.Metrics(process=False))
    # Stamps opted-in workloads with the hash of their Secrets before they are applied.
    rollouts: rollout.Rollout | None = None
    renders: dict[Key, tuple[str, str, list[dict[str, Any]]]] = dataclasses.field(
        default_factory=dict)
    remotes: dict[Key, tuple[str, client.KubeClient]] = dataclasses.field(default_factory=dict)
    guard: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def cache_dir(self, obj: dict[str, Any]) -> Path:
        meta = obj["metadata"]
        return self.cache_root / str(meta["namespace"]) / f"{meta['name']}-{meta['uid'][:8]}"


@dataclasses.dataclass(frozen=True)
class Result:
    """`interval`: seconds until the next regular run (None: only on a new event)."""

    interval: float | None
    ok: bool = True


def reconcile(ctx: Context, *, namespace: str, name: str) -> Result:
    obj = ctx.kube.get(GITSYNCS, name, namespace=namespace)
    if obj is None or obj["metadata"].get("deletionTimestamp") or \
            not sharding.owns(obj["metadata"].get("labels"), ctx.shard):
        forget(ctx, namespace=namespace, name=name)
        return Result(None)
    requested = (obj["metadata"].get("annotations") or {}).get(REQUESTED_AT)
    try:
        parsed = spec.parse(obj.get("spec"), namespace=namespace)
        policy = spec.policy_for(parsed, namespace=namespace, name=name,
                                 controller_namespace=ctx.controller_namespace,
                                 refuse_privileged_pods=ctx.refuse_privileged_pods)
        spec.check_references(parsed, namespace=namespace, name=name,
                              controller_namespace=ctx.controller_namespace)
    except errors.SealopsError as exc:
        _finish(ctx, obj, _refused(obj, exc), requested=requested)
        return Result(None, ok=False)
    if parsed.suspend:
        return Result(None)
    blocked = _blocked(ctx, obj, parsed)
    if blocked is not None:
        _finish(ctx, obj, blocked, requested=requested)
        return Result(min(parsed.interval, dependencies.REQUEUE_S))
    account = spec.service_account_for(parsed, namespace=namespace,
                                       controller_namespace=ctx.controller_namespace,
                                       default=ctx.default_service_account)
    kube = _remote_client(ctx, obj, parsed) if parsed.kube_config else \
        _client_for(ctx, obj, account)
    if isinstance(kube, pipeline.Outcome):
        _finish(ctx, obj, kube, requested=requested)
        return Result(parsed.interval, ok=False)
    if report.needs_progress(obj, requested=requested):
        obj = dict(report.progressing(ctx.kube, GITSYNCS, obj, now=_stamp(ctx)))
    request = pipeline.Request(
        policy=policy, path=parsed.path, previous=_previous(obj), prune=parsed.prune,
        timeout=parsed.timeout, workers=ctx.workers, health_checks=parsed.health_checks,
        wait_for_all=parsed.wait, **_prune_safety(obj))
    outcome = pipeline.run(lambda: _fetch(ctx, obj, parsed), request, kube=kube,
                           render_objects=_cached_render(ctx, (namespace, name), parsed.path),
                           checkpoint=ctx.checkpoint,
                           cluster=scope.Live(kube if parsed.kube_config else ctx.kube),
                           rollouts=ctx.rollouts)
    _finish(ctx, obj, outcome, requested=requested)
    return Result(parsed.interval, ok=outcome.ok)


def forget(ctx: Context, *, namespace: str, name: str) -> None:
    """Drop what is kept for a deleted GitSync: its render and its cache directories."""
    with ctx.guard:
        ctx.renders.pop((namespace, name), None)
        gone = ctx.remotes.pop((namespace, name), None)
    if gone is not None:
        gone[1].close()
    base = ctx.cache_root / namespace
    if base.is_dir():
        for path in base.glob(f"{name}-*"):
            if path.name[len(name) + 1:].isalnum():
                shutil.rmtree(path, ignore_errors=True)


def revision_name(ref: git.Ref, sha: str) -> str:
    """Flux-style: `main@sha1:<sha>`, `v1.0@sha1:<sha>`, or `sha1:<sha>` for a commit."""
    algo = "sha256" if len(sha) == 64 else "sha1"
    named = ref.branch or ref.tag
    return f"{named}@{algo}:{sha}" if named else f"{algo}:{sha}"


def _client_for(ctx: Context, obj: dict[str, Any],
                account: str | None) -> client.KubeClient | pipeline.Outcome:
    """The client the sync runs with, or the Ready=False outcome when its account is missing
    or unreadable (the fail-closed side: no fallback to the controller's own client)."""
    if account is None:
        return ctx.kube
    namespace = obj["metadata"]["namespace"]
    try:
        found = ctx.kube.get(SERVICE_ACCOUNTS, account, namespace=namespace)
    except errors.ClusterError as exc:
        return _unresolved(obj, SERVICE_ACCOUNT_UNAVAILABLE,
                           f"cannot read ServiceAccount {namespace}/{account}: {exc}")
    if found is None:
        return _unresolved(obj, SERVICE_ACCOUNT_NOT_FOUND,
                           f"ServiceAccount {namespace}/{account} not found; nothing applied")
    return ctx.kube.impersonating(client.Impersonation.service_account(namespace, account))


def _blocked(ctx: Context, obj: dict[str, Any],
             parsed: spec.GitSyncSpec) -> pipeline.Outcome | None:
    """The DependencyNotReady/DependencyCycle outcome, or None when the sync may run."""
    key = (obj["metadata"]["namespace"], obj["metadata"]["name"])

    def read(dep: Key) -> dict[str, Any] | None:
        found: dict[str, Any] | None = ctx.kube.get(GITSYNCS, dep[1], namespace=dep[0])
        return found
    try:
        blocked = dependencies.check(key, parsed.depends_on, read=read,
                                     controller_namespace=ctx.controller_namespace)
    except errors.ClusterError as exc:
        blocked = dependencies.Blocked(dependencies.DEPENDENCY_NOT_READY,
                                       f"dependencies cannot be read: {exc}")
    if blocked is None:
        return None
    return pipeline.Outcome(reason=blocked.reason, message=blocked.message, revision=None,
                            inventory=_previous(obj), retryable=True)


def _remote_client(ctx: Context, obj: dict[str, Any],
                   parsed: spec.GitSyncSpec) -> client.KubeClient | pipeline.Outcome:
    """The remote cluster's client (one per GitSync, rebuilt when the credentials change),
    impersonating `spec.serviceAccountName` there; or the KubeConfigInvalid outcome."""
    assert parsed.kube_config is not None
    meta = obj["metadata"]
    namespace, (secret_name, key) = meta["namespace"], parsed.kube_config
    where = f"Secret {namespace}/{secret_name} key {key}"
    try:
        secret = ctx.kube.get(client.SECRETS, secret_name, namespace=namespace)
        raw = (secret.get("data") or {}).get(key) if secret else None
        if raw is None:
            raise remote.KubeConfigError(f"kubeConfig: {where} not found")
        config = remote.parse(base64.b64decode(raw, validate=True), where=where)
        remote_kube = _cached_remote(ctx, (namespace, meta["name"]), config)
    except (binascii.Error, ValueError):
        return _unresolved(obj, remote.KUBECONFIG_INVALID, f"kubeConfig: {where} is not base64")
    except errors.SealopsError as exc:
        return _unresolved(obj, remote.KUBECONFIG_INVALID, str(exc))
    account = parsed.service_account_name
    return remote_kube if account is None else remote_kube.impersonating(
        client.Impersonation.service_account(namespace, account))


def _cached_remote(ctx: Context, key: Key, config: remote.RemoteConfig) -> client.KubeClient:
    with ctx.guard:
        cached = ctx.remotes.get(key)
    if cached is not None and cached[0] == config.digest:
        return cached[1]
    fresh = remote.connect(config)
    with ctx.guard:
        old = ctx.remotes.get(key)
        ctx.remotes[key] = (config.digest, fresh)
    if old is not None:
        old[1].close()
    return fresh


def _unresolved(obj: dict[str, Any], reason: str, message: str) -> pipeline.Outcome:
    return pipeline.Outcome(reason=reason, message=message, revision=None,
                            inventory=_previous(obj), retryable=True)


def _fetch(ctx: Context, obj: dict[str, Any], parsed: spec.GitSyncSpec) -> git.Checkout:
    creds = _credentials(ctx, obj["metadata"]["namespace"], parsed.secret_ref)
    checkout = git.fetch(parsed.url, parsed.ref, cache_dir=ctx.cache_dir(obj), creds=creds,
                         timeout=parsed.timeout, allow_local=ctx.allow_local,
                         previous=_applied_sha(obj))
    return git.Checkout(revision=revision_name(parsed.ref, checkout.revision),
                        root=checkout.root, ancestry=checkout.ancestry)


# -- prune safety (issue 10 item 8): owner uid, confirmation, last applied commit ----------

def _prune_safety(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj["metadata"]
    return {"owner_uid": meta["uid"],
            "confirm_prune": (meta.get("annotations") or {}).get(prune.CONFIRM_ANNOTATION)}


def _applied_sha(obj: dict[str, Any]) -> str | None:
    applied = (obj.get("status") or {}).get("lastAppliedRevision")
    return applied.rpartition(":")[2] if isinstance(applied, str) else None


def _credentials(ctx: Context, namespace: str,
                 secret_ref: str | None) -> credentials.Credentials | None:
    if secret_ref is None:
        return None
    secret = ctx.kube.get(client.SECRETS, secret_ref, namespace=namespace)
    if secret is None:
        raise source_errors.FetchError(f"secretRef: Secret {namespace}/{secret_ref} not found")
    data: dict[str, bytes] = {}
    for key, value in (secret.get("data") or {}).items():
        try:
            data[key] = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise source_errors.FetchError(
                f"secretRef: key {key!r} of Secret {namespace}/{secret_ref} is not "
                "valid base64") from None
    return credentials.Credentials.from_secret_data(data)


def _cached_render(ctx: Context, key: Key, path: str) -> pipeline.Render:
    def render_objects(checkout: git.Checkout) -> list[dict[str, Any]]:
        with ctx.guard:
            cached = ctx.renders.get(key)
        if cached is not None and cached[:2] == (checkout.revision, path):
            return cached[2]
        objects = pipeline.default_render(path)(checkout)
        with ctx.guard:
            ctx.renders[key] = (checkout.revision, path, objects)
        return objects
    return render_objects


def _previous(obj: dict[str, Any]) -> inventory.Inventory:
    entries = ((obj.get("status") or {}).get("inventory") or {}).get("entries")
    try:
        return inventory.Inventory.from_status(entries)
    except errors.ManifestError:
        # An unreadable inventory prunes nothing (the safe side); the next success rewrites it.
        logger.warning("GitSync %s/%s: unreadable status.inventory ignored",
                       obj["metadata"]["namespace"], obj["metadata"]["name"])
        return inventory.Inventory()


def _refused(obj: dict[str, Any], exc: errors.SealopsError) -> pipeline.Outcome:
    return pipeline.Outcome(reason=pipeline.POLICY_VIOLATION, message=f"spec refused: {exc}",
                            revision=None, inventory=_previous(obj))


def _finish(ctx: Context, obj: dict[str, Any], outcome: pipeline.Outcome, *,
            requested: str | None) -> None:
    meta = obj["metadata"]
    report.finish(ctx.kube, GITSYNCS, obj, outcome, requested=requested, now=_stamp(ctx),
                  events=ctx.events)
    counts = outcome.counts
    ctx.metrics.observe_gitsync(
        meta["namespace"], meta["name"], outcome=outcome.reason, seconds=outcome.duration_s,
        stages=outcome.stages, pruned=counts.pruned,
        applied={"created": counts.created, "configured": counts.configured,
                 "unchanged": counts.unchanged})
    if outcome.ok:
        logger.info("GitSync %s/%s: revision %s applied (%s; %d writes)", meta["namespace"],
                    meta["name"], outcome.revision, outcome.counts, outcome.counts.writes)
    else:
        logger.warning("GitSync %s/%s: %s: %s", meta["namespace"], meta["name"],
                       outcome.reason, outcome.message)


def _stamp(ctx: Context) -> str:
    return status.rfc3339(ctx.now())
