"""What no SealedSecret or VaultSecret may produce: the controller's reserved names and marks.

One guard for both materialization paths: `controller.unseal.desired.check_target` (a
SealedSecret's Secret) and `controller.vaultsync.target.check` (a VaultSecret's Secret) call
`check` before any write; a refusal is `ReservedTargetError` with the stable reason
`ReservedTarget`, naming the Secret and the offending name or key, never a value.

The rule, whichever SealedSecret or VaultSecret asks:

    reserved marks     in every namespace, a template may not set a label in the controller's
                       own domain (`sealops.dev/...`, which holds every label the controller
                       uses to recognise its objects: key generations, the Vault hash key,
                       VaultSecret and GitSync ownership) or Bitnami's key label
                       `sealedsecrets.bitnami.com/sealed-secrets-key`, nor an annotation in
                       `sealops.dev/...` (e.g. a key generation's `created-at`)
    reserved names     in the controller namespace: the key generations' names
                       (`sealops-key-*`, Bitnami's `sealed-secrets-key*`), the Vault hash key
                       `sealops-vault-hash-key` and the public-keys ConfigMap's name
    nothing taken over in the controller namespace an existing Secret is never taken over,
                       patched or merged into (whatever it says about being managed): the
                       only Secrets a SealedSecret or VaultSecret may write there are the
                       ones it created itself, so nothing the controller owns there is touched

The controller's own records are recognised by what the controller itself wrote, never by a
label alone: `controller.keys.stored.not_a_record` (key generations) and
`controller.vaultsync.hashkey` (the hash key) use `materialized`, the marks every Secret a
SealedSecret or VaultSecret produces carries (an ownerReference, Bitnami's
skip-set-owner-references / managed / patch annotation, or the VaultSecret label).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sealer import errors
from sealer.kube import publickeys

__all__ = [
    "BITNAMI_KEY_LABEL",
    "HASH_KEY_LABEL",
    "HASH_KEY_NAME",
    "KEY_LABEL",
    "KEY_NAME_PREFIX",
    "REASON",
    "ReservedTargetError",
    "check",
    "materialized",
]

REASON = "ReservedTarget"
DOMAIN = "sealops.dev/"
KEY_LABEL = "sealops.dev/sealing-key"
BITNAMI_KEY_LABEL = "sealedsecrets.bitnami.com/sealed-secrets-key"
HASH_KEY_LABEL = "sealops.dev/vault-hash-key"
VAULT_SECRET_LABEL = "sealops.dev/vault-secret"  # noqa: S105  (a label key)
KEY_NAME_PREFIX = "sealops-key-"
BITNAMI_KEY_NAME_PREFIX = "sealed-secrets-key"
HASH_KEY_NAME = "sealops-vault-hash-key"
RESERVED_NAMES = frozenset({HASH_KEY_NAME, publickeys.CONFIGMAP})
RESERVED_PREFIXES = (KEY_NAME_PREFIX, BITNAMI_KEY_NAME_PREFIX)
# What a Secret written by a SealedSecret (ours or Bitnami's) or a VaultSecret carries.
MATERIALIZED_ANNOTATIONS = ("sealedsecrets.bitnami.com/skip-set-owner-references",
                            "sealedsecrets.bitnami.com/managed", "sealedsecrets.bitnami.com/patch")


class ReservedTargetError(errors.ConflictError):
    """The Secret would be, or would look like, one of the controller's own objects."""

    reason = REASON


def reserved_label(key: str) -> bool:
    return key.startswith(DOMAIN) or key == BITNAMI_KEY_LABEL


def reserved_annotation(key: str) -> bool:
    return key.startswith(DOMAIN)


def reserved_name(name: str) -> bool:
    return name in RESERVED_NAMES or name.startswith(RESERVED_PREFIXES)


def check(*, namespace: str, name: str, labels: Iterable[str], annotations: Iterable[str],
          controller_namespace: str, existing: Mapping[str, Any] | None,
          ours: bool) -> None:
    """Refuse (`ReservedTargetError`) a target the controller reserves for itself.

    `labels`/`annotations` are the keys the author asks for (not the ones the controller adds
    itself); `ours` says whether `existing` was created by this very SealedSecret/VaultSecret.
    """
    ident = f"Secret {namespace}/{name}"
    for key in sorted(labels):
        if reserved_label(key):
            raise ReservedTargetError(f"{ident}: the label {key} is reserved for the controller")
    for key in sorted(annotations):
        if reserved_annotation(key):
            raise ReservedTargetError(
                f"{ident}: the annotation {key} is reserved for the controller")
    if existing is not None and _key_marked(existing):
        raise ReservedTargetError(f"{ident} is a sealing key and is never written")
    if namespace != controller_namespace:
        return
    if reserved_name(name):
        raise ReservedTargetError(f"{ident}: the name is reserved for the controller's own "
                                  "objects in its namespace")
    if existing is not None and not ours:
        raise ReservedTargetError(f"{ident} exists in the controller's namespace and was not "
                                  "created by this object; it is never taken over")


def _key_marked(secret: Mapping[str, Any]) -> bool:
    labels = (secret.get("metadata") or {}).get("labels") or {}
    return KEY_LABEL in labels or BITNAMI_KEY_LABEL in labels or HASH_KEY_LABEL in labels


def materialized(secret: Mapping[str, Any]) -> bool:
    """True when the Secret bears a mark of a SealedSecret's or VaultSecret's write."""
    meta = secret.get("metadata") or {}
    annotations = meta.get("annotations") or {}
    labels = meta.get("labels") or {}
    return bool(meta.get("ownerReferences")) or VAULT_SECRET_LABEL in labels or any(
        key in annotations for key in MATERIALIZED_ANNOTATIONS)
