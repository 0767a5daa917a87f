"""A repository cannot redefine how built-in kinds are scoped (issue 10, item 1): fake CRDs that
declare ClusterRoleBinding and CustomResourceDefinition "Namespaced" used to let a tenant's
GitSync create a ClusterRoleBinding to cluster-admin. The controller here runs with the test
harness's admin rights (as with deploy/gitops-admin), so only the planner stands in the way."""

from __future__ import annotations

from typing import Any

import pytest

from sealer.kube import client
from tests.integration.controller_fixtures import CRDS, StartController
from tests.integration.gitops.conftest import GitOpsEnv, configmap, dump, ready_of

CRBS = client.Resource("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding",
                       "clusterrolebindings", False)


def fake_crd(group: str, kind: str, plural: str) -> dict[str, Any]:
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.{group}"},
            "spec": {"group": group, "scope": "Namespaced",
                     "names": {"kind": kind, "plural": plural, "singular": kind.lower()},
                     "versions": [{"name": "v1", "served": True, "storage": True, "schema": {
                         "openAPIV3Schema": {"type": "object",
                                             "x-kubernetes-preserve-unknown-fields": True}}}]}}


def spoofing_repo(binding: str) -> dict[str, str]:
    return {
        "crds.yaml": dump(
            fake_crd("rbac.authorization.k8s.io", "ClusterRoleBinding", "clusterrolebindings"),
            fake_crd("apiextensions.k8s.io", "CustomResourceDefinition",
                     "customresourcedefinitions")),
        "binding.yaml": dump({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": binding},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": "cluster-admin"},
            "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "x"}]}),
        "cm.yaml": dump(configmap("innocent")),
    }


@pytest.mark.parametrize("owner", ["tenant", "admin"])
def test_fake_crds_for_built_in_kinds_refuse_the_sync_and_create_nothing(
        gitops: GitOpsEnv, start_controller: StartController, owner: str) -> None:
    ns = gitops.namespace
    start_controller(watch=ns, key_namespace=ns if owner == "admin" else None)
    binding = f"{ns}-pwn"
    sha = gitops.push(spoofing_repo(binding))
    gitops.credentials_secret()
    gitops.create_gitsync(interval="10m")
    obj = gitops.wait_reason("PolicyViolation", revision=sha)
    message = ready_of(obj)["message"]  # type: ignore[index]
    assert "CustomResourceDefinition clusterrolebindings.rbac.authorization.k8s.io" in message
    assert "built into the cluster" in message
    assert gitops.kube.get(CRBS, binding) is None
    assert gitops.kube.get(CRDS, "clusterrolebindings.rbac.authorization.k8s.io") is None
    assert gitops.kube.get(CRDS, "customresourcedefinitions.apiextensions.k8s.io") is None
    assert gitops.get(client.CONFIGMAPS, "innocent") is None  # refused before any write
    assert not (obj.get("status") or {}).get("inventory", {}).get("entries")


def test_without_fake_crds_a_tenants_cluster_role_binding_is_refused_as_cluster_scoped(
        gitops: GitOpsEnv, start_controller: StartController) -> None:
    ns = gitops.namespace
    start_controller(watch=ns)
    binding = f"{ns}-pwn"
    files = spoofing_repo(binding)
    del files["crds.yaml"]
    sha = gitops.push(files)
    gitops.credentials_secret()
    gitops.create_gitsync(interval="10m")
    obj = gitops.wait_reason("PolicyViolation", revision=sha)
    assert f"ClusterRoleBinding {binding}: cluster-scoped" in ready_of(obj)["message"]  # type: ignore[index]
    assert gitops.kube.get(CRBS, binding) is None
