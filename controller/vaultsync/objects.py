"""The Vault kinds' names and a VaultSecret's own spec (store, schedule, target). Pure: no I/O.

Called by `controller.vaultsync.reconcile` on every sync and by `runtime` to find a key's store
(its scheduling lane). What Vault data goes where (`data[]`, `dataFrom[]`) is parsed by
`controller.vault.mapping`; this module owns the rest of the spec:

    storeRef:        {name, kind: VaultStore | ClusterVaultStore}   (default VaultStore)
    refreshInterval: Go duration ("1h", "30s"); "0" = sync once       (default 1h)
    target:          {name (default: the VaultSecret's), creationPolicy: Owner|Merge|Orphan,
                      deletionPolicy: Retain|Delete, template: {type, metadata: {labels,
                      annotations}, data: {key: template | null}}}

A `storeRef` has no namespace: a VaultStore is always looked up in the VaultSecret's own
namespace, so a tenant cannot name another namespace's store. Every violation raises
`VaultError(reason="InvalidSpec", retryable=False)` naming the field, never a value.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from controller import reserved, settings
from controller.vault import mapping, store
from sealer import errors
from sealer.kube import client

GROUP = "sealops.dev"
VERSION = "v1alpha1"
VAULT_STORES = client.Resource(GROUP, VERSION, store.VAULT_STORE, "vaultstores", True)
CLUSTER_VAULT_STORES = client.Resource(GROUP, VERSION, store.CLUSTER_VAULT_STORE,
                                       "clustervaultstores", False)
VAULT_SECRETS = client.Resource(GROUP, VERSION, "VaultSecret", "vaultsecrets", True)

OWNER_LABEL = reserved.VAULT_SECRET_LABEL
FORCE_SYNC = "sealops.dev/force-sync"
DEFAULT_INTERVAL_S = 3600.0
MIN_INTERVAL_S = 1.0
REFUSED_TYPES = frozenset({"kubernetes.io/service-account-token", "bootstrap.kubernetes.io/token"})
CREATION_POLICIES = ("Owner", "Merge", "Orphan")
DELETION_POLICIES = ("Retain", "Delete")

_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


@dataclasses.dataclass(frozen=True)
class StoreRef:
    """Which store a VaultSecret uses; `namespace` is None for a ClusterVaultStore."""

    kind: str
    name: str
    namespace: str | None

    @property
    def resource(self) -> client.Resource:
        return VAULT_STORES if self.kind == store.VAULT_STORE else CLUSTER_VAULT_STORES

    @property
    def lane(self) -> str:
        """The Bulkhead/scheduler lane: one per store, so one hung Vault stays contained."""
        return f"{self.kind}/{self.namespace}/{self.name}" if self.namespace else \
            f"{self.kind}/{self.name}"

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace + '/' if self.namespace else ''}{self.name}"


@dataclasses.dataclass(frozen=True)
class Target:
    name: str
    creation_policy: str = "Owner"
    deletion_policy: str = "Retain"
    type: str = "Opaque"
    labels: tuple[tuple[str, str], ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()
    # template.data: key -> template (sealer.templating, from the fetched keys), None = remove
    data: tuple[tuple[str, str | None], ...] = ()


@dataclasses.dataclass(frozen=True)
class SyncSpec:
    store: StoreRef
    interval_s: float
    target: Target


def _invalid(message: str) -> errors.VaultError:
    return errors.VaultError(message, reason="InvalidSpec", retryable=False)


def _object(value: object, where: str, allowed: tuple[str, ...]) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _invalid(f"{where} must be an object")
    for key in value:
        if key not in allowed:
            raise _invalid(f"{where} has unknown field {mapping.show(str(key))}")
    return value


def _choice(obj: Mapping[str, Any], name: str, where: str, choices: tuple[str, ...]) -> str:
    value = obj.get(name, choices[0])
    if value not in choices:
        raise _invalid(f"{where}.{name} must be one of {', '.join(choices)}")
    return str(value)


def store_ref(spec: Mapping[str, Any], *, namespace: str) -> StoreRef:
    ref = _object(spec.get("storeRef"), "spec.storeRef", ("name", "kind"))
    name = ref.get("name")
    if not isinstance(name, str) or _DNS_SUBDOMAIN.fullmatch(name) is None or len(name) > 253:
        raise _invalid("spec.storeRef.name must be a store name")
    kind = _choice(ref, "kind", "spec.storeRef", (store.VAULT_STORE, store.CLUSTER_VAULT_STORE))
    return StoreRef(kind=kind, name=name,
                    namespace=namespace if kind == store.VAULT_STORE else None)


def interval(spec: Mapping[str, Any]) -> float:
    """Seconds between syncs; 0 means "sync once" (and again only when something changes)."""
    raw = spec.get("refreshInterval")
    if raw is None:
        return DEFAULT_INTERVAL_S
    if not isinstance(raw, str):
        raise _invalid("spec.refreshInterval must be a duration such as 1h, 15m or 30s")
    try:
        seconds = settings.parse_duration(raw).total_seconds()
    except ValueError:
        raise _invalid("spec.refreshInterval must be a duration such as 1h, 15m or 30s") \
            from None
    if seconds != 0 and seconds < MIN_INTERVAL_S:
        raise _invalid(f"spec.refreshInterval must be 0 or at least {MIN_INTERVAL_S:.0f}s")
    return seconds


def _string_map(value: object, where: str) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if not isinstance(value, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise _invalid(f"{where} must map strings to strings")
    return tuple(sorted(value.items()))


def target(spec: Mapping[str, Any], *, default_name: str) -> Target:
    raw = _object(spec.get("target"), "spec.target",
                  ("name", "creationPolicy", "deletionPolicy", "template"))
    name = raw.get("name", default_name)
    if not isinstance(name, str) or _DNS_SUBDOMAIN.fullmatch(name) is None or len(name) > 253:
        raise _invalid("spec.target.name must be a Secret name")
    template = _object(raw.get("template"), "spec.target.template", ("type", "metadata", "data"))
    meta = _object(template.get("metadata"), "spec.target.template.metadata",
                   ("labels", "annotations"))
    secret_type = template.get("type", "Opaque")
    if not isinstance(secret_type, str) or not secret_type:
        raise _invalid("spec.target.template.type must be a Secret type")
    if secret_type in REFUSED_TYPES:
        raise _invalid(f"spec.target.template.type {secret_type} is not allowed")
    labels = _string_map(meta.get("labels"), "spec.target.template.metadata.labels")
    return Target(
        name=name,
        creation_policy=_choice(raw, "creationPolicy", "spec.target", CREATION_POLICIES),
        deletion_policy=_choice(raw, "deletionPolicy", "spec.target", DELETION_POLICIES),
        type=secret_type, labels=labels,
        annotations=_string_map(meta.get("annotations"),
                                "spec.target.template.metadata.annotations"),
        data=_templates(template.get("data")))


def _templates(value: object) -> tuple[tuple[str, str | None], ...]:
    if value is None:
        return ()
    if not isinstance(value, Mapping) or not all(
            isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in value.items()):
        raise _invalid("spec.target.template.data must map strings to templates (or null)")
    return tuple(sorted(value.items()))


def parse(body: Mapping[str, Any]) -> SyncSpec:
    """The store, schedule and target of a VaultSecret (its data entries are `mapping`'s)."""
    meta = body["metadata"]
    spec = body.get("spec")
    if not isinstance(spec, Mapping):
        raise _invalid("spec must be an object")
    return SyncSpec(store=store_ref(spec, namespace=meta["namespace"]), interval_s=interval(spec),
                    target=target(spec, default_name=meta["name"]))


def force_value(body: Mapping[str, Any]) -> str | None:
    annotations = (body.get("metadata") or {}).get("annotations") or {}
    value = annotations.get(FORCE_SYNC)
    return value if isinstance(value, str) else None
