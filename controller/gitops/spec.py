"""A GitSync's spec, parsed and checked, and the policy it gets (which namespaces it manages).

Namespace rule (HOSTILE-INPUTS S18; documented in crds/gitsyncs.sealops.dev.yaml):

- A GitSync in the controller's namespace belongs to the cluster admin: it may apply objects to
  any namespace and cluster-scoped objects (CRDs, Namespaces, ClusterRoles, ...).
- Any other GitSync (a tenant's) manages its own namespace only: a `spec.targetNamespace`
  naming another namespace is refused, since the controller's rights would otherwise let
  whoever may create a GitSync in one namespace write into any other (a confused deputy).
  Cluster-scoped objects are refused except a `Namespace` object naming its own namespace.
  Syncing into several namespaces is the admin's: put that GitSync in the controller's
  namespace.
- Anything outside -> `PolicyError`, reported as `PolicyViolation`; nothing is applied.

Identity (issue 10, item 3; Flux's model): `spec.serviceAccountName` names a ServiceAccount in
the GitSync's namespace; every apply, prune and dry run of the sync then impersonates it, so the
API server authorizes the tenant's account, not the controller's. A tenant GitSync without one
uses the controller's `--default-service-account` when set; `service_account_for` gives the
name, or None only for the admin's GitSyncs and (without the flag) for tenants, which then act
as the controller itself, whose deploy/ account may write nothing a GitSync needs.

Durations are Go-style (`5m`, `1h30m`); `interval` defaults to 5m, `timeout` to the interval.

Dependencies and health (issue 14 item 1; Flux's model): `spec.dependsOn` lists GitSyncs
(`name`, optional `namespace`, default this one's) that must be Ready at their current revision
first; `spec.wait` checks every applied object after apply, `spec.healthChecks` names objects
to check (`apiVersion`, `kind`, `name`, optional `namespace`). A tenant's references may only
name its own namespace (`check_references`), like everything else a tenant's GitSync touches;
the admin's may name any namespace.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from controller.apply import plan
from controller.settings import parse_duration
from controller.sources import git
from sealer import errors

__all__ = ["DEFAULT_INTERVAL", "MAX_DEPENDENCIES", "MAX_HEALTH_CHECKS", "GitSyncSpec",
           "ObjectRef", "check_references", "parse", "policy_for", "service_account_for"]

DEFAULT_INTERVAL = datetime.timedelta(minutes=5)
MIN_INTERVAL = datetime.timedelta(seconds=1)
_DNS_LABEL = re.compile(r"^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?$")
_API_VERSION = re.compile(r"^(?:[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?/)?v[0-9a-z]{1,20}$")
_KIND = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,62}$")
MAX_DEPENDENCIES = 32
MAX_HEALTH_CHECKS = 64


@dataclass(frozen=True)
class ObjectRef:
    """An object a GitSync names: a dependency (kind GitSync) or a health check."""

    name: str
    namespace: str | None = None  # None: cluster-scoped (health checks only)
    api_version: str = "sealops.dev/v1alpha1"
    kind: str = "GitSync"

    def __str__(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {where}"


@dataclass(frozen=True)
class GitSyncSpec:
    url: str
    ref: git.Ref
    path: str = "."
    interval: float = DEFAULT_INTERVAL.total_seconds()
    timeout: float = DEFAULT_INTERVAL.total_seconds()
    prune: bool = False
    target_namespace: str | None = None
    secret_ref: str | None = None
    suspend: bool = False
    allow_empty: bool = False
    allow_plaintext_secrets: bool = False
    service_account_name: str | None = None
    depends_on: tuple[ObjectRef, ...] = ()
    wait: bool = False
    health_checks: tuple[ObjectRef, ...] = ()
    kube_config: tuple[str, str] | None = None  # (Secret name, key): a remote cluster


def parse(spec: Any, *, namespace: str | None = None) -> GitSyncSpec:
    """The checked spec; `ManifestError` naming the field for anything malformed.
    `namespace` (the GitSync's) fills dependencies that name none."""
    if not isinstance(spec, Mapping):
        raise errors.ManifestError("spec must be a mapping")
    url = spec.get("url")
    if not isinstance(url, str) or not url:
        raise errors.ManifestError("spec.url is required")
    interval = _duration(spec, "interval", DEFAULT_INTERVAL)
    if interval < MIN_INTERVAL:
        raise errors.ManifestError(f"spec.interval must be at least {MIN_INTERVAL.seconds}s")
    timeout = _duration(spec, "timeout", interval)
    return GitSyncSpec(
        url=url, ref=_ref(spec.get("ref")), path=_string(spec, "path") or ".",
        interval=interval.total_seconds(), timeout=max(1.0, timeout.total_seconds()),
        prune=_flag(spec, "prune"), target_namespace=_namespace(spec.get("targetNamespace")),
        secret_ref=_secret_ref(spec.get("secretRef")), suspend=_flag(spec, "suspend"),
        allow_empty=_flag(spec, "allowEmpty"),
        allow_plaintext_secrets=_flag(spec, "allowPlaintextSecrets"),
        service_account_name=_account(spec.get("serviceAccountName")),
        depends_on=_dependencies(spec.get("dependsOn"), namespace=namespace),
        wait=_flag(spec, "wait"), health_checks=_health_checks(spec.get("healthChecks")),
        kube_config=_kube_config(spec.get("kubeConfig")))


def check_references(spec: GitSyncSpec, *, namespace: str, name: str,
                     controller_namespace: str) -> None:
    """`PolicyError` when a tenant's dependency or health check names another namespace: the
    controller would read it for the tenant. (A health check naming no namespace means the
    GitSync's own for a namespaced kind; a tenant's cluster-scoped one is refused by
    `health`.)"""
    if namespace == controller_namespace:
        return
    for field, refs in (("dependsOn", spec.depends_on), ("healthChecks", spec.health_checks)):
        for ref in refs:
            if ref.namespace not in (namespace, None):
                raise errors.PolicyError(
                    f"GitSync {namespace}/{name}: spec.{field} names {ref}; a GitSync outside "
                    f"{controller_namespace} may only refer to objects in its own namespace")


def policy_for(spec: GitSyncSpec, *, namespace: str, name: str, controller_namespace: str,
               refuse_privileged_pods: bool = False) -> plan.SyncPolicy:
    """The `SyncPolicy` of the GitSync `namespace/name` (see the namespace rule above)."""
    admin = namespace == controller_namespace
    target = spec.target_namespace
    if not admin and target not in (None, namespace):
        where = "the controller's namespace" if target == controller_namespace else \
            "another namespace"
        raise errors.PolicyError(
            f"GitSync {namespace}/{name}: targetNamespace {target!r} is {where}; a GitSync "
            f"outside {controller_namespace} may only manage its own namespace")
    allowed = None if admin else frozenset({namespace})
    return plan.SyncPolicy(
        sync_namespace=namespace, sync_name=name, target_namespace=target or namespace,
        allowed_namespaces=allowed, allow_cluster_scoped=admin, allow_crds=admin,
        allow_plaintext_secrets=spec.allow_plaintext_secrets, allow_empty=spec.allow_empty,
        refuse_privileged_pods=refuse_privileged_pods and not admin)


def service_account_for(spec: GitSyncSpec, *, namespace: str, controller_namespace: str,
                        default: str | None) -> str | None:
    """The ServiceAccount (in `namespace`) the sync impersonates; None: the controller's own
    identity, only for the admin's GitSyncs or when no default is configured."""
    if spec.service_account_name is not None:
        return spec.service_account_name
    return default if namespace != controller_namespace else None


def _ref(value: Any) -> git.Ref:
    if value is None:
        return git.Ref(branch="main")
    if not isinstance(value, Mapping):
        raise errors.ManifestError("spec.ref must be a mapping")
    fields = {key: value.get(key) for key in ("branch", "tag", "commit")}
    for key, item in fields.items():
        if item is not None and not isinstance(item, str):
            raise errors.ManifestError(f"spec.ref.{key} must be a string")
    try:
        return git.Ref(branch=fields["branch"], tag=fields["tag"], commit=fields["commit"])
    except errors.PolicyError as exc:
        raise errors.ManifestError(f"spec.{exc}") from None


def _duration(spec: Mapping[str, Any], key: str,
              default: datetime.timedelta) -> datetime.timedelta:
    value = spec.get(key)
    if value is None:
        return default
    try:
        return parse_duration(str(value))
    except ValueError:
        raise errors.ManifestError(
            f"spec.{key}: invalid duration {str(value)[:40]!r}; use e.g. 5m, 1h, 30s") from None


def _flag(spec: Mapping[str, Any], key: str) -> bool:
    value = spec.get(key, False)
    if not isinstance(value, bool):
        raise errors.ManifestError(f"spec.{key} must be true or false")
    return value


def _string(spec: Mapping[str, Any], key: str) -> str | None:
    value = spec.get(key)
    if value is not None and not isinstance(value, str):
        raise errors.ManifestError(f"spec.{key} must be a string")
    return value


def _namespace(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _DNS_LABEL.match(value):
        raise errors.ManifestError("spec.targetNamespace must be a valid namespace name")
    return value


def _account(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _DNS_SUBDOMAIN.match(value):
        raise errors.ManifestError("spec.serviceAccountName must be a valid ServiceAccount name")
    return value


def _secret_ref(value: Any) -> str | None:
    if value is None:
        return None
    name = value.get("name") if isinstance(value, Mapping) else None
    if not isinstance(name, str) or not _DNS_SUBDOMAIN.match(name):
        raise errors.ManifestError("spec.secretRef.name must be a valid Secret name")
    return name


def _items(value: Any, field: str, limit: int) -> list[Mapping[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(i, Mapping) for i in value):
        raise errors.ManifestError(f"spec.{field} must be a list of mappings")
    if len(value) > limit:
        raise errors.ManifestError(f"spec.{field}: at most {limit} entries")
    return value


def _ref_field(item: Mapping[str, Any], where: str, key: str, pattern: re.Pattern[str],
               *, required: bool = True) -> str | None:
    value = item.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not pattern.match(value):
        raise errors.ManifestError(f"{where}.{key} is missing or invalid")
    return value


def _dependencies(value: Any, *, namespace: str | None) -> tuple[ObjectRef, ...]:
    refs = []
    for i, item in enumerate(_items(value, "dependsOn", MAX_DEPENDENCIES)):
        where = f"spec.dependsOn[{i}]"
        name = _ref_field(item, where, "name", _DNS_SUBDOMAIN)
        ns = _ref_field(item, where, "namespace", _DNS_LABEL, required=False) or namespace
        assert name is not None
        refs.append(ObjectRef(name=name, namespace=ns))
    return tuple(dict.fromkeys(refs))


def _health_checks(value: Any) -> tuple[ObjectRef, ...]:
    refs = []
    for i, item in enumerate(_items(value, "healthChecks", MAX_HEALTH_CHECKS)):
        where = f"spec.healthChecks[{i}]"
        api_version = _ref_field(item, where, "apiVersion", _API_VERSION)
        kind = _ref_field(item, where, "kind", _KIND)
        name = _ref_field(item, where, "name", _DNS_SUBDOMAIN)
        ns = _ref_field(item, where, "namespace", _DNS_LABEL, required=False)
        assert api_version is not None and kind is not None and name is not None
        refs.append(ObjectRef(name=name, namespace=ns, api_version=api_version, kind=kind))
    return tuple(dict.fromkeys(refs))


def _kube_config(value: Any) -> tuple[str, str] | None:
    if value is None:
        return None
    ref = value.get("secretRef") if isinstance(value, Mapping) else None
    name = ref.get("name") if isinstance(ref, Mapping) else None
    key = ref.get("key", "value") if isinstance(ref, Mapping) else None
    if not isinstance(name, str) or not _DNS_SUBDOMAIN.match(name):
        raise errors.ManifestError("spec.kubeConfig.secretRef.name must be a valid Secret name")
    if not isinstance(key, str) or not re.match(r"^[-._a-zA-Z0-9]{1,253}$", key):
        raise errors.ManifestError("spec.kubeConfig.secretRef.key must be a Secret data key")
    return name, key
