"""Status and Events of VaultSecrets and stores, written only when they change.

Called by `controller.vaultsync.runtime` after each sync or store check. A VaultSecret's status:

    conditions[Ready]   True/Synced, or False with the failure's reason (VaultSealed,
                        PermissionDenied, NotFound, PathNotAllowed, StoreNotAllowed, ...)
    dataHash            keyed BLAKE2b of the synced data (`controller.vault.mapping.data_hash`)
    versions            [{path, version}]: the KV version read per path (no version on KV v1)
    refreshTime         when the Secret's data was last taken from Vault: set when the Secret
                        or the synced hash/versions change, on recovery, and on a forced sync
                        (a new `sealops.dev/reconcile-requested-at`, or the older
                        `sealops.dev/force-sync`, annotation); an unchanged periodic refresh
                        writes nothing at all
    lastHandledReconcileAt  the `sealops.dev/reconcile-requested-at` value last handled

A failure keeps dataHash, versions and refreshTime: they still describe the Secret in place.
Messages come from `Outcome`, built from names, paths and reasons only.
"""

from __future__ import annotations

import logging
from typing import Any

from controller import status
from controller.vaultsync import context, objects, reconcile
from sealer.kube import client
from sealer.kube import errors as kerrors

logger = logging.getLogger(__name__)

JSON = dict[str, Any]


def _patch(ctx: context.Context, res: client.Resource, obj: JSON, wanted: JSON) -> JSON | None:
    meta = obj["metadata"]
    try:
        result: JSON = ctx.kube.patch(res, meta["name"], {"status": wanted},
                                      namespace=meta.get("namespace"), subresource="status")
    except kerrors.ApiError as exc:
        if exc.status == 404:  # deleted meanwhile
            return None
        raise
    return result


def _wanted(ctx: context.Context, body: JSON, outcome: reconcile.Outcome, *,
            forced: bool) -> JSON:
    generation = body["metadata"].get("generation")
    current = body.get("status") or {}
    now = status.rfc3339(ctx.now())
    cond = status.Condition("Ready", outcome.ready, outcome.reason, outcome.message)
    wanted: JSON = {
        "observedGeneration": generation,
        "conditions": status.merge_conditions(current.get("conditions") or [], [cond], now=now,
                                              generation=generation),
    }
    requested = status.requested_at(body)
    if requested is not None:
        wanted[status.LAST_HANDLED] = requested
    if outcome.ready:
        wanted["dataHash"] = outcome.data_hash
        # A KV v1 path has no version: omit the field (a merge patch drops nulls anyway).
        wanted["versions"] = [{"path": p, **({"version": v} if v is not None else {})}
                              for p, v in outcome.versions]
        wanted["refreshTime"] = current.get("refreshTime")
        if forced or outcome.wrote or not current.get("refreshTime") or \
                status.status_changed(current, wanted):
            wanted["refreshTime"] = now
    elif outcome.cleared:
        wanted.update(dataHash=None, versions=None, refreshTime=None)
    return wanted


def vault_secret(ctx: context.Context, body: JSON, outcome: reconcile.Outcome, *,
                 forced: bool) -> JSON | None:
    """Write status when it changed, post an Event on a write or a new failure.

    Returns the VaultSecret as patched (None when nothing was written).
    """
    meta = body["metadata"]
    wanted = _wanted(ctx, body, outcome, forced=forced)
    changed = status.status_changed(body.get("status") or {}, wanted)
    patched = _patch(ctx, objects.VAULT_SECRETS, body, wanted) if changed else None
    ident = f"{meta['namespace']}/{meta['name']}"
    if outcome.wrote:
        ctx.events.post(body, reason="SecretDeleted" if outcome.wrote == "deleted" else "Synced",
                        message=_event_message(outcome), warning=not outcome.ready)
    elif changed and not outcome.ready:
        ctx.events.post(body, reason=outcome.reason, message=outcome.message, warning=True)
    if not outcome.ready and changed:
        logger.warning("VaultSecret %s: %s", ident, outcome.message)
    elif not outcome.ready:
        logger.debug("VaultSecret %s still failing: %s", ident, outcome.reason)
    return patched


def _event_message(outcome: reconcile.Outcome) -> str:
    if outcome.wrote == "deleted":
        return outcome.message
    paths = len({path for path, _ in outcome.versions})
    return f"Secret {outcome.secret} {outcome.wrote} from {paths} Vault paths"


def store(ctx: context.Context, body: JSON, *, ready: bool, reason: str, message: str) -> None:
    """A store's Ready condition: True after a successful login, else the failure's reason."""
    generation = body["metadata"].get("generation")
    current = body.get("status") or {}
    cond = status.Condition("Ready", ready, reason, message)
    wanted: JSON = {
        "observedGeneration": generation,
        "conditions": status.merge_conditions(current.get("conditions") or [], [cond],
                                              now=status.rfc3339(ctx.now()),
                                              generation=generation),
    }
    if not status.status_changed(current, wanted):
        return
    _patch(ctx, objects.VAULT_STORES if body["kind"] == objects.VAULT_STORES.kind
           else objects.CLUSTER_VAULT_STORES, body, wanted)
    if not ready:
        ident = "/".join(filter(None, (body["metadata"].get("namespace"),
                                       body["metadata"]["name"])))
        logger.warning("%s %s: %s", body["kind"], ident, message)
