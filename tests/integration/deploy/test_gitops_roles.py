"""The optional GitOps rights: absent from the base, one namespace with deploy/gitops-tenant,
every namespace with deploy/gitops-admin (and gone again once that binding is deleted)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.harness.waiting import wait_for
from tests.integration.deploy.conftest import DEPLOY, Installed, Kubectl, render

ELSEWHERE = "tenant-elsewhere"


@pytest.fixture
def tenant(installed: Installed, kubectl: Kubectl, namespace: str, tmp_path: Path) -> str:
    """deploy/gitops-tenant applied for the test's namespace (the bindings go with it)."""
    assert not kubectl.can_i("create", "sealedsecrets.sealops.dev", "-n", namespace)
    overlay = tmp_path / "tenant"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(
        f"resources: [{os.path.relpath(DEPLOY / 'gitops-tenant', overlay)}]\n"
        f"namespace: {namespace}\n")
    objects = render(overlay)
    kubectl.apply(objects, dry_run=True)
    kubectl.apply(objects)
    wait_for(lambda: kubectl.can_i("create", "sealedsecrets.sealops.dev", "-n", namespace),
             timeout=30, what="the tenant GitOps RoleBindings to take effect")
    return namespace


def test_the_tenant_gitops_binding_manages_sealops_objects_in_its_namespace_only(
        kubectl: Kubectl, tenant: str) -> None:
    allowed: list[tuple[str, ...]] = [
        ("create", "sealedsecrets.sealops.dev"), ("delete", "gitsyncs.sealops.dev"),
        ("update", "vaultsecrets.sealops.dev"), ("patch", "vaultstores.sealops.dev"),
        ("create", "sealedsecrets.bitnami.com")]
    for check in allowed:
        assert kubectl.can_i(*check, "-n", tenant), check
    denied: list[tuple[str, ...]] = [
        ("create", "sealedsecrets.sealops.dev", "-n", ELSEWHERE),
        ("patch", "deployments.apps", "-n", ELSEWHERE),
        ("create", "clusterrolebindings.rbac.authorization.k8s.io"),
        ("delete", "clustervaultstores.sealops.dev"),
        ("delete", "namespaces"),
        ("*", "*", "--all-namespaces")]
    for check in denied:
        assert not kubectl.can_i(*check), check


def test_the_tenant_gitops_binding_grants_namespace_admin_rights(
        kubectl: Kubectl, tenant: str) -> None:
    admin = kubectl.run("get", "clusterrole", "admin", "-o", "json").stdout
    if '"rules": [' not in admin:
        pytest.skip("the built-in `admin` ClusterRole is empty here: the control plane runs "
                    "no clusterrole-aggregation controller")
    wait_for(lambda: kubectl.can_i("patch", "deployments.apps", "-n", tenant), timeout=30,
             what="the `admin` RoleBinding to take effect")
    assert not kubectl.can_i("patch", "deployments.apps", "-n", ELSEWHERE)


def test_the_cluster_admin_gitops_binding_is_opt_in_and_removable(
        installed: Installed, kubectl: Kubectl) -> None:
    assert not kubectl.can_i("patch", "deployments.apps", "-n", ELSEWHERE)
    objects = render(DEPLOY / "gitops-admin")
    assert [(o["kind"], o["roleRef"]["name"]) for o in objects] == [
        ("ClusterRoleBinding", "cluster-admin")]
    name = objects[0]["metadata"]["name"]
    kubectl.apply(objects, dry_run=True)
    try:
        kubectl.apply(objects)
        wait_for(lambda: kubectl.can_i("patch", "deployments.apps", "-n", ELSEWHERE),
                 timeout=30, what="the cluster-admin GitOps binding to take effect")
        assert kubectl.can_i("delete", "customresourcedefinitions.apiextensions.k8s.io")
    finally:
        kubectl.run("delete", "clusterrolebinding", name, "--ignore-not-found")
    # The base's limits hold again once the optional binding is gone.
    wait_for(lambda: not kubectl.can_i("patch", "deployments.apps", "-n", ELSEWHERE),
             timeout=30, what="the cluster-admin GitOps binding to be gone")
