"""One sync of one VaultSecret (the shell around `controller.vault` and `target`).

    parse the spec -> find the store's session -> admit the namespace -> fetch every path
    (all or nothing, inside the store's Bulkhead lane) -> hash -> check the target (the
    shared reserved-target guard, a live rival VaultSecret, a store's own Secret) -> write
    the Secret only when it differs

Called by `controller.vaultsync.runtime` from a scheduler worker; returns an `Outcome` that
`report` turns into status and Events and `runtime` into the next run. Any failure leaves the
existing Secret exactly as it was, except that with `deletionPolicy: Delete` a Secret of ours
is deleted once Vault says the secret is gone (404, deleted or destroyed version).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from controller.vault import mapping
from controller.vault import sync as vault_sync
from controller.vaultsync import context, objects, target
from sealer import errors, templating
from sealer.kube import client
from sealer.kube import errors as kerrors

logger = logging.getLogger(__name__)

JSON = dict[str, Any]
GONE = frozenset({"NotFound", "VersionDeleted", "VersionDestroyed"})


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What a sync did. Holds names, reasons, versions and a hash; never Secret data."""

    ready: bool
    reason: str
    message: str
    interval_s: float | None = None
    secret: str = ""  # the target Secret as namespace/name
    data_hash: str | None = None
    versions: tuple[tuple[str, int | None], ...] = ()
    wrote: str = ""  # "created", "updated", "merged" or "deleted"
    retryable: bool = False
    retry_after: float | None = None
    cleared: bool = False  # the Secret is gone: forget the synced hash and versions


def sync(ctx: context.Context, body: JSON) -> Outcome:
    """Bring the target Secret of one VaultSecret up to date with Vault."""
    try:
        spec = objects.parse(body)
    except errors.VaultError as err:
        return Outcome(False, err.reason, str(err))
    try:
        fetched = _fetch(ctx, body, spec)
    except errors.VaultError as err:
        return _failed(ctx, body, spec, err)
    secret = f"{body['metadata']['namespace']}/{spec.target.name}"
    try:
        return _apply(ctx, body, spec, fetched)
    except (target.Refused, templating.TemplateError) as exc:  # TemplateError names the key
        return Outcome(False, exc.reason, str(exc), interval_s=spec.interval_s, secret=secret,
                       retryable=exc.reason == "TargetNotFound")
    except kerrors.ApiError as exc:
        return Outcome(False, "ApiError", f"writing Secret {secret} failed: {exc}",
                       interval_s=spec.interval_s, secret=secret, retryable=exc.retryable)
    except errors.KeyMaterialError as exc:
        return Outcome(False, exc.reason, str(exc), interval_s=spec.interval_s, secret=secret,
                       retryable=True)


def _fetch(ctx: context.Context, body: JSON,
           spec: objects.SyncSpec) -> vault_sync.FetchResult:
    namespace = body["metadata"]["namespace"]
    entry = ctx.stores.entry(spec.store)
    ctx.stores.admit(entry, namespace=namespace)
    return ctx.bulkhead.run(
        spec.store.lane,
        lambda: vault_sync.fetch(entry.session, spec=body["spec"], namespace=namespace,
                                 store=entry.config),
        deadline_s=ctx.tuning.deadline_s)


def _failed(ctx: context.Context, body: JSON, spec: objects.SyncSpec,
            err: errors.VaultError) -> Outcome:
    namespace = body["metadata"]["namespace"]
    failed = Outcome(False, err.reason, str(err), interval_s=spec.interval_s,
                     secret=f"{namespace}/{spec.target.name}", retryable=err.retryable,
                     retry_after=err.retry_after)
    if err.reason not in GONE or spec.target.deletion_policy != "Delete":
        return failed
    message = f"{err} (deletionPolicy Delete: the Secret is removed)"
    try:
        existing = ctx.kube.get(client.SECRETS, spec.target.name, namespace=namespace)
        deleted = target.deletable(body, spec.target, existing) and ctx.kube.delete(
            client.SECRETS, spec.target.name, namespace=namespace,
            precondition_uid=(existing or {}).get("metadata", {}).get("uid"))
    except kerrors.ApiError as exc:
        return dataclasses.replace(
            failed, message=f"{err}; deleting Secret {namespace}/{spec.target.name} failed: "
                            f"{exc}", retryable=exc.retryable)
    return dataclasses.replace(failed, message=message, cleared=True,
                               wrote="deleted" if deleted else "")


def _apply(ctx: context.Context, body: JSON, spec: objects.SyncSpec,
           fetched: vault_sync.FetchResult) -> Outcome:
    meta = body["metadata"]
    digest = mapping.data_hash(fetched.data, key=ctx.hash_key())
    existing = ctx.kube.get(client.SECRETS, spec.target.name, namespace=meta["namespace"])
    store_secrets = ctx.stores.secrets_read_in(meta["namespace"]) \
        if spec.target.creation_policy == "Merge" else frozenset()
    mode = target.check(body, spec.target, existing,
                        controller_namespace=ctx.controller_namespace,
                        store_secrets=store_secrets, rival=_rival(ctx, body, existing))
    wanted = target.desired(body, spec.target, fetched.data)
    wrote = ""
    if target.needs_write(wanted, existing, mode=mode, owner=body):
        result = _write(ctx, wanted, existing, mode=mode, owner=body)
        ctx.written[(meta["namespace"], spec.target.name)] = result["metadata"]["resourceVersion"]
        wrote = {"create": "created", "replace": "updated", "merge": "merged"}[mode]
    paths = len({path for path, _ in fetched.versions})
    return Outcome(True, "Synced",
                   f"Secret {meta['namespace']}/{spec.target.name} holds {len(fetched.data)} "
                   f"keys from {paths} Vault paths", interval_s=spec.interval_s,
                   secret=f"{meta['namespace']}/{spec.target.name}", data_hash=digest,
                   versions=fetched.versions, wrote=wrote)


def _rival(ctx: context.Context, body: JSON, existing: JSON | None) -> str | None:
    """Another VaultSecret recorded as writing the target that still exists (a deleted one's
    record does not block its successor)."""
    namespace = body["metadata"]["namespace"]
    for name in sorted(target.writers(body, existing)):
        if ctx.kube.get(objects.VAULT_SECRETS, name, namespace=namespace) is not None:
            return name
    return None


def _write(ctx: context.Context, wanted: JSON, existing: JSON | None, *, mode: str,
           owner: JSON) -> JSON:
    meta = wanted["metadata"]
    if mode == "create":
        return ctx.kube.create(client.SECRETS, wanted, namespace=meta["namespace"])
    assert existing is not None
    if mode == "merge":
        return ctx.kube.patch(client.SECRETS, meta["name"],
                              target.merge_patch(wanted, existing, owner=owner),
                              namespace=meta["namespace"])
    if existing.get("immutable") and (existing.get("data") or {}) != wanted["data"]:
        raise target.Refused(f"Secret {meta['namespace']}/{meta['name']} is immutable; delete "
                             "it to let the controller recreate it", reason="Immutable")
    return ctx.kube.replace(client.SECRETS,
                            target.replacement(wanted, existing, owner=owner),
                            namespace=meta["namespace"])
