"""kopf event handlers for SealedSecrets and the Secrets they own.

Only level-triggered `on.event` handlers are used: kopf then keeps no diff-base annotation and
no progress annotations on our objects (a diff-base of a Secret would be plaintext in an
annotation), and the reconcile itself compares live state with desired state.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import kopf

from controller import status as status_mod
from controller.keys import stored
from controller.unseal import desired, reconcile
from sealer.kube import client

logger = logging.getLogger(__name__)


def register(registry: kopf.OperatorRegistry, ctx: reconcile.Context, *,
             bitnami_compat: bool, labels: dict[str, Any] | None = None) -> None:
    """`labels`: the shard filter (`controller.sharding`); the SealedSecrets seen through it
    are the only owners whose Secrets this controller repairs."""
    resources = [reconcile.SEALOPS] + ([reconcile.BITNAMI] if bitnami_compat else [])
    known: set[tuple[str, str, str]] | None = None if labels is None else set()
    for res in resources:
        _register_sealed(registry, ctx, res, labels=labels, known=known)
    _register_owned_secrets(registry, ctx, kinds={(r.group, r.kind) for r in resources},
                            known=known)
    _register_key_secrets(registry, ctx)


def _register_sealed(registry: kopf.OperatorRegistry, ctx: reconcile.Context,
                     res: client.Resource, *, labels: dict[str, Any] | None,
                     known: set[tuple[str, str, str]] | None) -> None:
    kind = reconcile.kind_of(res.group)

    def on_sealed(**kwargs: Any) -> None:
        event, body = kwargs["event"], kwargs["body"]
        ctx.metrics.observe_object(kind, body, deleted=event.get("type") == "DELETED")
        key = (res.group, body["metadata"]["namespace"], body["metadata"]["name"])
        if known is not None:
            (known.discard if event.get("type") == "DELETED" else known.add)(key)
        if event.get("type") == "DELETED":
            return
        if event.get("type") == "MODIFIED" and _status_only(body):
            return
        _run(ctx, res, namespace=body["metadata"]["namespace"], name=body["metadata"]["name"],
             body=_plain(body))

    kopf.on.event(res.group, res.version, res.plural, registry=registry, labels=labels,
                  id=f"unseal-{res.group}")(on_sealed)



def _register_owned_secrets(registry: kopf.OperatorRegistry, ctx: reconcile.Context, *,
                            kinds: set[tuple[str, str]],
                            known: set[tuple[str, str, str]] | None) -> None:
    def owned(body: Any, **_: Any) -> bool:
        return _owner(body, kinds) is not None

    def on_secret(**kwargs: Any) -> None:
        event, body = kwargs["event"], kwargs["body"]
        # The initial listing is covered by the SealedSecrets' own initial events.
        if event.get("type") is None:
            return
        owner = _owner(body, kinds)
        if owner is None:
            return
        meta = body["metadata"]
        if event.get("type") != "DELETED" and \
                ctx.written.get((meta["namespace"], meta["name"])) == meta.get("resourceVersion"):
            return  # our own write coming back
        if known is not None and (owner[0], meta["namespace"], owner[1]) not in known:
            return  # another shard's SealedSecret
        res = reconcile.SEALOPS if owner[0] == reconcile.SEALOPS.group else reconcile.BITNAMI
        _run(ctx, res, namespace=meta["namespace"], name=owner[1])

    kopf.on.event("v1", "secrets", registry=registry, when=owned, id="owned-secrets")(on_secret)



def _register_key_secrets(registry: kopf.OperatorRegistry, ctx: reconcile.Context) -> None:
    def on_key(**kwargs: Any) -> None:
        if kwargs["event"].get("type") is not None:
            ctx.keys.reload()
            ctx.metrics.set_generations(len(ctx.keys.keyring))

    kopf.on.event("v1", "secrets", registry=registry, id="key-secrets",
                  labels={stored.KEY_LABEL: "active"},
                  when=lambda namespace, **_: namespace == ctx.controller_namespace)(on_key)


def _plain(body: Any) -> dict[str, Any]:
    """kopf's Body as plain dicts (it is a read-only view over the raw event)."""
    return {k: _thaw(v) for k, v in body.items()}


def _thaw(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_thaw(v) for v in value]
    return value


def _run(ctx: reconcile.Context, res: client.Resource, *, namespace: str, name: str,
         body: dict[str, Any] | None = None) -> None:
    ctx.metrics.queue_delta(1)
    try:
        outcome = reconcile.reconcile(ctx, res, namespace=namespace, name=name, body=body)
    finally:
        ctx.metrics.queue_delta(-1)
    if outcome is not None and outcome.retry:
        raise kopf.TemporaryError(outcome.message, delay=5)


def _status_only(body: Any) -> bool:
    """A MODIFIED event caused by our own status write: nothing to do (unless it carries a
    reconcile request not yet handled: an annotation does not bump the generation)."""
    if status_mod.request_pending(body):
        return False
    status = body.get("status") or {}
    generation = body["metadata"].get("generation")
    ready = [c for c in status.get("conditions") or [] if c.get("type") == "Ready"]
    return bool(ready) and status.get("observedGeneration") == generation and \
        ready[0].get("status") == "True" and ready[0].get("observedGeneration") == generation


def _owner(body: Any, kinds: set[tuple[str, str]]) -> tuple[str, str] | None:
    for ref in body["metadata"].get("ownerReferences") or []:
        group = str(ref.get("apiVersion", "")).split("/")[0]
        if (group, ref.get("kind")) in kinds and ref.get("controller"):
            return group, str(ref.get("name"))
    # skip-set-owner-references: the reconcile checks the uid in the annotation.
    marker = str((body["metadata"].get("annotations") or {}).get(desired.OWNED_BY) or "")
    group = marker.partition("/")[0]
    if (group, "SealedSecret") in kinds:
        return group, str(body["metadata"]["name"])
    return None
