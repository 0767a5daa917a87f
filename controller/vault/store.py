"""VaultStore / ClusterVaultStore `spec` -> a validated, frozen `StoreConfig`. Pure: no I/O.

Called by the Vault handlers when a store is created or changed, and `admits` on every sync
that names a ClusterVaultStore. The accepted spec (unknown fields are refused, so a typo such
as `audience` for `audiences` is an error, not a silent no-op):

    server:     https://vault.example:8200   (http only to 127.0.0.0/8, ::1 or localhost)
    namespace:  ns1/ns2                      (Vault Enterprise namespace, optional)
    caBundle:   PEM text                     | caProvider: {type: Secret|ConfigMap, name, key,
                                                             namespace (cluster stores only)}
    kv:         {mount: secret, version: 2}  (the defaults)
    pathPrefix: tenants/{namespace}          (required for a ClusterVaultStore)
    auth:       exactly one of
        token:      {secretRef: {name, key, namespace?}}
        kubernetes: {role, mountPath: kubernetes, serviceAccountRef: {name, namespace?},
                     audiences: [..]}
        appRole:    {roleId, secretRef: {name, key, namespace?}, mountPath: approle}
    allowedNamespaces: [a, b]                (ClusterVaultStore only)
    namespaceSelector: {matchLabels, matchExpressions}   (ClusterVaultStore only; `{}` = all)
    trustedNamespaceLabels: [team.example/tier]  (ClusterVaultStore only)

References to Secrets, ConfigMaps and service accounts of a namespaced VaultStore always
resolve in the store's own namespace (no `namespace` field allowed): a tenant store cannot
point at another namespace's credentials. A ClusterVaultStore admits no namespace unless
`allowedNamespaces` or `namespaceSelector` says so (fail closed).

Namespace labels are not trusted by default: whoever may edit a Namespace (many tenancy setups
let tenants label their own) could label their way into a selector. So a `namespaceSelector` may
only name `kubernetes.io/metadata.name`, whose value `admits` takes from the namespace's name
itself (the API server sets that label only from 1.21, and a 1.20 server lets anyone forge it),
and the label keys the admin lists in `trustedNamespaceLabels`, asserting that tenants cannot
write them (RBAC on Namespaces, or an admission policy). A selector naming any other key is an
invalid store; labels outside that set are never looked at.

Every violation raises `VaultError(reason="InvalidStore", retryable=False)` naming the field.
"""

from __future__ import annotations

import dataclasses
import re
import ssl
import urllib.parse
from collections.abc import Mapping, Sequence

from controller.loopback import is_loopback
from controller.vault import mapping
from sealer import errors

__all__ = [
    "CLUSTER_VAULT_STORE",
    "NAME_LABEL",
    "VAULT_STORE",
    "AppRoleAuth",
    "Auth",
    "CaProvider",
    "KubernetesAuth",
    "LabelSelector",
    "ObjectKeyRef",
    "Requirement",
    "StoreConfig",
    "TokenAuth",
    "admits",
    "parse_server",
    "parse_store",
]

VAULT_STORE = "VaultStore"
CLUSTER_VAULT_STORE = "ClusterVaultStore"
MAX_CA_BUNDLE = 1 << 20
NAME_LABEL = "kubernetes.io/metadata.name"  # derived from the namespace's name, never read

_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
_LABEL_KEY = re.compile(
    r"([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
# Mount paths and Vault namespaces: segments of [A-Za-z0-9_.-], never "." or "..".
_VAULT_NAME = re.compile(r"(?!\.\.?(/|$))[A-Za-z0-9_.-]+(/(?!\.\.?(/|$))[A-Za-z0-9_.-]+)*")
_OPERATORS = frozenset({"In", "NotIn", "Exists", "DoesNotExist"})


@dataclasses.dataclass(frozen=True)
class ObjectKeyRef:
    """A key of a Secret (or ConfigMap); `namespace` is None for "the store's namespace"."""

    name: str
    key: str
    namespace: str | None = None


@dataclasses.dataclass(frozen=True)
class CaProvider:
    type: str
    ref: ObjectKeyRef


@dataclasses.dataclass(frozen=True)
class TokenAuth:
    secret_ref: ObjectKeyRef
    method = "token"


@dataclasses.dataclass(frozen=True)
class KubernetesAuth:
    role: str
    service_account: str
    service_account_namespace: str | None = None
    mount_path: str = "kubernetes"
    audiences: tuple[str, ...] = ()
    method = "kubernetes"


@dataclasses.dataclass(frozen=True)
class AppRoleAuth:
    role_id: str
    secret_ref: ObjectKeyRef
    mount_path: str = "approle"
    method = "appRole"


Auth = TokenAuth | KubernetesAuth | AppRoleAuth


@dataclasses.dataclass(frozen=True)
class Requirement:
    key: str
    operator: str
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        if self.operator == "Exists":
            return self.key in labels
        if self.operator == "DoesNotExist":
            return self.key not in labels
        inside = self.key in labels and labels[self.key] in self.values
        return inside if self.operator == "In" else not inside


@dataclasses.dataclass(frozen=True)
class LabelSelector:
    """A Kubernetes label selector; the empty selector matches every namespace."""

    match_labels: tuple[tuple[str, str], ...] = ()
    match_expressions: tuple[Requirement, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        return (all(labels.get(k) == v for k, v in self.match_labels)
                and all(r.matches(labels) for r in self.match_expressions))


@dataclasses.dataclass(frozen=True)
class StoreConfig:
    kind: str
    server: str
    auth: Auth
    kv_mount: str = "secret"
    kv_version: int = 2
    vault_namespace: str | None = None
    ca_bundle: str | None = None
    ca_provider: CaProvider | None = None
    path_prefix: str | None = None
    store_namespace: str | None = None
    allowed_namespaces: tuple[str, ...] = ()
    namespace_selector: LabelSelector | None = None
    trusted_namespace_labels: tuple[str, ...] = ()


def _invalid(message: str) -> errors.VaultError:
    return errors.VaultError(f"invalid store: {message}", reason="InvalidStore", retryable=False)


def _obj(value: object, where: str, allowed: Sequence[str]) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise _invalid(f"{where} must be an object")
    for key in value:
        if key not in allowed:
            raise _invalid(f"{where} has unknown field {mapping.show(str(key))}")
    return value


def _str(obj: Mapping[str, object], name: str, where: str, *, default: str | None = None,
         pattern: re.Pattern[str] | None = None, limit: int = 253) -> str:
    value = obj.get(name, default)
    if not isinstance(value, str) or not value:
        raise _invalid(f"{where}.{name} must be a non-empty string")
    if len(value) > limit or (pattern is not None and pattern.fullmatch(value) is None):
        raise _invalid(f"{where}.{name} {mapping.show(value)} is not valid")
    return value


def _optional_str(obj: Mapping[str, object], name: str, where: str,
                  pattern: re.Pattern[str], limit: int = 253) -> str | None:
    if obj.get(name) is None:
        return None
    return _str(obj, name, where, pattern=pattern, limit=limit)



def parse_server(value: object) -> str:
    """https to anywhere; plain http only to a loopback address; no credentials in the URL."""
    if not isinstance(value, str) or not value or len(value) > 2048:
        raise _invalid("spec.server must be a URL")
    if any(ord(c) <= 0x20 or ord(c) >= 0x7F for c in value):
        raise _invalid("spec.server contains whitespace, control or non-ASCII characters")
    parts = urllib.parse.urlsplit(value)
    try:
        parts.port  # noqa: B018 -- raises ValueError for a bad port
    except ValueError:
        raise _invalid("spec.server has an invalid port") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not parts.hostname:
        raise _invalid("spec.server must be an https:// URL with a host")
    if parts.username is not None or parts.password is not None:
        raise _invalid("spec.server must not carry credentials")
    if parts.query or parts.fragment:
        raise _invalid("spec.server must not have a query or fragment")
    if scheme == "http" and not is_loopback(parts.hostname):
        raise _invalid("spec.server may use plain http only to a loopback address; use https")
    return value.rstrip("/")


def _object_ref(value: object, where: str, *, cluster: bool) -> ObjectKeyRef:
    ref = _obj(value, where, ("name", "key", "namespace"))
    namespace = _optional_str(ref, "namespace", where, _DNS_LABEL, 63)
    if cluster and namespace is None:
        raise _invalid(f"{where}.namespace is required in a ClusterVaultStore")
    if not cluster and namespace is not None:
        raise _invalid(f"{where}.namespace is not allowed in a VaultStore")
    key = mapping.validate_secret_key(ref.get("key"), where=f"invalid store: {where}.key")
    return ObjectKeyRef(name=_str(ref, "name", where, pattern=_DNS_SUBDOMAIN), key=key,
                        namespace=namespace)


def _parse_kubernetes(value: object, *, cluster: bool) -> KubernetesAuth:
    where = "spec.auth.kubernetes"
    spec = _obj(value, where, ("role", "mountPath", "serviceAccountRef", "audiences"))
    sa = _obj(spec.get("serviceAccountRef"), f"{where}.serviceAccountRef", ("name", "namespace"))
    sa_namespace = _optional_str(sa, "namespace", f"{where}.serviceAccountRef", _DNS_LABEL, 63)
    if cluster != (sa_namespace is not None):
        raise _invalid(f"{where}.serviceAccountRef.namespace is "
                       + ("required in a ClusterVaultStore" if cluster
                          else "not allowed in a VaultStore"))
    audiences = spec.get("audiences", [])
    if not isinstance(audiences, list) or not all(
            isinstance(a, str) and 0 < len(a) <= 1024 for a in audiences):
        raise _invalid(f"{where}.audiences must be a list of non-empty strings")
    return KubernetesAuth(
        role=_str(spec, "role", where, limit=1024),
        service_account=_str(sa, "name", f"{where}.serviceAccountRef", pattern=_DNS_SUBDOMAIN),
        service_account_namespace=sa_namespace,
        mount_path=_str(spec, "mountPath", where, default="kubernetes", pattern=_VAULT_NAME),
        audiences=tuple(audiences),
    )


def _parse_auth(value: object, *, cluster: bool) -> Auth:
    auth = _obj(value, "spec.auth", ("token", "kubernetes", "appRole"))
    chosen = [name for name in ("token", "kubernetes", "appRole") if auth.get(name) is not None]
    if len(chosen) != 1:
        raise _invalid("spec.auth must set exactly one of token, kubernetes, appRole")
    if chosen[0] == "token":
        token = _obj(auth["token"], "spec.auth.token", ("secretRef",))
        return TokenAuth(_object_ref(token.get("secretRef"), "spec.auth.token.secretRef",
                                     cluster=cluster))
    if chosen[0] == "kubernetes":
        return _parse_kubernetes(auth["kubernetes"], cluster=cluster)
    where = "spec.auth.appRole"
    role = _obj(auth["appRole"], where, ("roleId", "secretRef", "mountPath"))
    return AppRoleAuth(
        role_id=_str(role, "roleId", where, limit=1024),
        secret_ref=_object_ref(role.get("secretRef"), f"{where}.secretRef", cluster=cluster),
        mount_path=_str(role, "mountPath", where, default="approle", pattern=_VAULT_NAME),
    )


def _parse_kv(value: object) -> tuple[str, int]:
    kv = _obj({} if value is None else value, "spec.kv", ("mount", "version"))
    version = kv.get("version", 2)
    if isinstance(version, bool) or version not in (1, 2):
        raise _invalid("spec.kv.version must be 1 or 2")
    assert isinstance(version, int)
    return _str(kv, "mount", "spec.kv", default="secret", pattern=_VAULT_NAME), version


def _parse_ca(spec: Mapping[str, object], *, cluster: bool) -> tuple[str | None,
                                                                       CaProvider | None]:
    bundle, provider = spec.get("caBundle"), spec.get("caProvider")
    if bundle is not None and provider is not None:
        raise _invalid("spec.caBundle and spec.caProvider are mutually exclusive")
    if bundle is not None:
        if not isinstance(bundle, str) or not 0 < len(bundle) <= MAX_CA_BUNDLE:
            raise _invalid("spec.caBundle must be PEM text")
        try:
            ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cadata=bundle)
        except (ssl.SSLError, ValueError):
            raise _invalid("spec.caBundle holds no valid PEM certificate") from None
        return bundle, None
    if provider is None:
        return None, None
    where = "spec.caProvider"
    raw = _obj(provider, where, ("type", "name", "key", "namespace"))
    kind = raw.get("type", "Secret")
    if kind not in ("Secret", "ConfigMap"):
        raise _invalid(f"{where}.type must be Secret or ConfigMap")
    ref = _object_ref({k: v for k, v in raw.items() if k != "type"}, where, cluster=cluster)
    return None, CaProvider(type=str(kind), ref=ref)


def _parse_selector(value: object) -> LabelSelector | None:
    if value is None:
        return None
    where = "spec.namespaceSelector"
    raw = _obj(value, where, ("matchLabels", "matchExpressions"))
    labels = raw.get("matchLabels") or {}
    if not isinstance(labels, Mapping) or not all(
            isinstance(k, str) and _LABEL_KEY.fullmatch(k) and isinstance(v, str)
            and _LABEL_VALUE.fullmatch(v) for k, v in labels.items()):
        raise _invalid(f"{where}.matchLabels must map label keys to label values")
    exprs = raw.get("matchExpressions") or []
    if not isinstance(exprs, list):
        raise _invalid(f"{where}.matchExpressions must be a list")
    return LabelSelector(match_labels=tuple(sorted(labels.items())),
                         match_expressions=tuple(_parse_requirement(e) for e in exprs))


def _parse_requirement(value: object) -> Requirement:
    where = "spec.namespaceSelector.matchExpressions[]"
    raw = _obj(value, where, ("key", "operator", "values"))
    key = _str(raw, "key", where, pattern=_LABEL_KEY, limit=317)
    operator = raw.get("operator")
    values = raw.get("values") or []
    if operator not in _OPERATORS:
        raise _invalid(f"{where}.operator must be one of In, NotIn, Exists, DoesNotExist")
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise _invalid(f"{where}.values must be a list of strings")
    if (operator in ("In", "NotIn")) != bool(values):
        raise _invalid(f"{where}.values must be set exactly for In and NotIn")
    return Requirement(key=key, operator=str(operator), values=tuple(values))


def _parse_admission(spec: Mapping[str, object]) -> tuple[tuple[str, ...],
                                                          LabelSelector | None,
                                                          tuple[str, ...]]:
    allowed = spec.get("allowedNamespaces") or []
    if not isinstance(allowed, list) or not all(
            isinstance(n, str) and _DNS_LABEL.fullmatch(n) for n in allowed):
        raise _invalid("spec.allowedNamespaces must be a list of namespace names")
    trusted = spec.get("trustedNamespaceLabels") or []
    if not isinstance(trusted, list) or not all(
            isinstance(k, str) and len(k) <= 317 and _LABEL_KEY.fullmatch(k) for k in trusted):
        raise _invalid("spec.trustedNamespaceLabels must be a list of label keys")
    selector = _parse_selector(spec.get("namespaceSelector"))
    if selector is not None:
        keys = [k for k, _ in selector.match_labels] + [
            r.key for r in selector.match_expressions]
        for key in keys:
            if key != NAME_LABEL and key not in trusted:
                raise _invalid(
                    f"spec.namespaceSelector uses the label {mapping.show(key)}, which a tenant "
                    f"may set on their own Namespace; select by {NAME_LABEL}, or list the key "
                    "in spec.trustedNamespaceLabels if only admins can write it")
    return tuple(allowed), selector, tuple(trusted)


_COMMON_FIELDS = ("server", "namespace", "caBundle", "caProvider", "kv", "pathPrefix", "auth")
_CLUSTER_FIELDS = (*_COMMON_FIELDS, "allowedNamespaces", "namespaceSelector",
                   "trustedNamespaceLabels")


def parse_store(spec: Mapping[str, object], *, kind: str,
                store_namespace: str | None = None) -> StoreConfig:
    """Validate a store spec. `store_namespace` is required for a VaultStore, absent otherwise."""
    if kind not in (VAULT_STORE, CLUSTER_VAULT_STORE):
        raise ValueError(f"unknown store kind {kind!r}")
    cluster = kind == CLUSTER_VAULT_STORE
    if cluster != (store_namespace is None):
        raise ValueError("store_namespace is required for a VaultStore and only for it")
    spec = _obj(spec, "spec", _CLUSTER_FIELDS if cluster else _COMMON_FIELDS)
    prefix = spec.get("pathPrefix")
    if prefix is not None:
        if not isinstance(prefix, str):
            raise _invalid("spec.pathPrefix must be a string")
        mapping.clean_path(prefix.replace("{namespace}", "ns"), what="spec.pathPrefix",
                           reason="InvalidStore")
        if "{" in prefix.replace("{namespace}", "") or "}" in prefix.replace("{namespace}", ""):
            raise _invalid("spec.pathPrefix may only use the placeholder {namespace}")
    elif cluster:
        raise _invalid("spec.pathPrefix is required in a ClusterVaultStore")
    mount, version = _parse_kv(spec.get("kv"))
    ca_bundle, ca_provider = _parse_ca(spec, cluster=cluster)
    allowed, selector, trusted = _parse_admission(spec) if cluster else ((), None, ())
    return StoreConfig(
        kind=kind,
        server=parse_server(spec.get("server")),
        auth=_parse_auth(spec.get("auth"), cluster=cluster),
        kv_mount=mount,
        kv_version=version,
        vault_namespace=_optional_str(spec, "namespace", "spec", _VAULT_NAME, 1024),
        ca_bundle=ca_bundle,
        ca_provider=ca_provider,
        path_prefix=prefix,
        store_namespace=store_namespace,
        allowed_namespaces=allowed,
        namespace_selector=selector,
        trusted_namespace_labels=trusted,
    )


def admits(store: StoreConfig, *, namespace: str, namespace_labels: Mapping[str, str]) -> bool:
    """May an object in `namespace` (with these labels) sync through `store`?

    Only the trusted labels count; `kubernetes.io/metadata.name` is the namespace's name."""
    if store.store_namespace is not None:
        return namespace == store.store_namespace
    if namespace in store.allowed_namespaces:
        return True
    if store.namespace_selector is None:
        return False
    labels = {k: v for k, v in namespace_labels.items() if k in store.trusted_namespace_labels}
    labels[NAME_LABEL] = namespace
    return store.namespace_selector.matches(labels)

