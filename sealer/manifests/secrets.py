"""Typed Secret and SealedSecret manifests, parsed from loaded YAML/JSON dicts.

Owns what a well-formed input looks like: DNS-1123 names (checked before any scope label is
built, hostile input S16), Secret data keys, base64 `data` (strict, C1), string-only
`stringData` (Y22: `pin: 0123` is refused, never turned into `83`), and the scope annotations
kubeseal uses. Called by `sealer.manifests.seal`, `sealer.manifests.check` and the CLI.
Messages name objects and item keys, never values.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from sealer import errors
from sealer.crypto import plaintext, scope

__all__ = [
    "CLUSTER_WIDE_ANNOTATION",
    "NAMESPACE_WIDE_ANNOTATION",
    "SEALED_API_VERSIONS",
    "STRIPPED_ANNOTATIONS",
    "SealedSecretManifest",
    "SecretManifest",
    "SecretTemplate",
    "is_sealed_secret",
    "is_secret",
    "parse_sealed_secret",
    "parse_secret",
    "scope_annotations",
    "scope_from_annotations",
    "validate_item_key",
    "validate_name",
    "validate_namespace",
]

CLUSTER_WIDE_ANNOTATION = "sealedsecrets.bitnami.com/cluster-wide"
NAMESPACE_WIDE_ANNOTATION = "sealedsecrets.bitnami.com/namespace-wide"
SEALED_API_VERSIONS = {"sealops": "sealops.dev/v1alpha1", "bitnami": "bitnami.com/v1alpha1"}
# Annotations that hold a copy of the whole object, plaintext included (L52; kopf's diff base).
STRIPPED_ANNOTATIONS = frozenset(
    {
        "kubectl.kubernetes.io/last-applied-configuration",
        "kopf.zalando.org/last-handled-configuration",
    }
)

_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_ITEM_KEY = re.compile(r"[-._a-zA-Z0-9]+")


# --- names --------------------------------------------------------------------------------------


def validate_name(name: object, *, what: str = "name") -> str:
    """`name` if it is a DNS-1123 subdomain (<= 253, lowercase, digits, `-` and `.`)."""
    if not isinstance(name, str) or not name:
        raise errors.InvalidNameError(f"{what} is missing or not a string")
    if len(name) > 253 or not _SUBDOMAIN.fullmatch(name):
        raise errors.InvalidNameError(f"{what} {_show(name)} is not a valid DNS-1123 subdomain")
    return name


def validate_namespace(namespace: object) -> str:
    """`namespace` if it is a DNS-1123 label (<= 63, lowercase, digits and `-`)."""
    if not isinstance(namespace, str) or not namespace:
        raise errors.InvalidNameError("namespace is missing or not a string")
    if len(namespace) > 63 or not _LABEL.fullmatch(namespace):
        raise errors.InvalidNameError(f"namespace {_show(namespace)} is not a valid DNS-1123 label")
    return namespace


def validate_item_key(key: object, *, obj: str) -> str:
    """A Secret data key as Kubernetes accepts it: `[-._a-zA-Z0-9]+`, <= 253, not `.`/`..`."""
    if not isinstance(key, str):
        raise errors.ManifestError(f"{obj}: data keys must be strings, found {type(key).__name__}")
    if len(key) > 253 or key in {".", ".."} or not _ITEM_KEY.fullmatch(key):
        raise errors.ManifestError(f"{obj}: item key {_show(key)} is not a valid Secret data key")
    return key


def _show(text: str) -> str:
    shown = ascii(text)
    return shown if len(shown) <= 72 else shown[:68] + "...'"


# --- scope annotations --------------------------------------------------------------------------


def scope_from_annotations(annotations: Mapping[str, str]) -> scope.Scope:
    """kubeseal's reading: `cluster-wide: "true"` or `namespace-wide: "true"`, else strict."""
    cluster = annotations.get(CLUSTER_WIDE_ANNOTATION) == "true"
    namespace = annotations.get(NAMESPACE_WIDE_ANNOTATION) == "true"
    if cluster and namespace:
        raise errors.ManifestError("both the cluster-wide and namespace-wide annotations are set")
    if cluster:
        return scope.Scope.CLUSTER_WIDE
    return scope.Scope.NAMESPACE_WIDE if namespace else scope.Scope.STRICT


def scope_annotations(annotations: Mapping[str, str], sealed_scope: scope.Scope) -> dict[str, str]:
    """`annotations` with the two scope annotations replaced by the one `sealed_scope` needs."""
    out = {
        k: v
        for k, v in annotations.items()
        if k not in {CLUSTER_WIDE_ANNOTATION, NAMESPACE_WIDE_ANNOTATION}
    }
    if sealed_scope is scope.Scope.CLUSTER_WIDE:
        out[CLUSTER_WIDE_ANNOTATION] = "true"
    elif sealed_scope is scope.Scope.NAMESPACE_WIDE:
        out[NAMESPACE_WIDE_ANNOTATION] = "true"
    return out


# --- Secret -------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SecretManifest:
    """A Kubernetes Secret as `seal` needs it; values are `SecretBytes` (redacted repr)."""

    name: str
    namespace: str | None
    type: str = "Opaque"
    immutable: bool | None = None
    labels: dict[str, str] = dataclasses.field(default_factory=dict)
    annotations: dict[str, str] = dataclasses.field(default_factory=dict)
    data: dict[str, plaintext.SecretBytes] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        validate_name(self.name)
        if self.namespace is not None:
            validate_namespace(self.namespace)
        for key, value in self.data.items():
            validate_item_key(key, obj=self.ref)
            if not isinstance(value, plaintext.SecretBytes):
                raise TypeError("Secret values must be SecretBytes")

    @property
    def ref(self) -> str:
        """`namespace/name` (or just the name), for messages."""
        return f"{self.namespace}/{self.name}" if self.namespace else self.name


def is_secret(obj: Mapping[str, Any]) -> bool:
    return obj.get("kind") == "Secret" and obj.get("apiVersion") == "v1"


def parse_secret(obj: Mapping[str, Any], *, namespace: str | None = None) -> SecretManifest:
    """A `SecretManifest` from a loaded `kind: Secret` dict.

    `namespace` (the CLI's `--namespace`) fills a missing `metadata.namespace`; a different
    declared namespace is an error. `stringData` is merged over `data` and must hold strings as
    written. Raises `ManifestError` / `InvalidNameError`.
    """
    if not is_secret(obj):
        raise errors.ManifestError(f"expected apiVersion v1, kind Secret; found {_kind_of(obj)}")
    meta = _mapping(obj.get("metadata"), what="metadata")
    name = validate_name(meta.get("name"))
    ns = _namespace(meta.get("namespace"), override=namespace, name=name)
    ref = f"{ns}/{name}" if ns else name
    return SecretManifest(
        name=name,
        namespace=ns,
        type=_string(obj.get("type", "Opaque"), what=f"{ref}: type"),
        immutable=_optional_bool(obj.get("immutable"), what=f"{ref}: immutable"),
        labels=_string_map(meta.get("labels"), what=f"{ref}: metadata.labels"),
        annotations={
            k: v
            for k, v in _string_map(
                meta.get("annotations"), what=f"{ref}: metadata.annotations"
            ).items()
            if k not in STRIPPED_ANNOTATIONS
        },
        data=_secret_data(obj, ref=ref),
    )


def _namespace(declared: object, *, override: str | None, name: str) -> str | None:
    if declared in (None, ""):
        return None if override in (None, "") else validate_namespace(override)
    ns = validate_namespace(declared)
    if override not in (None, "") and override != ns:
        raise errors.UsageError(
            f"Secret {ns}/{name} declares namespace {ns!r}, but {override!r} was asked for"
        )
    return ns


def _secret_data(obj: Mapping[str, Any], *, ref: str) -> dict[str, plaintext.SecretBytes]:
    data: dict[str, plaintext.SecretBytes] = {}
    for key, value in _mapping(obj.get("data"), what=f"{ref}: data").items():
        validate_item_key(key, obj=ref)
        data[key] = plaintext.SecretBytes(_b64decode(value, ref=ref, key=key))
    for key, value in _mapping(obj.get("stringData"), what=f"{ref}: stringData").items():
        validate_item_key(key, obj=ref)
        if not isinstance(value, str):
            raise errors.ManifestError(
                f"{ref}: stringData item {key!r} is a YAML {_yaml_type(value)}, not a string; "
                "quote it (YAML 1.1 reads 0123, no, 0x1F, dates and ~ as other types)"
            )
        try:
            data[key] = plaintext.SecretBytes(value.encode("utf-8"))
        except UnicodeEncodeError:
            raise errors.ManifestError(
                f"{ref}: stringData item {key!r} is not valid text"
            ) from None
    return data


def _b64decode(value: object, *, ref: str, key: str) -> bytes:
    if not isinstance(value, str):
        raise errors.ManifestError(f"{ref}: data item {key!r} must be a base64 string")
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise errors.ManifestError(f"{ref}: data item {key!r} is not valid base64") from None


def _yaml_type(value: object) -> str:
    names = {bool: "boolean", int: "integer", float: "float", type(None): "null"}
    return names.get(type(value), "date" if hasattr(value, "isoformat") else type(value).__name__)


# --- SealedSecret -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SecretTemplate:
    """`spec.template`: what the unsealed Secret will look like, apart from its data."""

    labels: dict[str, str] = dataclasses.field(default_factory=dict)
    annotations: dict[str, str] = dataclasses.field(default_factory=dict)
    type: str = "Opaque"
    immutable: bool | None = None


@dataclasses.dataclass(frozen=True)
class SealedSecretManifest:
    """A SealedSecret of either API group; `encrypted_data` maps item keys to base64 envelopes."""

    api_version: str
    name: str
    namespace: str | None
    annotations: dict[str, str]
    encrypted_data: dict[str, str]
    template: SecretTemplate

    @property
    def kind(self) -> str:
        """`sealops` or `bitnami`."""
        return next(k for k, v in SEALED_API_VERSIONS.items() if v == self.api_version)

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name

    @property
    def annotated_scope(self) -> scope.Scope:
        """The scope the annotations claim. Only opening a value proves it (see `seal.reseal`)."""
        return scope_from_annotations(self.annotations)


def is_sealed_secret(obj: Mapping[str, Any]) -> bool:
    return (
        obj.get("kind") == "SealedSecret" and obj.get("apiVersion") in SEALED_API_VERSIONS.values()
    )


def parse_sealed_secret(obj: Mapping[str, Any]) -> SealedSecretManifest:
    """A `SealedSecretManifest` from a loaded dict; raises `ManifestError` / `InvalidNameError`."""
    if not is_sealed_secret(obj):
        raise errors.ManifestError(
            f"expected a SealedSecret ({' or '.join(SEALED_API_VERSIONS.values())}); "
            f"found {_kind_of(obj)}"
        )
    meta = _mapping(obj.get("metadata"), what="metadata")
    name = validate_name(meta.get("name"))
    ns_value = meta.get("namespace")
    ns = None if ns_value in (None, "") else validate_namespace(ns_value)
    ref = f"{ns}/{name}" if ns else name
    spec = _mapping(obj.get("spec"), what=f"{ref}: spec")
    encrypted = _string_map(spec.get("encryptedData"), what=f"{ref}: spec.encryptedData")
    for key in encrypted:
        validate_item_key(key, obj=ref)
    return SealedSecretManifest(
        api_version=str(obj["apiVersion"]),
        name=name,
        namespace=ns,
        annotations=_string_map(meta.get("annotations"), what=f"{ref}: metadata.annotations"),
        encrypted_data=encrypted,
        template=_template(spec.get("template"), ref=ref),
    )


def _template(value: object, *, ref: str) -> SecretTemplate:
    template = _mapping(value, what=f"{ref}: spec.template")
    meta = _mapping(template.get("metadata"), what=f"{ref}: spec.template.metadata")
    return SecretTemplate(
        labels=_string_map(meta.get("labels"), what=f"{ref}: spec.template.metadata.labels"),
        annotations=_string_map(
            meta.get("annotations"), what=f"{ref}: spec.template.metadata.annotations"
        ),
        type=_string(template.get("type") or "Opaque", what=f"{ref}: spec.template.type"),
        immutable=_optional_bool(template.get("immutable"), what=f"{ref}: spec.template.immutable"),
    )


# --- small readers ------------------------------------------------------------------------------


def _kind_of(obj: Mapping[str, Any]) -> str:
    return f"apiVersion {_show(str(obj.get('apiVersion')))}, kind {_show(str(obj.get('kind')))}"


def _mapping(value: object, *, what: str) -> Mapping[Any, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise errors.ManifestError(f"{what} must be a mapping")
    return value


def _string(value: object, *, what: str) -> str:
    if not isinstance(value, str):
        raise errors.ManifestError(f"{what} must be a string")
    return value


def _optional_bool(value: object, *, what: str) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise errors.ManifestError(f"{what} must be true or false")
    return value


def _string_map(value: object, *, what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, item in _mapping(value, what=what).items():
        if not isinstance(key, str):
            raise errors.ManifestError(f"{what}: keys must be strings (quote them)")
        if not isinstance(item, str):
            raise errors.ManifestError(
                f"{what}: the value of {_show(key)} must be a string (quote it)"
            )
        out[key] = item
    return out
