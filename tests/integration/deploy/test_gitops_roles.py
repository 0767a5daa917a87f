"""The optional GitOps rights: absent from the base; deploy/gitops-tenant gives one namespace's
GitOps account its rights and the controller only `impersonate` on that account;
deploy/gitops-admin does the same with a cluster-admin account in sealops-system (and both
are gone again once deleted). The controller's own account never gains write rights."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from tests.harness.waiting import wait_for
from tests.integration.deploy.conftest import (
    CONTROLLER_NS,
    DEPLOY,
    Installed,
    Kubectl,
    render,
)

ELSEWHERE = "tenant-elsewhere"


def account(namespace: str, name: str = "sealops-gitops") -> str:
    return f"system:serviceaccount:{namespace}:{name}"


@pytest.fixture
def tenant(installed: Installed, kubectl: Kubectl, namespace: str, tmp_path: Path) -> str:
    """deploy/gitops-tenant applied for the test's namespace (the bindings go with it)."""
    assert not kubectl.can_i("create", "sealedsecrets.sealops.dev", "-n", namespace,
                             user=account(namespace))
    overlay = tmp_path / "tenant"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(
        f"resources: [{os.path.relpath(DEPLOY / 'gitops-tenant', overlay)}]\n"
        f"namespace: {namespace}\n")
    objects = render(overlay)
    kubectl.apply(objects, dry_run=True)
    kubectl.apply(objects)
    wait_for(lambda: kubectl.can_i("create", "sealedsecrets.sealops.dev", "-n", namespace,
                                   user=account(namespace))
             and kubectl.can_i("impersonate", "serviceaccounts/sealops-gitops", "-n",
                               namespace),
             timeout=30, what="the tenant GitOps RoleBindings to take effect")
    return namespace


def test_the_tenant_gitops_account_manages_sealops_objects_in_its_namespace_only(
        kubectl: Kubectl, tenant: str) -> None:
    allowed: list[tuple[str, ...]] = [
        ("create", "sealedsecrets.sealops.dev"), ("delete", "gitsyncs.sealops.dev"),
        ("update", "vaultsecrets.sealops.dev"), ("patch", "vaultstores.sealops.dev"),
        ("create", "sealedsecrets.bitnami.com")]
    for check in allowed:
        assert kubectl.can_i(*check, "-n", tenant, user=account(tenant)), check
    denied: list[tuple[str, ...]] = [
        ("create", "sealedsecrets.sealops.dev", "-n", ELSEWHERE),
        ("patch", "deployments.apps", "-n", ELSEWHERE),
        ("create", "clusterrolebindings.rbac.authorization.k8s.io"),
        ("create", "customresourcedefinitions.apiextensions.k8s.io"),
        ("delete", "clustervaultstores.sealops.dev"),
        ("delete", "namespaces"),
        # (The built-in `admin` lets it impersonate accounts of its own namespace only.)
        ("impersonate", "serviceaccounts", "-n", ELSEWHERE),
        ("impersonate", "serviceaccounts/sealops-controller", "-n", CONTROLLER_NS),
        ("*", "*", "--all-namespaces")]
    for check in denied:
        assert not kubectl.can_i(*check, user=account(tenant)), check


def test_the_tenant_component_lets_the_controller_impersonate_that_one_account_only(
        kubectl: Kubectl, tenant: str) -> None:
    assert kubectl.can_i("get", "serviceaccounts/sealops-gitops", "-n", tenant)
    denied: list[tuple[str, ...]] = [
        # No write rights of its own in the tenant's namespace.
        ("create", "sealedsecrets.sealops.dev", "-n", tenant),
        ("create", "configmaps", "-n", tenant),
        # Workloads only get the rollout stamp (patch), never created or replaced.
        ("create", "deployments.apps", "-n", tenant),
        ("update", "deployments.apps", "-n", tenant),
        ("create", "rolebindings.rbac.authorization.k8s.io", "-n", tenant),
        # No other identity.
        ("impersonate", "serviceaccounts/default", "-n", tenant),
        ("impersonate", "serviceaccounts/sealops-gitops", "-n", ELSEWHERE),
        ("impersonate", "serviceaccounts/sealops-gitops", "-n", "kube-system"),
        ("impersonate", "users"),
        ("impersonate", "groups/system:masters"),
        ("impersonate", "groups/system:serviceaccounts"),
        ("list", "serviceaccounts", "-n", tenant)]
    for check in denied:
        assert not kubectl.can_i(*check), check


def test_the_tenant_gitops_account_gets_namespace_admin_rights(
        kubectl: Kubectl, tenant: str) -> None:
    admin = kubectl.run("get", "clusterrole", "admin", "-o", "json").stdout
    if '"rules": [' not in admin:
        pytest.skip("the built-in `admin` ClusterRole is empty here: the control plane runs "
                    "no clusterrole-aggregation controller")
    wait_for(lambda: kubectl.can_i("patch", "deployments.apps", "-n", tenant,
                                   user=account(tenant)),
             timeout=30, what="the `admin` RoleBinding to take effect")
    assert not kubectl.can_i("patch", "deployments.apps", "-n", ELSEWHERE,
                             user=account(tenant))


def test_the_cluster_admin_gitops_account_is_opt_in_and_removable(
        installed: Installed, kubectl: Kubectl) -> None:
    admin = account(CONTROLLER_NS, "sealops-gitops-admin")
    assert not kubectl.can_i("patch", "deployments.apps", "-n", ELSEWHERE, user=admin)
    objects = render(DEPLOY / "gitops-admin")
    assert sorted((o["kind"], o["metadata"]["name"]) for o in objects) == [
        ("ClusterRoleBinding", "sealops-gitops-admin-cluster-admin"),
        ("Role", "sealops-controller-impersonate-admin"),
        ("RoleBinding", "sealops-controller-impersonate-admin"),
        ("ServiceAccount", "sealops-gitops-admin")]
    binding = next(o for o in objects if o["kind"] == "ClusterRoleBinding")
    assert binding["roleRef"]["name"] == "cluster-admin"
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "sealops-gitops-admin",
                                    "namespace": CONTROLLER_NS}]
    kubectl.apply(objects, dry_run=True)
    try:
        kubectl.apply(objects)
        wait_for(lambda: kubectl.can_i("patch", "deployments.apps", "-n", ELSEWHERE,
                                       user=admin)
                 and kubectl.can_i("impersonate", "serviceaccounts/sealops-gitops-admin",
                                   "-n", CONTROLLER_NS),
                 timeout=30, what="the cluster-admin GitOps account to take effect")
        assert kubectl.can_i("delete", "customresourcedefinitions.apiextensions.k8s.io",
                             user=admin)
        # The controller itself stays without write rights (beyond the rollout stamp).
        assert not kubectl.can_i("create", "deployments.apps", "-n", ELSEWHERE)
        assert not kubectl.can_i("update", "deployments.apps", "-n", ELSEWHERE)
        assert not kubectl.can_i("create", "clusterrolebindings.rbac.authorization.k8s.io")
        assert not kubectl.can_i("impersonate", "serviceaccounts/sealops-controller", "-n",
                                 CONTROLLER_NS)
    finally:
        kubectl.run("delete", "-f", "-", "--ignore-not-found", stdin=yaml.safe_dump_all(objects))
    wait_for(lambda: not kubectl.can_i("impersonate", "serviceaccounts/sealops-gitops-admin",
                                       "-n", CONTROLLER_NS),
             timeout=30, what="the admin GitOps account to be gone")

