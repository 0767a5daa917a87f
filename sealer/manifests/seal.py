"""Sealing and unsealing one object: Secret -> SealedSecret, SealedSecret -> Secret, re-seal.

Owns the SealedSecret document `seal` writes (deterministic key order, template built from the
Secret's labels and annotations, kubeseal's scope annotations) and the rule that a re-seal keeps
the scope *bound in the old ciphertext*: which label actually opens each value decides it,
never the annotations or the template (CVE-2026-22728, hostile input S14). Called by the CLI
(`seal secret`, `unseal`, `reencrypt`, `check --fix`); returns plain dicts for `safeyaml.dump`.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Mapping
from typing import Any

from sealer import errors
from sealer.crypto import envelope, keys
from sealer.crypto import keyring as keyrings
from sealer.crypto import scope as scopes
from sealer.manifests import secrets

__all__ = ["base64_rules", "merge_into", "reseal", "seal_secret", "sealed_label", "unseal"]

_SCOPES_NARROW_FIRST = (scopes.Scope.STRICT, scopes.Scope.NAMESPACE_WIDE, scopes.Scope.CLUSTER_WIDE)


def base64_rules(sealed: Mapping[str, Any]) -> keyrings.Base64Rules:
    """How a SealedSecret's values are read: bitnami.com objects as Bitnami's controller reads
    them (Go's StdEncoding: wrapped lines, non-zero trailing bits), ours canonical only."""
    group = str(sealed.get("apiVersion") or "").partition("/")[0]
    return keyrings.Base64Rules.GO_STD if group == "bitnami.com" else keyrings.Base64Rules.CANONICAL


def sealed_label(sealed_scope: scopes.Scope, *, namespace: str | None, name: str | None) -> bytes:
    """The scope label, after DNS-1123 validation of every part given (S16).

    A part the scope needs but is missing raises `ManifestError` ("secret must declare a
    namespace"); parts the scope ignores may be None.
    """
    if name is not None:
        secrets.validate_name(name)
    if namespace is not None:
        secrets.validate_namespace(namespace)
    if sealed_scope is scopes.Scope.CLUSTER_WIDE:
        return scopes.label(sealed_scope, namespace="", name="")
    if namespace is None:
        raise errors.ManifestError(
            f"secret must declare a namespace: {name or 'the value'} is sealed "
            f"{sealed_scope.value}; set metadata.namespace or pass --namespace"
        )
    if sealed_scope is scopes.Scope.STRICT and name is None:
        raise errors.ManifestError("a strict scope needs the Secret's name; pass --name")
    return scopes.label(sealed_scope, namespace=namespace, name=name or "")


def seal_secret(
    secret: secrets.SecretManifest,
    *,
    public: keys.PublicKeys,
    scope: scopes.Scope | None,
    kind: str = "sealops",
    version: int | None = None,
    suite: envelope.Suite = envelope.Suite.PQ,
) -> dict[str, Any]:
    """The SealedSecret for `secret`, every value encrypted to `public`.

    `scope` None takes kubeseal's scope annotations from the Secret (default strict).
    `kind="bitnami"` writes `bitnami.com/v1alpha1` with v1 envelopes (all kubeseal can read).
    """
    api_version = _api_version(kind)
    version = _version(kind, version)
    sealed_scope = (
        scope if scope is not None else secrets.scope_from_annotations(secret.annotations)
    )
    label = sealed_label(sealed_scope, namespace=secret.namespace, name=secret.name)
    encrypted = {
        key: keyrings.seal_value(
            secret.data[key].reveal(),
            public=public,
            label=label,
            item=key,
            version=version,
            suite=suite,
        )
        for key in sorted(secret.data)
    }
    template = secrets.SecretTemplate(
        labels=dict(secret.labels),
        annotations=secrets.scope_annotations(
            {k: v for k, v in secret.annotations.items() if k not in secrets.STRIPPED_ANNOTATIONS},
            sealed_scope,
        ),
        type=secret.type,
        immutable=secret.immutable,
    )
    return _sealed_document(
        api_version=api_version,
        name=secret.name,
        namespace=secret.namespace,
        sealed_scope=sealed_scope,
        encrypted=encrypted,
        template=template,
    )


def merge_into(existing: Mapping[str, Any], new_items: Mapping[str, str]) -> dict[str, Any]:
    """A copy of the SealedSecret `existing` with `new_items` added or replaced; the rest kept."""
    parsed = secrets.parse_sealed_secret(existing)
    for key, value in new_items.items():
        secrets.validate_item_key(key, obj=parsed.ref)
        if not isinstance(value, str):
            raise TypeError("sealed items are base64 strings")
    merged = _editable_copy(existing)
    items = {**parsed.encrypted_data, **new_items}
    merged["spec"]["encryptedData"] = {key: items[key] for key in sorted(items)}
    return merged


def unseal(sealed: Mapping[str, Any], *, keyring: keyrings.Keyring) -> dict[str, Any]:
    """The Secret a SealedSecret (either API group) opens to, for disaster recovery.

    The scope comes from the annotations; it is proven by opening, since the label is bound into
    every envelope (a widened annotation makes every item fail). Raises `UnsealError`.
    """
    parsed = secrets.parse_sealed_secret(sealed)
    _refuse_template_data(sealed, ref=parsed.ref)
    label = sealed_label(parsed.annotated_scope, namespace=parsed.namespace, name=parsed.name)
    rules = base64_rules(sealed)
    data = {}
    for key in sorted(parsed.encrypted_data):
        value, _key_id = keyring.decrypt(
            parsed.encrypted_data[key], label=label, item=key, rules=rules
        )
        data[key] = base64.b64encode(value).decode("ascii")
    metadata: dict[str, Any] = {"name": parsed.name}
    if parsed.namespace:
        metadata["namespace"] = parsed.namespace
    _put_sorted(metadata, "labels", parsed.template.labels)
    _put_sorted(metadata, "annotations", parsed.template.annotations)
    secret: dict[str, Any] = {"apiVersion": "v1", "kind": "Secret", "metadata": metadata}
    if parsed.template.immutable is not None:
        secret["immutable"] = parsed.template.immutable
    secret["type"] = parsed.template.type
    secret["data"] = data
    return secret


def reseal(
    sealed: Mapping[str, Any],
    *,
    keyring: keyrings.Keyring,
    public: keys.PublicKeys,
    version: int | None = None,
    suite: envelope.Suite = envelope.Suite.PQ,
) -> dict[str, Any]:
    """`sealed` re-encrypted to `public`, keeping the scope bound in the old ciphertext.

    Each value's scope is found by which label opens it (strict, then namespace-wide, then
    cluster-wide); all values must agree. The scope annotations of the result are set to match
    the proven scope, whatever the input claimed. Raises `UnsealError` / `ManifestError`.
    """
    parsed = secrets.parse_sealed_secret(sealed)
    version = _version(parsed.kind, version)
    proven: scopes.Scope | None = None
    encrypted: dict[str, str] = {}
    rules = base64_rules(sealed)
    for key in sorted(parsed.encrypted_data):
        value, found = _open_any_scope(
            parsed, key=key, keyring=keyring, first=proven, rules=rules
        )
        if proven is not None and found is not proven:
            raise errors.ManifestError(
                f"SealedSecret {parsed.ref}: items are sealed for different scopes"
            )
        proven = found
        label = sealed_label(found, namespace=parsed.namespace, name=parsed.name)
        encrypted[key] = keyrings.seal_value(
            value, public=public, label=label, item=key, version=version, suite=suite
        )
    result = _editable_copy(sealed)
    result["spec"]["encryptedData"] = encrypted
    if proven is not None:
        _set_scope_annotations(result, proven)
    return result


# --- internals ----------------------------------------------------------------------------------


def _open_any_scope(
    parsed: secrets.SealedSecretManifest,
    *,
    key: str,
    keyring: keyrings.Keyring,
    first: scopes.Scope | None,
    rules: keyrings.Base64Rules,
) -> tuple[bytes, scopes.Scope]:
    candidates = [
        s for s in _SCOPES_NARROW_FIRST if parsed.namespace or s is scopes.Scope.CLUSTER_WIDE
    ]
    if first in candidates:
        candidates.remove(first)
        candidates.insert(0, first)
    for candidate in candidates:
        label = sealed_label(candidate, namespace=parsed.namespace, name=parsed.name)
        try:
            value, _key_id = keyring.decrypt(
                parsed.encrypted_data[key], label=label, item=key, rules=rules
            )
        except (errors.UnknownKeyError, errors.InvalidBase64Error):
            raise  # the same for every scope
        except errors.UnsealError:
            continue
        return value, candidate
    raise errors.UnsealError(key) from None


def _set_scope_annotations(document: dict[str, Any], proven: scopes.Scope) -> None:
    """Make both places kubeseal reads (metadata, template metadata) claim the proven scope."""
    metadata = document["metadata"]
    _replace_annotations(metadata, proven)
    spec = document["spec"]
    template = spec.get("template") or {}
    template_meta = template.get("metadata") or {}
    _replace_annotations(template_meta, proven)
    if template_meta:
        template["metadata"] = template_meta
    if template:
        spec["template"] = template


def _replace_annotations(metadata: dict[str, Any], proven: scopes.Scope) -> None:
    annotations = secrets.scope_annotations(metadata.get("annotations") or {}, proven)
    if annotations:
        metadata["annotations"] = annotations
    else:
        metadata.pop("annotations", None)


def _editable_copy(sealed: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of a parsed SealedSecret with `metadata` and `spec` as dicts."""
    result = copy.deepcopy(dict(sealed))
    for field in ("metadata", "spec"):
        result[field] = dict(result.get(field) or {})
    return result


def _sealed_document(
    *,
    api_version: str,
    name: str,
    namespace: str | None,
    sealed_scope: scopes.Scope,
    encrypted: dict[str, str],
    template: secrets.SecretTemplate,
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    _put_sorted(metadata, "annotations", secrets.scope_annotations({}, sealed_scope))
    template_meta: dict[str, Any] = {}
    _put_sorted(template_meta, "labels", template.labels)
    _put_sorted(template_meta, "annotations", template.annotations)
    template_doc: dict[str, Any] = {}
    if template_meta:
        template_doc["metadata"] = template_meta
    if template.immutable is not None:
        template_doc["immutable"] = template.immutable
    template_doc["type"] = template.type
    return {
        "apiVersion": api_version,
        "kind": "SealedSecret",
        "metadata": metadata,
        "spec": {"encryptedData": encrypted, "template": template_doc},
    }


def _put_sorted(target: dict[str, Any], key: str, values: Mapping[str, str]) -> None:
    if values:
        target[key] = {k: values[k] for k in sorted(values)}


def _api_version(kind: str) -> str:
    try:
        return secrets.SEALED_API_VERSIONS[kind]
    except KeyError:
        raise ValueError(f"kind must be one of {sorted(secrets.SEALED_API_VERSIONS)}") from None


def _version(kind: str, version: int | None) -> int | None:
    _api_version(kind)
    if kind == "bitnami":
        if version not in (None, 1):
            raise ValueError("kubeseal's controller reads only v1 envelopes")
        return 1
    return version


def _refuse_template_data(sealed: Mapping[str, Any], *, ref: str) -> None:
    template = (sealed.get("spec") or {}).get("template") or {}
    if isinstance(template, Mapping) and template.get("data"):
        # Templates are evaluated on plaintext by kubeseal's controller; we never do (S15).
        raise errors.ManifestError(f"SealedSecret {ref}: spec.template.data is not supported")
