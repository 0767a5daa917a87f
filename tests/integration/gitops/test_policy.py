"""Which namespaces a GitSync may manage, stage-0 waits for the admin's CRDs and Namespaces,
a failure mid-apply, and suspend (the controller, real git)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from sealer.kube import client
from tests.harness.waiting import wait_for
from tests.integration.controller_fixtures import CRDS, StartController
from tests.integration.gitops.conftest import (
    CM,
    DEPLOYMENTS,
    SERVICES,
    GitOpsEnv,
    configmap,
    deployment,
    dump,
    ready_of,
)


def crd(group: str) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": f"widgets.{group}"},
        "spec": {"group": group, "scope": "Namespaced",
                 "names": {"kind": "Widget", "plural": "widgets", "singular": "widget"},
                 "versions": [{"name": "v1", "served": True, "storage": True, "schema": {
                     "openAPIV3Schema": {"type": "object", "properties": {
                         "spec": {"type": "object",
                                  "x-kubernetes-preserve-unknown-fields": True}}}}}]}}


@pytest.fixture
def cluster_cleanup(kube: Any) -> Iterator[list[tuple[client.Resource, str]]]:
    created: list[tuple[client.Resource, str]] = []
    yield created
    for res, name in created:
        kube.delete(res, name)


def test_the_admins_gitsync_waits_for_its_crd_and_namespace_before_using_them(
        gitops: GitOpsEnv, start_controller: StartController,
        cluster_cleanup: list[tuple[client.Resource, str]]) -> None:
    ns = gitops.namespace
    start_controller(watch=ns, key_namespace=ns)  # a GitSync in ns is the admin's
    group, extra = f"{ns}.example.com", f"{ns}-extra"
    cluster_cleanup += [(CRDS, f"widgets.{group}"), (client.NAMESPACES, extra)]
    widget = {"apiVersion": f"{group}/v1", "kind": "Widget",
              "metadata": {"name": "w", "namespace": extra}, "spec": {"size": 3}}
    sha = gitops.push({"crd.yaml": dump(crd(group)), "ns.yaml": dump(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": extra}}),
        "widget.yaml": dump(widget), "cm.yaml": dump(configmap("c") | {"metadata": {
            "name": "c", "namespace": extra}})})
    gitops.credentials_secret()
    gitops.create_gitsync(interval="10m")
    status = gitops.wait_ready(sha)["status"]
    assert {e["id"] for e in status["inventory"]["entries"]} == {
        f"_widgets.{group}_apiextensions.k8s.io_CustomResourceDefinition", f"_{extra}__Namespace",
        f"{extra}_w_{group}_Widget", f"{extra}_c__ConfigMap"}
    widgets = client.Resource(group, "v1", "Widget", "widgets", True)
    assert gitops.kube.get(widgets, "w", namespace=extra)["spec"] == {"size": 3}


def test_a_tenant_gitsync_is_held_to_its_own_namespaces(
        gitops: GitOpsEnv, start_controller: StartController) -> None:
    ctl = start_controller(watch=gitops.namespace)
    ns = gitops.namespace
    sha = gitops.push({"ok/cm.yaml": dump(configmap("mine")),
                       "bad/cm.yaml": dump(configmap("mine"), configmap("theirs") | {
                           "metadata": {"name": "theirs", "namespace": "kube-system"}}),
                       "role/r.yaml": dump({"apiVersion": "rbac.authorization.k8s.io/v1",
                                            "kind": "ClusterRole", "metadata": {"name": ns}})})
    gitops.credentials_secret()
    gitops.create_gitsync("bad", path="bad", interval="10m")
    gitops.create_gitsync("role", path="role", interval="10m")
    gitops.create_gitsync("keys", path="ok", interval="10m",
                          targetNamespace=ctl.key_namespace)
    gitops.create_gitsync("other", path="ok", interval="10m", targetNamespace="kube-system")
    gitops.create_gitsync("local", path="ok", interval="10m", url="file:///etc")
    for name, message in (
            ("bad", "policy failed: ConfigMap kube-system/theirs: namespace 'kube-system' is not "
                    "allowed for this GitSync"),
            ("role", f"policy failed: ClusterRole {ns}: cluster-scoped objects are not allowed "
                     "for this GitSync"),
            ("keys", f"spec refused: GitSync {ns}/keys: targetNamespace "
                     f"'{ctl.key_namespace}' is the controller's namespace"),
            ("other", f"spec refused: GitSync {ns}/other: targetNamespace 'kube-system' is "
                      "another namespace"),
            ("local", "policy failed: source URL 'file:///etc' refused: file:// sources are "
                      "not allowed by this controller")):
        cond = ready_of(gitops.wait_reason("PolicyViolation", name=name))
        assert cond is not None and cond["message"].startswith(message), cond
    assert gitops.get(CM, "mine") is None
    assert gitops.kube.get(CM, "theirs", namespace="kube-system") is None

    gitops.create_gitsync("ok", path="ok", interval="10m")
    gitops.wait_ready(sha, name="ok")
    assert gitops.get(CM, "mine") is not None


def test_a_failure_mid_apply_keeps_the_rest_and_converges_once_fixed(
        gitops: GitOpsEnv, start_controller: StartController) -> None:
    start_controller(watch=gitops.namespace)
    first = gitops.push({"old.yaml": dump(configmap("old"))})
    gitops.credentials_secret()
    gitops.create_gitsync(interval="10m", prune=True)
    gitops.wait_ready(first)
    bad_service: dict[str, Any] = {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 99999}]}}
    second = gitops.push({"new.yaml": dump(configmap("new")), "svc.yaml": dump(bad_service),
                          "web.yaml": dump(deployment("web"))}, remove=("old.yaml",))
    gitops.request_reconcile()
    status = gitops.wait_reason("ApplyFailed", revision=second)["status"]
    ns = gitops.namespace
    cond = ready_of(gitops.gitsync())
    assert cond is not None
    assert cond["message"].startswith(f"apply failed: Service {ns}/web: 422 Invalid (invalid "
                                      "fields: spec.ports[0].port")
    assert gitops.get(CM, "new") is not None  # an earlier wave
    assert gitops.get(DEPLOYMENTS, "web") is None  # a later wave
    assert gitops.get(CM, "old") is not None  # nothing pruned after a failure
    assert {e["id"] for e in status["inventory"]["entries"]} == {
        f"{ns}_old__ConfigMap", f"{ns}_new__ConfigMap"}

    bad_service["spec"]["ports"][0]["port"] = 80
    third = gitops.push({"svc.yaml": dump(bad_service)})
    gitops.request_reconcile()
    gitops.wait_ready(third)
    assert gitops.get(SERVICES, "web") is not None and gitops.get(DEPLOYMENTS, "web") is not None
    assert gitops.get(CM, "old") is None


def test_a_suspended_gitsync_is_left_alone_until_resumed(
        gitops: GitOpsEnv, start_controller: StartController) -> None:
    ctl = start_controller(watch=gitops.namespace)
    first = gitops.push({"a.yaml": dump(configmap("a"))})
    gitops.credentials_secret()
    gitops.create_gitsync(interval="1s")
    gitops.wait_ready(first)
    gitops.kube.patch(gitops.get_resource(), "app", {"spec": {"suspend": True}},
                      namespace=gitops.namespace)
    wait_for(lambda: gitops.gitsync()["metadata"]["generation"] == 2, what="suspend")
    second = gitops.push({"b.yaml": dump(configmap("b"))})
    gitops.request_reconcile()
    time.sleep(3)  # three intervals and a request: a live schedule would have applied `b`
    assert gitops.get(CM, "b") is None
    assert second not in ctl.log_text()

    gitops.kube.patch(gitops.get_resource(), "app", {"spec": {"suspend": False}},
                      namespace=gitops.namespace)
    gitops.wait_ready(second)
    assert gitops.get(CM, "b") is not None
