"""Apply stages and kind order."""

from __future__ import annotations

import random
from typing import Any

from controller.apply import ordering


def obj(api_version: str, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata}


def labels(objects: list[dict[str, Any]]) -> list[str]:
    return [f"{o['kind']}/{o['metadata'].get('namespace', '')}/{o['metadata']['name']}"
            for o in objects]


def test_crds_and_namespaces_come_first_then_sealed_secrets_then_the_rest() -> None:
    objects = [
        obj("apps/v1", "Deployment", "web", "app"),
        obj("sealops.dev/v1alpha1", "SealedSecret", "db", "app"),
        obj("v1", "Namespace", "app"),
        obj("apiextensions.k8s.io/v1", "CustomResourceDefinition", "widgets.example.com"),
        obj("bitnami.com/v1alpha1", "SealedSecret", "legacy", "app"),
        obj("sealops.dev/v1alpha1", "VaultSecret", "api", "app"),
        obj("v1", "ConfigMap", "cfg", "app"),
    ]
    staged = ordering.stages(objects)
    assert labels(staged[0]) == ["Namespace//app",
                                 "CustomResourceDefinition//widgets.example.com"]
    assert labels(staged[1]) == ["SealedSecret/app/legacy", "SealedSecret/app/db",
                                 "VaultSecret/app/api"]
    assert labels(staged[2]) == ["ConfigMap/app/cfg", "Deployment/app/web"]


def test_known_kinds_follow_the_fixed_order_and_unknown_kinds_come_last_alphabetically() -> None:
    objects = [
        obj("example.com/v1", "Zebra", "z", "a"),
        obj("networking.k8s.io/v1", "Ingress", "i", "a"),
        obj("batch/v1", "CronJob", "cj", "a"),
        obj("example.com/v1", "Alpaca", "x", "a"),
        obj("apps/v1", "StatefulSet", "s", "a"),
        obj("v1", "Service", "svc", "a"),
        obj("v1", "Secret", "sec", "a"),
        obj("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "crb"),
        obj("rbac.authorization.k8s.io/v1", "RoleBinding", "rb", "a"),
        obj("rbac.authorization.k8s.io/v1", "ClusterRole", "cr"),
        obj("rbac.authorization.k8s.io/v1", "Role", "r", "a"),
        obj("v1", "ServiceAccount", "sa", "a"),
        obj("v1", "PersistentVolumeClaim", "pvc", "a"),
        obj("v1", "ConfigMap", "cm", "a"),
        obj("apps/v1", "Deployment", "d", "a"),
        obj("apps/v1", "DaemonSet", "ds", "a"),
        obj("batch/v1", "Job", "j", "a"),
    ]
    kinds = [o["kind"] for o in ordering.order(objects)]
    assert kinds == [
        "ServiceAccount", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding",
        "ConfigMap", "Secret", "PersistentVolumeClaim", "Service", "Deployment", "StatefulSet",
        "DaemonSet", "Job", "CronJob", "Ingress", "Alpaca", "Zebra",
    ]


def test_order_within_a_kind_is_by_namespace_then_name_whatever_the_input_order() -> None:
    objects = [obj("v1", "ConfigMap", n, ns) for ns in ("b", "a") for n in ("y", "x", "z")]
    expected = ["ConfigMap/a/x", "ConfigMap/a/y", "ConfigMap/a/z",
                "ConfigMap/b/x", "ConfigMap/b/y", "ConfigMap/b/z"]
    for seed in range(5):
        shuffled = objects[:]
        random.Random(seed).shuffle(shuffled)
        assert labels(ordering.order(shuffled)) == expected


def test_a_sealed_secret_of_another_group_is_not_secret_bearing() -> None:
    assert ordering.is_secret_bearing("sealops.dev/v1", "SealedSecret")
    assert not ordering.is_secret_bearing("evil.example.com/v1", "SealedSecret")
    assert not ordering.is_secret_bearing("bitnami.com/v1alpha1", "VaultSecret")
    assert ordering.stage_of(obj("evil.example.com/v1", "SealedSecret", "x", "a")) == 2


def test_a_namespace_kind_from_another_group_is_not_a_prerequisite() -> None:
    assert ordering.stage_of(obj("example.com/v1", "Namespace", "x")) == 2
    assert ordering.stage_of(obj("v1", "Namespace", "x")) == 0


def test_group_of_splits_api_versions() -> None:
    assert ordering.group_of("v1") == ""
    assert ordering.group_of("apps/v1") == "apps"
    assert ordering.group_of("rbac.authorization.k8s.io/v1") == "rbac.authorization.k8s.io"
