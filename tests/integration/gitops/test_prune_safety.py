"""Prune safety against the real control plane and real git (issue 10 item 8): the mass-prune
guard, history rewrites, inventories that keep removed objects, and owner uids."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from controller import cli
from controller.apply import inventory, plan, prune
from tests.integration.controller_fixtures import StartController
from tests.integration.gitops.conftest import CM, GitOpsEnv, configmap, dump, ready_of


def sealops(kubeconfig: Path, *args: str, capsys: pytest.CaptureFixture[str]
            ) -> tuple[int, str, str]:
    code = cli.main(["--kubeconfig", str(kubeconfig), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def many(prefix: str, count: int) -> dict[str, str]:
    return {f"{prefix}/cm-{i}.yaml": dump(configmap(f"{prefix}-{i}")) for i in range(count)}


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def names(kube: Any, namespace: str) -> set[str]:
    return {item["metadata"]["name"] for item in kube.list(CM, namespace=namespace,
                                                           label_selector=plan.SYNC_LABEL)}


def test_sync_without_prune_keeps_removed_objects_in_the_inventory_for_a_later_prune(
        kube: Any, namespace: str, kubeconfig: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "app"
    write(repo, {"a.yaml": dump(configmap("a")), "b.yaml": dump(configmap("b"))})
    assert sealops(kubeconfig, "sync", str(repo), "-n", namespace, capsys=capsys)[0] == 0
    (repo / "b.yaml").unlink()
    assert sealops(kubeconfig, "sync", str(repo), "-n", namespace, capsys=capsys)[0] == 0
    code, out, _ = sealops(kubeconfig, "sync", str(repo), "-n", namespace, "--prune",
                           capsys=capsys)
    assert code == 0 and f"ConfigMap {namespace}/b pruned" in out
    assert kube.get(CM, "b", namespace=namespace) is None


def test_sync_refuses_a_mass_prune_unless_confirmed(
        kube: Any, namespace: str, kubeconfig: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "app"
    write(repo, many("old", 8))
    assert sealops(kubeconfig, "sync", str(repo), "-n", namespace, "--name", "app",
                   capsys=capsys)[0] == 0
    for path in (repo / "old").iterdir():
        path.unlink()
    write(repo, {"new.yaml": dump(configmap("new"))})
    code, _, err = sealops(kubeconfig, "sync", str(repo), "-n", namespace, "--name", "app",
                           "--prune", capsys=capsys)
    assert code == 6  # the mass-prune guard is a policy refusal
    assert "PruneBlocked" in err and "8 of 8 objects" in err and "--confirm-prune" in err
    assert names(kube, namespace) == {f"old-{i}" for i in range(8)} | {"new"}
    code, out, _ = sealops(kubeconfig, "sync", str(repo), "-n", namespace, "--name", "app",
                           "--prune", "--confirm-prune", capsys=capsys)
    assert code == 0 and "8 pruned" in out
    assert names(kube, namespace) == {"new"}


def test_a_one_shot_sync_never_takes_over_a_gitsyncs_objects(
        kube: Any, namespace: str, kubeconfig: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    label = plan.sync_label_value(namespace, "app")
    kube.create(CM, {"metadata": {"name": "a", "namespace": namespace, "labels": {
        plan.SYNC_LABEL: label, inventory.OWNER_UID_LABEL: "0b2c-some-gitsync-uid"}},
        "data": {"k": "theirs"}}, namespace=namespace)
    write(tmp_path / "app", {"a.yaml": dump(configmap("a", {"k": "mine"}))})
    code, _, err = sealops(kubeconfig, "sync", str(tmp_path / "app"), "-n", namespace,
                           "--name", "app", capsys=capsys)
    assert code == 7  # ApplyFailed, the code of a cluster-side failure
    assert "belongs to another sync" in err and inventory.OWNER_UID_LABEL in err
    assert kube.get(CM, "a", namespace=namespace)["data"] == {"k": "theirs"}


def _wait_blocked(gitops: GitOpsEnv, sha: str) -> dict[str, Any]:
    return gitops.wait_reason("PruneBlocked", revision=sha)


def test_a_path_change_that_would_prune_everything_is_applied_but_not_pruned(
        gitops: GitOpsEnv, start_controller: StartController) -> None:
    start_controller(watch=gitops.namespace)
    first = gitops.push({**many("old", 8), "new/cm.yaml": dump(configmap("new"))})
    gitops.credentials_secret()
    gitops.create_gitsync(interval="10m", prune=True, path="old")
    gitops.wait_ready(first)
    gitops.kube.patch(gitops.get_resource(), "app", {"spec": {"path": "new"}},
                      namespace=gitops.namespace)
    obj = _wait_blocked(gitops, first)
    cond = ready_of(obj)
    assert cond is not None and "8 of 8 objects" in cond["message"]
    assert prune.CONFIRM_ANNOTATION in cond["message"] and first in cond["message"]
    assert names(gitops.kube, gitops.namespace) == {f"old-{i}" for i in range(8)} | {"new"}
    assert len(obj["status"]["inventory"]["entries"]) == 9
    assert any(e["reason"] == "PruneBlocked" for e in gitops.events())
    assert obj["status"]["lastAppliedRevision"].endswith(first)

    gitops.kube.patch(gitops.get_resource(), "app", {"metadata": {"annotations": {
        prune.CONFIRM_ANNOTATION: first}}}, namespace=gitops.namespace)
    status = gitops.wait_ready(first)["status"]
    assert names(gitops.kube, gitops.namespace) == {"new"}
    assert [e["id"] for e in status["inventory"]["entries"]] == [
        f"{gitops.namespace}_new__ConfigMap"]


def test_a_force_push_to_an_older_commit_is_reported_and_prunes_nothing_unconfirmed(
        gitops: GitOpsEnv, start_controller: StartController) -> None:
    start_controller(watch=gitops.namespace)
    old = gitops.push({"a.yaml": dump(configmap("a"))})
    gitops.credentials_secret()
    gitops.create_gitsync(interval="10m", prune=True)
    gitops.wait_ready(old)
    newer = gitops.push({"b.yaml": dump(configmap("b"))})
    gitops.request_reconcile()
    gitops.wait_ready(newer)

    gitops.work.run("reset", "--hard", old)
    gitops.work.run("push", "--force", "origin", "HEAD:main")
    gitops.request_reconcile()
    obj = _wait_blocked(gitops, old)
    conditions = {c["type"]: c for c in obj["status"]["conditions"]}
    assert conditions["HistoryRewritten"]["status"] == "True"
    assert newer in conditions["HistoryRewritten"]["message"]
    assert gitops.get(CM, "b") is not None  # the newer object is not pruned silently
    assert any(e["reason"] == "HistoryRewritten" for e in gitops.events())

    gitops.kube.patch(gitops.get_resource(), "app", {"metadata": {"annotations": {
        prune.CONFIRM_ANNOTATION: old}}}, namespace=gitops.namespace)
    gitops.wait_ready(old)
    assert gitops.get(CM, "b") is None


def test_a_gitsync_recreated_under_the_same_name_does_not_take_over_objects(
        gitops: GitOpsEnv, start_controller: StartController) -> None:
    start_controller(watch=gitops.namespace)
    first = gitops.push({"a.yaml": dump(configmap("a"))})
    gitops.credentials_secret()
    gitops.create_gitsync(interval="10m", prune=True)
    gitops.wait_ready(first)
    uid = gitops.gitsync()["metadata"]["uid"]
    assert owner_uid(gitops) == uid
    gitops.kube.delete(gitops.get_resource(), "app", namespace=gitops.namespace)
    gitops.kube.create(gitops.get_resource(), {
        "apiVersion": "sealops.dev/v1alpha1", "kind": "GitSync",
        "metadata": {"name": "app", "namespace": gitops.namespace},
        "spec": {"url": gitops.url, "secretRef": {"name": "git-creds"}, "interval": "10m"}},
        namespace=gitops.namespace)
    obj = gitops.wait_reason("ApplyFailed")
    cond = ready_of(obj)
    assert cond is not None and "belongs to another sync" in cond["message"]
    assert owner_uid(gitops) == uid


def owner_uid(gitops: GitOpsEnv) -> str:
    found = gitops.get(CM, "a")
    assert found is not None
    return str(found["metadata"]["labels"][inventory.OWNER_UID_LABEL])
