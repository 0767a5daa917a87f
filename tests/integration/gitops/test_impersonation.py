"""A GitSync acts as its ServiceAccount, never as the controller (issue 10, item 3).

The test controller runs with the harness's admin token (system:masters), so any write that
is refused here was refused because it was sent as the GitSync's account: without
impersonation every one of these syncs would have succeeded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from controller import cli
from sealer.kube import client
from tests.integration.controller_fixtures import StartController
from tests.integration.gitops.conftest import (
    CM,
    SECRETS,
    GitOpsEnv,
    configmap,
    dump,
    ready_of,
)

SERVICE_ACCOUNTS = client.Resource("", "v1", "ServiceAccount", "serviceaccounts", True)
ROLES = client.Resource("rbac.authorization.k8s.io", "v1", "Role", "roles", True)
ROLE_BINDINGS = client.Resource("rbac.authorization.k8s.io", "v1", "RoleBinding",
                                "rolebindings", True)
CRBS = client.Resource("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding",
                       "clusterrolebindings", False)
CONFIGMAP_VERBS = ["get", "list", "watch", "create", "update", "patch", "delete"]


def configmaps_only(kube: Any, namespace: str, account: str, *,
                    verbs: list[str] = CONFIGMAP_VERBS, to_group: bool = False) -> None:
    """`account` exists and may write ConfigMaps in `namespace`, nothing else. With
    `to_group`, the Role is bound to the namespace's ServiceAccount group instead, which the
    impersonated identity only has if the API server derived it."""
    if kube.get(SERVICE_ACCOUNTS, account, namespace=namespace) is None:
        kube.create(SERVICE_ACCOUNTS, {"metadata": {"name": account}}, namespace=namespace)
    kube.create(ROLES, {"metadata": {"name": account}, "rules": [
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": verbs}]},
        namespace=namespace)
    subject = ({"kind": "Group", "apiGroup": "rbac.authorization.k8s.io",
                "name": f"system:serviceaccounts:{namespace}"} if to_group else
               {"kind": "ServiceAccount", "name": account, "namespace": namespace})
    kube.create(ROLE_BINDINGS, {"metadata": {"name": account}, "subjects": [subject],
                                "roleRef": {"apiGroup": "rbac.authorization.k8s.io",
                                            "kind": "Role", "name": account}},
                namespace=namespace)


def message_of(obj: dict[str, Any]) -> str:
    return str(ready_of(obj)["message"])  # type: ignore[index]


def entries(obj: dict[str, Any]) -> set[str]:
    return {e["id"] for e in ((obj.get("status") or {}).get("inventory") or {}).get(
        "entries") or []}


@pytest.fixture
def other_namespace(kube: Any, namespace: str) -> Any:
    name = f"{namespace}-other"
    kube.create(client.NAMESPACES, {"metadata": {"name": name}})
    yield name
    kube.delete(client.NAMESPACES, name)


def test_writes_the_account_may_not_make_are_forbidden_and_nothing_is_created_or_pruned(
        gitops: GitOpsEnv, start_controller: StartController, other_namespace: str) -> None:
    ns = gitops.namespace
    # The admin's GitSync (the controller's namespace), so the planner allows cluster-scoped
    # objects and other namespaces: only the account's rights stand in the way.
    start_controller(watch=ns, key_namespace=ns)
    configmaps_only(gitops.kube, ns, "deployer", to_group=True)
    first = gitops.push({"a.yaml": dump(configmap("a")), "b.yaml": dump(configmap("b"))})
    gitops.credentials_secret()
    gitops.create_gitsync(interval="10m", prune=True, serviceAccountName="deployer")
    gitops.wait_ready(first)
    crb = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
           "metadata": {"name": f"{ns}-pwn"},
           "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                       "name": "cluster-admin"},
           "subjects": [{"kind": "ServiceAccount", "name": "deployer", "namespace": ns}]}
    secret = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
              "metadata": {"name": "planted", "namespace": other_namespace}}
    for forbidden, kind in ((crb, "ClusterRoleBinding"), (secret, "Secret")):
        sha = gitops.push({"bad.yaml": dump(forbidden), "c.yaml": dump(configmap("c"))},
                          remove=("b.yaml",) if kind == "ClusterRoleBinding" else ())
        gitops.request_reconcile()
        obj = gitops.wait_reason("ApplyFailed", revision=sha)
        assert kind in message_of(obj) and "403 Forbidden" in message_of(obj)
        assert "system:serviceaccount:" + ns + ":deployer" in message_of(obj)
        assert gitops.get(CM, "b") is not None  # no prune after a failed apply
        assert f"{ns}_b__ConfigMap" in entries(obj)
    assert gitops.kube.get(CRBS, f"{ns}-pwn") is None
    assert gitops.kube.get(SECRETS, "planted", namespace=other_namespace) is None


def test_a_missing_service_account_applies_nothing_until_it_exists(
        gitops: GitOpsEnv, start_controller: StartController) -> None:
    ns = gitops.namespace
    start_controller(watch=ns)
    sha = gitops.push({"a.yaml": dump(configmap("a"))})
    gitops.credentials_secret()
    gitops.create_gitsync(interval="10m", serviceAccountName="ghost")
    obj = gitops.wait_reason("ServiceAccountNotFound")
    assert f"ServiceAccount {ns}/ghost not found" in message_of(obj)
    assert gitops.get(CM, "a") is None
    configmaps_only(gitops.kube, ns, "ghost")
    gitops.wait_handled(gitops.request_reconcile())
    gitops.wait_ready(sha)
    assert gitops.get(CM, "a") is not None


def test_the_default_service_account_is_used_and_never_replaced_by_the_controller(
        gitops: GitOpsEnv, start_controller: StartController) -> None:
    ns = gitops.namespace
    start_controller(watch=ns, args=("--default-service-account", "gitops"))
    sha = gitops.push({"a.yaml": dump(configmap("a"))})
    gitops.credentials_secret()
    gitops.create_gitsync(interval="10m")
    obj = gitops.wait_reason("ServiceAccountNotFound")
    assert f"ServiceAccount {ns}/gitops not found" in message_of(obj)
    assert gitops.get(CM, "a") is None
    configmaps_only(gitops.kube, ns, "gitops")
    gitops.wait_handled(gitops.request_reconcile())
    gitops.wait_ready(sha)


def test_prune_runs_as_the_account_too(
        gitops: GitOpsEnv, start_controller: StartController) -> None:
    ns = gitops.namespace
    start_controller(watch=ns)
    configmaps_only(gitops.kube, ns, "no-delete",
                    verbs=[v for v in CONFIGMAP_VERBS if v != "delete"])
    first = gitops.push({"a.yaml": dump(configmap("a")), "b.yaml": dump(configmap("b"))})
    gitops.credentials_secret()
    gitops.create_gitsync(interval="10m", prune=True, serviceAccountName="no-delete")
    gitops.wait_ready(first)
    sha = gitops.push({}, remove=("b.yaml",))
    gitops.request_reconcile()
    obj = gitops.wait_reason("PruneFailed", revision=sha)
    assert "ConfigMap" in message_of(obj) and "403 Forbidden" in message_of(obj)
    assert gitops.get(CM, "b") is not None
    assert f"{ns}_b__ConfigMap" in entries(obj)  # kept, so a later prune retries it


def test_sealops_diff_and_sync_with_a_service_account_dry_run_and_apply_as_it(
        kube: Any, namespace: str, kubeconfig: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    configmaps_only(kube, namespace, "deployer")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "cm.yaml").write_text(dump(configmap("a")))
    (repo / "role.yaml").write_text(dump({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "escalate"},
        "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]}))
    base = ["--kubeconfig", str(kubeconfig)]
    as_account = [str(repo), "-n", namespace, "--service-account", "deployer"]
    # As the caller (the harness's admin): changes pending.
    assert cli.main([*base, "diff", str(repo), "-n", namespace]) == 1
    capsys.readouterr()
    # As the account: the dry run of the Role is refused, so is the sync; nothing is written.
    for command in ("diff", "sync"):
        assert cli.main([*base, command, *as_account]) == 7  # ApplyFailed: the API refused
        err = capsys.readouterr().err
        assert "Role" in err and "403 Forbidden" in err, err
    assert kube.get(ROLES, "escalate", namespace=namespace) is None
    assert kube.get(CM, "a", namespace=namespace) is None
    (repo / "role.yaml").unlink()
    assert cli.main([*base, "sync", *as_account, "--prune"]) == 0
    assert kube.get(CM, "a", namespace=namespace) is not None
