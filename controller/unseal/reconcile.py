"""Reconciling one SealedSecret against the cluster (the shell around `desired`).

Read the SealedSecret -> open every item -> check the target -> write the Secret only when it
differs -> when existing data changed, hand the Secret to `controller.rollout` (opted-in
workloads using it roll) -> write status only when it changes -> post an Event on a change of
outcome. A failure at any step leaves the last good Secret exactly as it was. A reconcile
request (the `sealops.dev/reconcile-requested-at` annotation, see `controller.status`) runs it
again and is echoed in `status.lastHandledReconcileAt`.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from controller import faults, metrics, status
from controller.keys import registry
from controller.rollout import service as rollout
from controller.unseal import desired
from sealer import errors, templating
from sealer.kube import client
from sealer.kube import errors as kerrors

logger = logging.getLogger(__name__)

SEALOPS = client.Resource("sealops.dev", "v1alpha1", "SealedSecret", "sealedsecrets", True)
BITNAMI = client.Resource("bitnami.com", "v1alpha1", "SealedSecret", "sealedsecrets", True)


@dataclasses.dataclass
class Context:
    kube: client.KubeClient
    keys: registry.KeyRegistry
    controller_namespace: str
    events: status.EventRecorder
    metrics: metrics.Metrics
    now: Callable[[], datetime.datetime]
    locks: dict[tuple[str, str, str], threading.Lock] = dataclasses.field(default_factory=dict)
    hints: dict[tuple[str, str, str], bytes] = dataclasses.field(default_factory=dict)
    # resourceVersion of every Secret we wrote last, so its watch event is recognised as ours.
    written: dict[tuple[str, str], str] = dataclasses.field(default_factory=dict)
    # The v1 key that opened something last: most v1 objects share one generation, so after
    # the first, opening them costs one RSA decryption whatever the number of generations.
    last_v1_key: bytes | None = None
    guard: threading.Lock = dataclasses.field(default_factory=threading.Lock)
    # Rolls opted-in workloads when a Secret we wrote changed (None: rollouts are off).
    rollout: rollout.Rollout | None = None

    def lock_for(self, key: tuple[str, str, str]) -> threading.Lock:
        with self.guard:
            return self.locks.setdefault(key, threading.Lock())


@dataclasses.dataclass(frozen=True)
class Outcome:
    ready: bool
    reason: str
    message: str
    wrote: bool = False
    retry: bool = False
    event: str = ""
    secret: str = ""  # the Secret whose data was written (same namespace), when one was


def reconcile(ctx: Context, res: client.Resource, *, namespace: str, name: str,
              body: dict[str, Any] | None = None) -> Outcome | None:
    """Bring the Secret of one SealedSecret up to date. None when the object is gone.

    `body` is the object as a watch event delivered it (saves a read); without it, or when
    another reconcile of the same object ran meanwhile, the object is read fresh.
    """
    key = (res.group, namespace, name)
    with ctx.lock_for(key):
        sealed = body if body is not None else ctx.kube.get(res, name, namespace=namespace)
        if sealed is None or sealed["metadata"].get("deletionTimestamp"):
            ctx.hints.pop(key, None)
            return None
        started = time.perf_counter()
        outcome = _converge(ctx, sealed, key=key)
        ctx.metrics.observe_unseal(outcome.reason, time.perf_counter() - started)
        if outcome.secret and ctx.rollout is not None:
            ctx.rollout.secret_changed(namespace, outcome.secret, source="SealedSecret")
        _report(ctx, res, sealed, outcome, key=key)
        return outcome


def _converge(ctx: Context, sealed: dict[str, Any], *, key: tuple[str, str, str]) -> Outcome:
    ident = f"{sealed['metadata']['namespace']}/{sealed['metadata']['name']}"
    try:
        opened = desired.open_items(sealed, ring=ctx.keys.keyring, hint=_hint(ctx, sealed, key))
        if opened.key_id is not None:
            ctx.hints[key] = opened.key_id
            ctx.last_v1_key = opened.key_id
        _count_values(ctx, key, opened)
        wanted = desired.secret_for(sealed, opened)
        verb, data_changed = _apply_secret(ctx, sealed, wanted)
    except errors.UnknownKeyError as exc:
        return Outcome(False, "UnknownKey", str(exc))
    except errors.UnsealError as exc:  # UnsealFailed, or InvalidBase64
        return Outcome(False, exc.reason, str(exc))
    except (desired.RefusedError, templating.TemplateError) as exc:  # TemplateError: the key
        return Outcome(False, exc.reason, str(exc))
    except errors.ManifestError as exc:
        return Outcome(False, "InvalidSpec", str(exc))
    except kerrors.ApiError as exc:
        return Outcome(False, "ApiError", f"writing the Secret of {ident} failed: {exc}",
                       retry=exc.retryable)
    items = len(opened.data)
    return Outcome(True, "Succeeded", f"Secret {ident} unsealed from {items} items",
                   wrote=verb is not None, event=f"Secret {ident} {verb} from {items} items",
                   secret=wanted["metadata"]["name"] if data_changed else "")


def _count_values(ctx: Context, key: tuple[str, str, str], opened: desired.Opened) -> None:
    """Values per key generation, so an operator sees when an old generation is unused."""
    counts: dict[str, int] = {}
    for key_id in opened.key_ids.values():
        counts[key_id.hex()] = counts.get(key_id.hex(), 0) + 1
    ctx.metrics.set_sealed_values(kind_of(key[0]), key[1], key[2], counts)


def kind_of(group: str) -> str:
    """The `kind` label of a SealedSecret group (Bitnami's carries its group)."""
    return "SealedSecret" if group == SEALOPS.group else f"SealedSecret.{group}"


def _hint(ctx: Context, sealed: dict[str, Any], key: tuple[str, str, str]) -> bytes | None:
    """The key to try first for v1 values: the one that opened this object last (in memory,
    or recorded in its status across restarts), else the one that opened anything last."""
    if key in ctx.hints:
        return ctx.hints[key]
    recorded = (sealed.get("status") or {}).get("keyId")
    if isinstance(recorded, str):
        try:
            return bytes.fromhex(recorded)
        except ValueError:
            pass
    return ctx.last_v1_key


def _apply_secret(ctx: Context, sealed: dict[str, Any],
                  body: dict[str, Any]) -> tuple[str | None, bool]:
    """Create or update the Secret when it differs; the verb done (None for no write), and
    whether existing data changed, which rolls the workloads using it: a write of labels or
    annotations alone rolls nothing, nor does a Secret created (as Reloader's default: pods
    waiting for a missing Secret start by themselves once it exists).

    A SealedSecret never reconciled before most likely has no Secret yet, so creating it is
    tried first (one request instead of two); a 409 falls back to the read-compare-write path.
    """
    meta = body["metadata"]
    if not (sealed.get("status") or {}).get("conditions"):
        desired.check_target(sealed, None, controller_namespace=ctx.controller_namespace)
        try:
            created = ctx.kube.create(client.SECRETS, body, namespace=meta["namespace"])
        except kerrors.ApiError as exc:
            if exc.status != 409:
                raise
        else:
            ctx.written[(meta["namespace"], meta["name"])] = created["metadata"]["resourceVersion"]
            faults.checkpoint("unseal.after-secret-write")
            return "created", False
    existing = ctx.kube.get(client.SECRETS, meta["name"], namespace=meta["namespace"])
    mode = desired.check_target(sealed, existing, controller_namespace=ctx.controller_namespace)
    if not desired.needs_write(body, existing, mode=mode):
        return None, False
    _write(ctx, body, existing, mode=mode)
    faults.checkpoint("unseal.after-secret-write")
    if existing is None:
        return "created", False
    return "updated", (existing.get("data") or {}) != body.get("data")


def _write(ctx: Context, body: dict[str, Any], existing: dict[str, Any] | None, *,
           mode: str) -> None:
    """Write the Secret and remember the resourceVersion it got."""
    meta = body["metadata"]
    result = _write_mode(ctx, body, existing, mode=mode)
    ctx.written[(meta["namespace"], meta["name"])] = result["metadata"]["resourceVersion"]


def _write_mode(ctx: Context, body: dict[str, Any], existing: dict[str, Any] | None, *,
                mode: str) -> dict[str, Any]:
    meta = body["metadata"]
    if mode == "create":
        return ctx.kube.create(client.SECRETS, body, namespace=meta["namespace"])
    assert existing is not None
    if mode == "patch":
        # A Secret handed over for patching is not ours: never mark it as owned.
        annotations = {k: v for k, v in meta["annotations"].items() if k != desired.OWNED_BY}
        patch = {"data": body["data"],
                 "metadata": {"labels": meta["labels"], "annotations": annotations}}
        return ctx.kube.patch(client.SECRETS, meta["name"], patch, namespace=meta["namespace"])
    if existing.get("immutable") and existing.get("data") != body["data"]:
        raise desired.RefusedError(
            f"Secret {meta['namespace']}/{meta['name']} is immutable; delete it to let the "
            "controller recreate it", reason="Immutable")
    emeta = existing["metadata"]
    replacement = dict(body)
    replacement["metadata"] = {
        **meta, "resourceVersion": emeta["resourceVersion"],
        # Keep what others added to labels/annotations; ours win on conflict.
        "labels": {**(emeta.get("labels") or {}), **meta["labels"]},
        "annotations": {k: v for k, v in {**(emeta.get("annotations") or {}),
                                          **meta["annotations"]}.items()
                        if k not in desired.DROPPED_ANNOTATIONS},
    }
    return ctx.kube.replace(client.SECRETS, replacement, namespace=meta["namespace"])


def _report(ctx: Context, res: client.Resource, sealed: dict[str, Any], outcome: Outcome, *,
            key: tuple[str, str, str]) -> None:
    generation = sealed["metadata"].get("generation")
    conds = [status.Condition("Ready", outcome.ready, outcome.reason, outcome.message)]
    if res.group == BITNAMI.group:
        conds.append(status.Condition("Synced", outcome.ready, outcome.reason, outcome.message))
    current = sealed.get("status") or {}
    wanted: dict[str, Any] = {
        "observedGeneration": generation,
        "conditions": status.merge_conditions(current.get("conditions") or [], conds,
                                              now=status.rfc3339(ctx.now()),
                                              generation=generation),
    }
    if key in ctx.hints:
        wanted["keyId"] = ctx.hints[key].hex()
    requested = status.requested_at(sealed)
    if requested is not None:
        wanted[status.LAST_HANDLED] = requested
    changed = status.patch_status(ctx.kube, res, sealed, wanted)
    if outcome.wrote or (changed and not outcome.ready):
        ctx.events.post(sealed, reason="Unsealed" if outcome.ready else "UnsealFailed",
                        message=outcome.event or outcome.message, warning=not outcome.ready)
    if not outcome.ready:
        logger.warning("SealedSecret %s/%s: %s", sealed["metadata"]["namespace"],
                       sealed["metadata"]["name"], outcome.message)

