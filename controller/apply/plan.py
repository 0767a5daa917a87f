"""Planning one apply: policy checks and the few mutations made to rendered objects.

`plan(objects, *, policy, cluster)` returns the objects to apply, staged and ordered, and
the inventory they will make up; it raises before anything touches the cluster:

- an empty render, unless `allow_empty` (an empty tree usually means a wrong branch or path,
  and applying it would prune everything: K45);
- a plaintext `Secret` (non-empty `data`/`stringData`) unless `allow_plaintext_secrets`, and
  likewise a `template.data` value that is not a template reading a sealed item or Vault key
  (`sealer.templating.policy`: a literal there is plaintext in Git);
- a Secret type outside `allowed_secret_types`, checked on Secrets and on the `spec.template`
  of SealedSecret/VaultSecret; `kubernetes.io/service-account-token` is always refused (S18);
- with `refuse_privileged_pods`, a workload whose Pod template asks for host access
  (`podpolicy`: hostPath, host namespaces, privileged containers);
- a namespace outside `allowed_namespaces` (None: no restriction), a cluster-scoped object when
  `allow_cluster_scoped` is off (a `Namespace` in the allow-list is always fine), a namespaced
  object with no namespace and no `target_namespace`, and the same object twice.

Mutations, on deep copies: namespaced objects that name no namespace get `target_namespace`;
cluster-scoped objects lose any `metadata.namespace`; every object gets the ownership label
`sealops.dev/sync: <namespace>.<name>` of the GitSync. Whether a kind is namespaced comes from
the cluster (`scope.resolver`): a CRD in the render may only describe kinds the cluster does not
serve, in a group that is not built in, and only when `allow_crds`.

`plan_prune` decides which stale inventory entries may be deleted: only objects that still
carry our label and are not annotated `sealops.dev/prune: disabled`.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from controller.apply import inventory, ordering, podpolicy, scope
from sealer import errors
from sealer.templating import policy as template_policy

__all__ = [
    "DEFAULT_SECRET_TYPES",
    "PRUNE_ANNOTATION",
    "SA_TOKEN_TYPE",
    "SYNC_LABEL",
    "LiveMeta",
    "Plan",
    "PrunePlan",
    "SyncPolicy",
    "plan",
    "plan_prune",
    "sync_label_value",
]

SYNC_LABEL = scope.SYNC_LABEL
PRUNE_ANNOTATION = "sealops.dev/prune"
PRUNE_DISABLED = "disabled"
SA_TOKEN_TYPE = "kubernetes.io/service-account-token"  # noqa: S105 - a Secret type name
DEFAULT_SECRET_TYPES = frozenset(
    {
        "Opaque",
        "kubernetes.io/tls",
        "kubernetes.io/dockerconfigjson",
        "kubernetes.io/dockercfg",
        "kubernetes.io/basic-auth",
        "kubernetes.io/ssh-auth",
    }
)
_DNS_LABEL = re.compile(r"^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$")
_LABEL_VALUE = re.compile(r"^[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")

IsNamespaced = Callable[[str, str], bool]


@dataclass(frozen=True)
class SyncPolicy:
    """What one GitSync may do; built from its spec and the controller's settings."""

    sync_namespace: str
    sync_name: str
    target_namespace: str | None = None
    allowed_namespaces: frozenset[str] | None = None
    allow_cluster_scoped: bool = True
    allow_plaintext_secrets: bool = False
    allowed_secret_types: frozenset[str] = DEFAULT_SECRET_TYPES
    allow_empty: bool = False
    allow_crds: bool = False
    refuse_privileged_pods: bool = False
    max_prune_ratio: float | None = None


@dataclass(frozen=True)
class Plan:
    """Objects in three stages (see `ordering.STAGE_NAMES`) and the inventory they form."""

    stages: tuple[tuple[dict[str, Any], ...], ...]
    inventory: inventory.Inventory

    @property
    def objects(self) -> tuple[dict[str, Any], ...]:
        return tuple(obj for stage in self.stages for obj in stage)


@dataclass(frozen=True)
class LiveMeta:
    """The labels and annotations of a live object, as read just before pruning."""

    labels: Mapping[str, str]
    annotations: Mapping[str, str]


@dataclass(frozen=True)
class PrunePlan:
    """`prune`: delete, in this order. `kept`: left alone, with why; `gone`: already absent.

    Kept and gone entries leave the inventory; an entry whose delete fails is merged back by
    the caller (`Inventory.merge`).
    """

    prune: tuple[inventory.Entry, ...]
    kept: tuple[tuple[inventory.Entry, str], ...]
    gone: tuple[inventory.Entry, ...]


def sync_label_value(namespace: str, name: str) -> str:
    """The ownership label value; `PolicyError` when it cannot be a label value (> 63 chars)."""
    value = f"{namespace}.{name}"
    if not _LABEL_VALUE.match(value):
        raise errors.PolicyError(
            f"GitSync {namespace}/{name}: '<namespace>.<name>' must be a valid label value "
            "of at most 63 characters"
        )
    return value


def plan(
    objects: Sequence[Mapping[str, Any]], *, policy: SyncPolicy, cluster: scope.Cluster
) -> Plan:
    """Check `objects` against `policy` and return them labelled, placed and staged."""
    if not objects and not policy.allow_empty:
        raise errors.PolicyError(
            "the render produced no objects; refusing to apply and prune everything "
            "(set allowEmpty if this is intended)"
        )
    label = sync_label_value(policy.sync_namespace, policy.sync_name)
    is_namespaced = scope.resolver(objects, cluster=cluster, allow_crds=policy.allow_crds,
                                   label=label)
    planned = [_prepare(obj, policy=policy, label=label, scope=is_namespaced) for obj in objects]
    _check_unique(planned)
    staged = tuple(tuple(stage) for stage in ordering.stages(planned))
    return Plan(stages=staged, inventory=inventory.Inventory.from_objects(planned))


def plan_prune(
    stale: Sequence[inventory.Entry],
    live: Mapping[str, LiveMeta | None],
    *,
    policy: SyncPolicy,
    inventory_size: int,
) -> PrunePlan:
    """Split stale entries by the live objects' metadata (`live[entry.id]`, None if absent)."""
    label = sync_label_value(policy.sync_namespace, policy.sync_name)
    prune: list[inventory.Entry] = []
    kept: list[tuple[inventory.Entry, str]] = []
    gone: list[inventory.Entry] = []
    for entry in stale:
        if entry.id not in live:
            raise ValueError(f"no live metadata given for {entry}")
        meta = live[entry.id]
        if meta is None:
            gone.append(entry)
        elif meta.labels.get(SYNC_LABEL) != label:
            kept.append((entry, f"not labelled {SYNC_LABEL}={label} any more"))
        elif meta.annotations.get(PRUNE_ANNOTATION) == PRUNE_DISABLED:
            kept.append((entry, f"annotated {PRUNE_ANNOTATION}: {PRUNE_DISABLED}"))
        else:
            prune.append(entry)
    _check_prune_ratio(len(prune), inventory_size, policy=policy)
    return PrunePlan(prune=tuple(prune), kept=tuple(kept), gone=tuple(gone))


def _prepare(
    obj: Mapping[str, Any], *, policy: SyncPolicy, label: str, scope: IsNamespaced
) -> dict[str, Any]:
    result = copy.deepcopy(dict(obj))
    api_version, kind = str(result["apiVersion"]), str(result["kind"])
    if not isinstance(result.get("metadata"), dict):
        raise errors.ManifestError(f"{kind}: metadata must be a mapping")
    if scope(api_version, kind):
        _place_namespaced(result, policy=policy)
    else:
        _place_cluster_scoped(result, policy=policy)
    _check_secret(result, policy=policy)
    if policy.refuse_privileged_pods:
        podpolicy.check(result, what=_describe(result))
    labels = result["metadata"].setdefault("labels", {})
    if not isinstance(labels, dict):
        raise errors.ManifestError(f"{_describe(result)}: metadata.labels must be a mapping")
    labels[SYNC_LABEL] = label
    return result


def _place_namespaced(obj: dict[str, Any], *, policy: SyncPolicy) -> None:
    metadata = obj["metadata"]
    namespace = metadata.get("namespace") or policy.target_namespace
    if not namespace:
        raise errors.ManifestError(
            f"{_describe(obj)}: a namespaced object names no namespace and the GitSync sets "
            "no target namespace"
        )
    if not isinstance(namespace, str) or not _DNS_LABEL.match(namespace):
        raise errors.ManifestError(f"{_describe(obj)}: invalid namespace {ascii(namespace)[:80]}")
    if policy.allowed_namespaces is not None and namespace not in policy.allowed_namespaces:
        raise errors.PolicyError(
            f"{_describe(obj)}: namespace {namespace!r} is not allowed for this GitSync"
        )
    metadata["namespace"] = namespace


def _place_cluster_scoped(obj: dict[str, Any], *, policy: SyncPolicy) -> None:
    obj["metadata"].pop("namespace", None)
    core_namespace = obj["kind"] == "Namespace" and ordering.group_of(obj["apiVersion"]) == ""
    if core_namespace and policy.allowed_namespaces is not None:
        if obj["metadata"]["name"] not in policy.allowed_namespaces:
            raise errors.PolicyError(f"{_describe(obj)}: namespace is not allowed for this GitSync")
        return
    if not policy.allow_cluster_scoped:
        raise errors.PolicyError(
            f"{_describe(obj)}: cluster-scoped objects are not allowed for this GitSync"
        )


def _check_secret(obj: dict[str, Any], *, policy: SyncPolicy) -> None:
    api_version, kind = obj["apiVersion"], obj["kind"]
    if kind == "Secret" and ordering.group_of(api_version) == "":
        _check_secret_type(obj, obj.get("type", "Opaque"), policy=policy)
        if (obj.get("data") or obj.get("stringData")) and not policy.allow_plaintext_secrets:
            raise errors.PolicyError(
                f"{_describe(obj)}: plaintext Secret in Git; seal it with `seal` "
                "(or allow plaintext Secrets for this GitSync)"
            )
    elif ordering.is_secret_bearing(api_version, kind):
        spec = obj.get("spec")
        template = spec.get("template") if isinstance(spec, dict) else None
        if isinstance(template, dict) and "type" in template:
            _check_secret_type(obj, template["type"], policy=policy)
        if not policy.allow_plaintext_secrets:
            _check_templates(obj)


def _check_templates(obj: dict[str, Any]) -> None:
    """template.data must be templates that read sealed items (a literal is plaintext)."""
    for problem in template_policy.problems(obj):
        field = ".".join(problem.path[:-1] if problem.key is not None else problem.path)
        key = f" key {problem.key[:100]!r}" if problem.key is not None else ""
        raise errors.PolicyError(f"{_describe(obj)}: {field}{key}: {problem.message}")


def _check_secret_type(obj: dict[str, Any], secret_type: object, *, policy: SyncPolicy) -> None:
    if secret_type is None:
        return
    if not isinstance(secret_type, str):
        raise errors.PolicyError(f"{_describe(obj)}: the Secret type must be a string")
    if secret_type == SA_TOKEN_TYPE:
        raise errors.PolicyError(
            f"{_describe(obj)}: Secrets of type {SA_TOKEN_TYPE} are never applied"
        )
    if secret_type not in policy.allowed_secret_types:
        raise errors.PolicyError(
            f"{_describe(obj)}: Secret type {secret_type[:100]!r} is not allowed"
        )


def _check_unique(objects: Sequence[Mapping[str, Any]]) -> None:
    seen: set[str] = set()
    for obj in objects:
        entry_id = inventory.Entry.from_object(obj).id
        if entry_id in seen:
            raise errors.ManifestError(f"{_describe(obj)} is defined more than once")
        seen.add(entry_id)


def _check_prune_ratio(count: int, size: int, *, policy: SyncPolicy) -> None:
    ratio = policy.max_prune_ratio
    if ratio is not None and size > 0 and count / size > ratio:
        raise errors.PolicyError(
            f"refusing to prune {count} of {size} objects (more than {ratio:.0%}); "
            "check the source's branch and path"
        )


def _describe(obj: Mapping[str, Any]) -> str:
    metadata = obj.get("metadata") or {}
    namespace = metadata.get("namespace")
    name = str(metadata.get("name", "?"))
    where = f"{namespace}/{name}" if namespace else name
    return f"{obj.get('kind', '?')} {where}"[:200]
