"""SealedSecret + keyring -> the Secret it stands for (pure; no cluster I/O).

Owns the rules that decide what may be written: the scope label comes from the SealedSecret's
own name and namespace (widened only by the Bitnami scope annotations, and the label is bound in
every ciphertext, so a copy with a widened annotation fails to open); every item opens or none
is used; privileged Secret types are refused; the controller's reserved names and marks are
refused by the shared guard `controller.reserved` (reason ReservedTarget); an existing Secret is
touched only when it is ours or explicitly hands itself over (`sealedsecrets.bitnami.com/managed`
or `/patch`), never in the controller's namespace.

`spec.template.data` values are templates (`sealer.templating`) rendered from the opened items:
the rendered text becomes that key's value (replacing an item of the same key), a null removes
the key. sealops.dev objects use the sandboxed Jinja subset; bitnami.com objects the two Go forms
Bitnami documents. A template that fails raises `templating.TemplateError` (reason
TemplateError, naming the key, never a value) before anything is written. Template labels and
annotations are copied as written, never rendered: Secret metadata is not secret.
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Mapping
from typing import Any

from controller import reserved
from sealer import errors, templating
from sealer.crypto import keyring, scope
from sealer.manifests import seal

CLUSTER_WIDE = "sealedsecrets.bitnami.com/cluster-wide"
NAMESPACE_WIDE = "sealedsecrets.bitnami.com/namespace-wide"
MANAGED = "sealedsecrets.bitnami.com/managed"
PATCH = "sealedsecrets.bitnami.com/patch"
SKIP_OWNER = "sealedsecrets.bitnami.com/skip-set-owner-references"
# Stands in for the ownerReference of a skip-set-owner-references Secret: "<group>/<uid>" of the
# SealedSecret that wrote it. Only the controller sets it (a template's copy is dropped), so it
# lands only on Secrets the SealedSecret already fully controls; whoever can write the Secret
# could hand it over with `managed` anyway.
OWNED_BY = "sealops.dev/owned-by"
BITNAMI_GROUP = "bitnami.com"
DROPPED_ANNOTATIONS = frozenset({"kubectl.kubernetes.io/last-applied-configuration"})
REFUSED_TYPES = frozenset({"kubernetes.io/service-account-token", "bootstrap.kubernetes.io/token"})


class RefusedError(errors.ConflictError):
    """The Secret must not be written (not ours, privileged type, key namespace)."""

    def __init__(self, message: str, *, reason: str = "UpdateRefused") -> None:
        super().__init__(message)
        self.reason = reason


@dataclasses.dataclass(frozen=True)
class Opened:
    """The outcome of opening every item: plaintext by item key, the key that opened the last
    one, and the key that opened each (for the values-per-generation metric)."""

    data: dict[str, bytes]
    key_id: bytes | None
    key_ids: dict[str, bytes] = dataclasses.field(default_factory=dict)

    def __repr__(self) -> str:
        key_id = self.key_id.hex() if self.key_id else None
        return f"Opened(items={sorted(self.data)}, key_id={key_id})"


def scope_of(sealed: Mapping[str, Any]) -> scope.Scope:
    annotations = (sealed.get("metadata") or {}).get("annotations") or {}
    if annotations.get(CLUSTER_WIDE) == "true":
        return scope.Scope.CLUSTER_WIDE
    if annotations.get(NAMESPACE_WIDE) == "true":
        return scope.Scope.NAMESPACE_WIDE
    return scope.Scope.STRICT


def label_of(sealed: Mapping[str, Any]) -> bytes:
    meta = sealed["metadata"]
    return scope.label(scope_of(sealed), namespace=meta["namespace"], name=meta["name"])


def open_items(sealed: Mapping[str, Any], *, ring: keyring.Keyring,
               hint: bytes | None = None) -> Opened:
    """Open every item (all or nothing). Raises UnsealError/UnknownKeyError naming the item."""
    encrypted = (sealed.get("spec") or {}).get("encryptedData") or {}
    if not isinstance(encrypted, dict):
        raise errors.ManifestError("spec.encryptedData must be a mapping")
    label = label_of(sealed)
    rules = seal.base64_rules(sealed)
    data: dict[str, bytes] = {}
    key_ids: dict[str, bytes] = {}
    key_id = hint
    for item in sorted(encrypted):
        value = encrypted[item]
        if not isinstance(value, str):
            raise errors.UnsealError(item)
        data[item], key_id = ring.decrypt(value, label=label, item=item, hint=key_id,
                                          rules=rules)
        key_ids[item] = key_id
    return Opened(data=data, key_id=key_id, key_ids=key_ids)


def secret_for(sealed: Mapping[str, Any], opened: Opened) -> dict[str, Any]:
    """The Secret body the SealedSecret asks for (its data base64-encoded)."""
    meta = sealed["metadata"]
    template = (sealed.get("spec") or {}).get("template") or {}
    tmeta = template.get("metadata") or {}
    secret_type = template.get("type") or "Opaque"
    if secret_type in REFUSED_TYPES:
        raise RefusedError(f"Secret type {secret_type} is not allowed", reason="TypeNotAllowed")
    annotations = {k: v for k, v in (tmeta.get("annotations") or {}).items()
                   if k not in DROPPED_ANNOTATIONS and k != OWNED_BY}
    data = {k: base64.b64encode(v).decode("ascii") for k, v in opened.data.items()}
    for key, value in render_data(sealed, opened).items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = base64.b64encode(value).decode("ascii")
    body: dict[str, Any] = {
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": meta["name"], "namespace": meta["namespace"],
                     "labels": dict(tmeta.get("labels") or {}), "annotations": annotations},
        "type": secret_type,
        "data": data,
    }
    if template.get("immutable") is not None:
        body["immutable"] = bool(template["immutable"])
    if annotations.get(SKIP_OWNER) != "true":
        body["metadata"]["ownerReferences"] = [{
            "apiVersion": sealed["apiVersion"], "kind": sealed["kind"], "name": meta["name"],
            "uid": meta["uid"], "controller": True}]
    else:
        annotations[OWNED_BY] = owned_by(sealed)
    return body


def render_data(sealed: Mapping[str, Any], opened: Opened) -> dict[str, bytes | None]:
    """`spec.template.data` rendered from the opened items (None: remove the key)."""
    meta = sealed["metadata"]
    templates = ((sealed.get("spec") or {}).get("template") or {}).get("data") or {}
    what = f"SealedSecret {meta['namespace']}/{meta['name']} spec.template.data"
    if not isinstance(templates, Mapping):
        raise errors.ManifestError(f"{what} must be a mapping")
    group = str(sealed.get("apiVersion") or "").partition("/")[0]
    return templating.render_all(templates, opened.data, what=what,
                                 dialect="go" if group == BITNAMI_GROUP else "jinja")


def owned_by(sealed: Mapping[str, Any]) -> str:
    """The OWNED_BY value naming this SealedSecret."""
    group = str(sealed.get("apiVersion") or "").partition("/")[0]
    return f"{group}/{sealed['metadata']['uid']}"


def check_target(sealed: Mapping[str, Any], existing: Mapping[str, Any] | None, *,
                 controller_namespace: str) -> str:
    """How the target may be written: "create", "owned", "takeover" or "patch".

    Raises `reserved.ReservedTargetError` (reason ReservedTarget) for a target the controller
    reserves for itself, and RefusedError when the existing Secret is not ours and does not
    hand itself over.
    """
    meta = sealed["metadata"]
    tmeta = ((sealed.get("spec") or {}).get("template") or {}).get("metadata") or {}
    owned = existing is not None and _owned(sealed, existing)
    try:
        reserved.check(namespace=meta["namespace"], name=meta["name"],
                       labels=_keys(tmeta.get("labels")),
                       annotations=_keys(tmeta.get("annotations")),
                       controller_namespace=controller_namespace, existing=existing, ours=owned)
    except reserved.ReservedTargetError as exc:
        raise RefusedError(str(exc), reason=exc.reason) from None
    if existing is None:
        return "create"
    if owned:
        return "owned"
    annotations = (existing.get("metadata") or {}).get("annotations") or {}
    if annotations.get(MANAGED) == "true":
        return "takeover"
    if annotations.get(PATCH) == "true":
        return "patch"
    raise RefusedError(
        f"Secret {meta['namespace']}/{meta['name']} exists and is not managed by this "
        f"SealedSecret; annotate it with {MANAGED}=\"true\" to hand it over")


def _owned(sealed: Mapping[str, Any], existing: Mapping[str, Any]) -> bool:
    """The existing Secret was written by this very SealedSecret: its ownerReference, or for
    skip-set-owner-references the controller-written OWNED_BY annotation."""
    meta = existing.get("metadata") or {}
    refs = meta.get("ownerReferences") or []
    if any(ref.get("uid") == sealed["metadata"]["uid"] for ref in refs):
        return True
    return bool((meta.get("annotations") or {}).get(OWNED_BY) == owned_by(sealed))


def _keys(value: object) -> list[str]:
    return [str(k) for k in value] if isinstance(value, Mapping) else []


def needs_write(desired: Mapping[str, Any], existing: Mapping[str, Any] | None, *,
                mode: str) -> bool:
    """False when the live Secret already matches (so nothing is written)."""
    if existing is None:
        return True
    if mode == "patch":
        live = existing.get("data") or {}
        return any(live.get(k) != v for k, v in desired["data"].items())
    if (existing.get("data") or {}) != desired["data"]:
        return True
    if existing.get("type", "Opaque") != desired["type"]:
        return True
    emeta, dmeta = existing.get("metadata") or {}, desired["metadata"]
    for field in ("labels", "annotations"):
        live = emeta.get(field) or {}
        if any(live.get(k) != v for k, v in dmeta[field].items()):
            return True
    wanted = {r["uid"] for r in dmeta.get("ownerReferences", [])}
    have = {r.get("uid") for r in emeta.get("ownerReferences") or []}
    return not wanted <= have
