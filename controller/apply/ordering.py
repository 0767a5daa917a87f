"""Apply order: which stage an object belongs to, and its place within the stage.

    stage 0  prerequisites       Namespace, CustomResourceDefinition
    stage 1  secret-bearing      SealedSecret (sealops.dev, bitnami.com), VaultSecret (sealops.dev)
    stage 2  everything else     by a fixed kind order (Helm/Flux style), then unknown kinds
                                 alphabetically by (kind, group)

Within one kind, objects are ordered by (namespace, name), so the order never depends on the
order of files in Git. Pure functions over plain dicts; the applier walks `stages()`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

__all__ = [
    "STAGE_NAMES",
    "STAGE_PREREQUISITES",
    "STAGE_SECRETS",
    "STAGE_WORKLOADS",
    "group_of",
    "is_secret_bearing",
    "order",
    "sort_key",
    "stage_of",
    "stages",
]

STAGE_PREREQUISITES = 0
STAGE_SECRETS = 1
STAGE_WORKLOADS = 2
STAGE_NAMES = ("prerequisites", "secrets", "workloads")

_PREREQUISITES: tuple[tuple[str, str], ...] = (
    ("", "Namespace"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
)
_SECRET_BEARING = frozenset(
    {
        ("sealops.dev", "SealedSecret"),
        ("bitnami.com", "SealedSecret"),
        ("sealops.dev", "VaultSecret"),
    }
)
_RBAC = "rbac.authorization.k8s.io"
_KIND_ORDER: tuple[tuple[str, str], ...] = (
    ("scheduling.k8s.io", "PriorityClass"),
    ("networking.k8s.io", "NetworkPolicy"),
    ("", "ResourceQuota"),
    ("", "LimitRange"),
    ("policy", "PodDisruptionBudget"),
    ("", "ServiceAccount"),
    (_RBAC, "Role"),
    (_RBAC, "ClusterRole"),
    (_RBAC, "RoleBinding"),
    (_RBAC, "ClusterRoleBinding"),
    ("", "ConfigMap"),
    ("", "Secret"),
    ("storage.k8s.io", "StorageClass"),
    ("", "PersistentVolume"),
    ("", "PersistentVolumeClaim"),
    ("", "Service"),
    ("", "Endpoints"),
    ("discovery.k8s.io", "EndpointSlice"),
    ("", "Pod"),
    ("", "ReplicationController"),
    ("apps", "ReplicaSet"),
    ("apps", "Deployment"),
    ("apps", "StatefulSet"),
    ("apps", "DaemonSet"),
    ("autoscaling", "HorizontalPodAutoscaler"),
    ("batch", "Job"),
    ("batch", "CronJob"),
    ("networking.k8s.io", "IngressClass"),
    ("networking.k8s.io", "Ingress"),
    ("apiregistration.k8s.io", "APIService"),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
)
_Obj = TypeVar("_Obj", bound=Mapping[str, Any])
_RANK = {key: rank for rank, key in enumerate(_PREREQUISITES + _KIND_ORDER)}
_UNKNOWN_RANK = len(_RANK)


def group_of(api_version: str) -> str:
    """`apps/v1` -> `apps`; `v1` -> `` (the core group)."""
    group, slash, _ = api_version.rpartition("/")
    return group if slash else ""


def is_secret_bearing(api_version: str, kind: str) -> bool:
    return (group_of(api_version), kind) in _SECRET_BEARING


def stage_of(obj: Mapping[str, Any]) -> int:
    key = (group_of(str(obj.get("apiVersion", ""))), str(obj.get("kind", "")))
    if key in _PREREQUISITES:
        return STAGE_PREREQUISITES
    if key in _SECRET_BEARING:
        return STAGE_SECRETS
    return STAGE_WORKLOADS


def sort_key(obj: Mapping[str, Any]) -> tuple[int, int, str, str, str, str]:
    """(stage, kind rank, kind, group, namespace, name): unknown kinds sort by name after all
    known ones."""
    group = group_of(str(obj.get("apiVersion", "")))
    kind = str(obj.get("kind", ""))
    metadata = obj.get("metadata") or {}
    rank = _RANK.get((group, kind), _UNKNOWN_RANK)
    namespace = str(metadata.get("namespace") or "")
    return (stage_of(obj), rank, kind, group, namespace, str(metadata.get("name", "")))


def order(objects: Iterable[_Obj]) -> list[_Obj]:
    """All objects in apply order."""
    return sorted(objects, key=sort_key)


def stages(objects: Iterable[_Obj]) -> list[list[_Obj]]:
    """Three lists (see `STAGE_NAMES`), each in apply order; a stage may be empty."""
    grouped: list[list[_Obj]] = [[] for _ in STAGE_NAMES]
    for obj in order(objects):
        grouped[stage_of(obj)].append(obj)
    return grouped
