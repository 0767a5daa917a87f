"""The target Secret of a VaultSecret: what it should be and whether we may write it. Pure.

Called by `controller.vaultsync.reconcile` after a successful fetch. The rules:

    Owner   the Secret carries an ownerReference (controller=true) to the VaultSecret and the
            label `sealops.dev/vault-secret: <name>`; garbage-collected with the VaultSecret
    Orphan  the same label, no ownerReference (the Secret outlives the VaultSecret)
    Merge   only our keys are patched into a Secret that must already exist; nothing else
            of it is touched, and it is never deleted

First the shared guard `controller.reserved` (reason ReservedTarget): no reserved name in the
controller namespace, no reserved label or annotation, no sealing-key Secret, no takeover in the
controller namespace. A Secret that exists and is not ours (our ownerReference uid, or our label
with our name) is never overwritten: `Refused(reason="UpdateRefused")`, as
`controller.unseal.desired` does. A Secret that another live VaultSecret already writes (its
ownerReference, its label, or the `sealops.dev/merged-by` annotation a Merge leaves) is refused
to the second one (`OwnedByAnother`); the first keeps working. Merge may patch a foreign Secret,
but never a privileged type, a Secret a Vault store reads its credentials from (`StoreSecret`),
or a Secret that another controller owns (the two would fight).

`target.template.data` values are templates (`sealer.templating`) over the fetched keys: the
rendered text is that key's value (replacing a fetched key of the same name), null removes the
key; a failure raises `templating.TemplateError` (reason TemplateError, naming the key) before
anything is written. Labels and annotations are copied, never rendered.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from controller import reserved
from controller.vaultsync import objects
from sealer import errors, templating

JSON = dict[str, Any]

MERGED_BY = "sealops.dev/merged-by"
DROPPED_ANNOTATIONS = frozenset({"kubectl.kubernetes.io/last-applied-configuration"})


class Refused(errors.ConflictError):
    """The target Secret must not be written (not ours, protected, missing for Merge)."""

    def __init__(self, message: str, *, reason: str = "UpdateRefused") -> None:
        super().__init__(message)
        self.reason = reason


def encode(data: Mapping[str, bytes]) -> dict[str, str]:
    return {k: base64.b64encode(v).decode("ascii") for k, v in sorted(data.items())}


def is_ours(owner: Mapping[str, Any], existing: Mapping[str, Any]) -> bool:
    """Owned by this VaultSecret (ownerReference uid), or labelled with its name."""
    meta, emeta = owner["metadata"], existing.get("metadata") or {}
    if any(ref.get("uid") == meta["uid"] for ref in emeta.get("ownerReferences") or []):
        return True
    return bool((emeta.get("labels") or {}).get(objects.OWNER_LABEL) == meta["name"])


def owner_of(secret: Mapping[str, Any]) -> str | None:
    """The name of the VaultSecret that manages this Secret (ownerReference, else our label)."""
    meta = secret.get("metadata") or {}
    for ref in meta.get("ownerReferences") or []:
        if str(ref.get("apiVersion", "")).startswith(objects.GROUP + "/") and \
                ref.get("kind") == objects.VAULT_SECRETS.kind and ref.get("controller"):
            return str(ref.get("name"))
    value = (meta.get("labels") or {}).get(objects.OWNER_LABEL)
    return value if isinstance(value, str) and value else None


def desired(owner: Mapping[str, Any], target: objects.Target,
            data: Mapping[str, bytes]) -> JSON:
    """The Secret body for Owner/Orphan (for Merge only `data` is used)."""
    meta = owner["metadata"]
    labels = {**dict(target.labels), objects.OWNER_LABEL: meta["name"]}
    annotations = {k: v for k, v in target.annotations if k not in DROPPED_ANNOTATIONS}
    body: JSON = {
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": target.name, "namespace": meta["namespace"], "labels": labels,
                     "annotations": annotations},
        "type": target.type,
        "data": encode(rendered(owner, target, data)),
    }
    if target.creation_policy == "Owner":
        body["metadata"]["ownerReferences"] = [{
            "apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": meta["name"],
            "uid": meta["uid"], "controller": True, "blockOwnerDeletion": False}]
    return body


def rendered(owner: Mapping[str, Any], target: objects.Target,
             data: Mapping[str, bytes]) -> dict[str, bytes]:
    """The fetched keys with `template.data` rendered over them (a null template removes)."""
    if not target.data:
        return dict(data)
    meta = owner["metadata"]
    out = dict(data)
    values = templating.render_all(
        dict(target.data), data,
        what=f"VaultSecret {meta['namespace']}/{meta['name']} spec.target.template.data")
    for key, value in values.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def check(owner: Mapping[str, Any], target: objects.Target,
          existing: Mapping[str, Any] | None, *, controller_namespace: str,
          store_secrets: frozenset[str] = frozenset(), rival: str | None = None) -> str:
    """How the target may be written: "create", "replace" or "merge" (else `Refused`).

    `store_secrets` are the Secrets of the VaultSecret's namespace that a store reads
    (credentials, CA); `rival` is another live VaultSecret that already writes the target.
    """
    namespace = owner["metadata"]["namespace"]
    ident = f"Secret {namespace}/{target.name}"
    try:
        reserved.check(namespace=namespace, name=target.name,
                       labels=[k for k, _ in target.labels],
                       annotations=[k for k, _ in target.annotations],
                       controller_namespace=controller_namespace, existing=existing,
                       ours=existing is not None and is_ours(owner, existing))
    except reserved.ReservedTargetError as exc:
        raise Refused(str(exc), reason=exc.reason) from None
    if rival is not None:
        raise Refused(f"{ident} is already written by VaultSecret {namespace}/{rival}; two "
                      "VaultSecrets writing one Secret would fight", reason="OwnedByAnother")
    if target.creation_policy == "Merge":
        if existing is None:
            raise Refused(f"{ident} does not exist; creationPolicy Merge only adds keys to an "
                          "existing Secret", reason="TargetNotFound")
        if target.name in store_secrets:
            raise Refused(f"{ident} holds a Vault store's credentials and is never written",
                          reason="StoreSecret")
        _check_merge(owner, existing, ident=ident)
        return "merge"
    if existing is None:
        return "create"
    if not is_ours(owner, existing):
        raise Refused(f"{ident} exists and is not managed by this VaultSecret; delete it or use "
                      "creationPolicy Merge")
    _check_controller(owner, existing, ident=ident)
    if existing.get("type", "Opaque") != target.type:
        raise Refused(f"{ident} has type {existing.get('type')}, the template asks for "
                      f"{target.type}; a Secret's type cannot change, delete it",
                      reason="TypeMismatch")
    return "replace"


def writers(owner: Mapping[str, Any], existing: Mapping[str, Any] | None) -> set[str]:
    """Other VaultSecrets (by name, same namespace) recorded as writing `existing`."""
    if existing is None:
        return set()
    meta = existing.get("metadata") or {}
    names = {owner_of(existing), (meta.get("annotations") or {}).get(MERGED_BY)}
    return {n for n in names if isinstance(n, str) and n and n != owner["metadata"]["name"]}


def _check_merge(owner: Mapping[str, Any], existing: Mapping[str, Any], *, ident: str) -> None:
    if existing.get("type") in objects.REFUSED_TYPES:
        raise Refused(f"{ident} has type {existing.get('type')}, which is never written")
    _check_controller(owner, existing, ident=ident)


def _predecessor(ref: Mapping[str, Any], owner: Mapping[str, Any]) -> bool:
    """A reference to a deleted VaultSecret of the same name (same namespace, so it is gone)."""
    return (ref.get("kind") == objects.VAULT_SECRETS.kind
            and str(ref.get("apiVersion", "")).startswith(objects.GROUP + "/")
            and ref.get("name") == owner["metadata"]["name"]
            and ref.get("uid") != owner["metadata"]["uid"])


def _check_controller(owner: Mapping[str, Any], existing: Mapping[str, Any], *,
                      ident: str) -> None:
    for ref in (existing.get("metadata") or {}).get("ownerReferences") or []:
        if _predecessor(ref, owner):
            continue  # re-created under the same name: take over from the old object
        if ref.get("controller") and ref.get("uid") != owner["metadata"]["uid"]:
            raise Refused(f"{ident} is controlled by {ref.get('kind')} {ref.get('name')}; "
                          "writing it would fight that controller")


def needs_write(body: Mapping[str, Any], existing: Mapping[str, Any] | None, *,
                mode: str, owner: Mapping[str, Any]) -> bool:
    """False when the live Secret already matches, so an unchanged sync writes nothing."""
    if existing is None:
        return True
    live = existing.get("data") or {}
    if mode == "merge":
        recorded = ((existing.get("metadata") or {}).get("annotations") or {}).get(MERGED_BY)
        return recorded != owner["metadata"]["name"] or any(
            live.get(k) != v for k, v in body["data"].items())
    if live != body["data"]:
        return True
    emeta, dmeta = existing.get("metadata") or {}, body["metadata"]
    for field in ("labels", "annotations"):
        have = emeta.get(field) or {}
        if any(have.get(k) != v for k, v in dmeta[field].items()):
            return True
    refs = emeta.get("ownerReferences") or []
    if any(_predecessor(r, owner) for r in refs):
        return True
    wanted = bool(dmeta.get("ownerReferences"))
    have = [r for r in refs if r.get("uid") == owner["metadata"]["uid"]]
    return wanted != bool(have) or (wanted and not have[0].get("controller"))


def replacement(body: Mapping[str, Any], existing: Mapping[str, Any], *,
                owner: Mapping[str, Any]) -> JSON:
    """`body` on top of `existing`: others' labels, annotations and (non-controller) owner
    references kept, ours win on conflict; Orphan drops our ownerReference."""
    emeta = existing["metadata"]
    meta = dict(body["metadata"])
    meta["resourceVersion"] = emeta["resourceVersion"]
    meta["labels"] = {**(emeta.get("labels") or {}), **meta["labels"]}
    meta["annotations"] = {k: v for k, v in {**(emeta.get("annotations") or {}),
                                             **meta["annotations"]}.items()
                           if k not in DROPPED_ANNOTATIONS}
    others = [r for r in emeta.get("ownerReferences") or []
              if r.get("uid") != owner["metadata"]["uid"] and not _predecessor(r, owner)]
    meta["ownerReferences"] = others + list(meta.get("ownerReferences", []))
    return {**dict(body), "metadata": meta}


def merge_patch(body: Mapping[str, Any], existing: Mapping[str, Any], *,
                owner: Mapping[str, Any]) -> JSON:
    """A JSON merge patch adding our keys and recording us as the Secret's merging writer,
    guarded by the live resourceVersion."""
    return {"metadata": {"resourceVersion": existing["metadata"]["resourceVersion"],
                         "annotations": {MERGED_BY: owner["metadata"]["name"]}},
            "data": dict(body["data"])}


def deletable(owner: Mapping[str, Any], target: objects.Target,
              existing: Mapping[str, Any] | None) -> bool:
    """deletionPolicy Delete removes only a Secret that is ours (never a Merge target)."""
    return (existing is not None and target.deletion_policy == "Delete"
            and target.creation_policy != "Merge" and is_ours(owner, existing))
