"""Prune, drift revert, zero-write re-syncs and keeping the last applied state (the controller)."""

from __future__ import annotations

from typing import Any

from controller.apply import plan
from tests.harness.waiting import wait_for
from tests.integration.controller_fixtures import StartController
from tests.integration.gitops.conftest import (
    CM,
    DEPLOYMENTS,
    SERVICES,
    GitOpsEnv,
    configmap,
    deployment,
    dump,
)


def service(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": 8080}]}}


def versions(gitops: GitOpsEnv) -> dict[str, str]:
    found = {}
    for res in (CM, DEPLOYMENTS, SERVICES):
        for item in gitops.kube.list(res, namespace=gitops.namespace,
                                     label_selector=f"{plan.SYNC_LABEL}={gitops.namespace}.app"):
            found[f"{res.kind}/{item['metadata']['name']}"] = item["metadata"]["resourceVersion"]
    return found


def packs(gitops: GitOpsEnv) -> int:
    return sum(1 for r in gitops.server.requests if r.command == "fetch")


def test_prune_deletes_only_what_left_git_and_is_still_ours(
        gitops: GitOpsEnv, start_controller: StartController) -> None:
    start_controller(watch=gitops.namespace)
    keep = configmap("keep", annotations={plan.PRUNE_ANNOTATION: "disabled"})
    first = gitops.push({"a.yaml": dump(configmap("a")), "b.yaml": dump(configmap("b")),
                         "keep.yaml": dump(keep), "adopted.yaml": dump(configmap("adopted"))})
    gitops.credentials_secret()
    gitops.create_gitsync(interval="10m", prune=True)
    gitops.wait_ready(first)
    # Someone takes "adopted" over: it loses our label, so it is no longer ours to delete.
    gitops.kube.patch(CM, "adopted", {"metadata": {"labels": {plan.SYNC_LABEL: None}}},
                      namespace=gitops.namespace)

    second = gitops.push({}, remove=("b.yaml", "keep.yaml", "adopted.yaml"))
    gitops.request_reconcile()
    status = gitops.wait_ready(second)["status"]

    assert gitops.get(CM, "a") is not None
    assert gitops.get(CM, "b") is None
    assert gitops.get(CM, "keep") is not None and gitops.get(CM, "adopted") is not None
    assert [e["id"] for e in status["inventory"]["entries"]] == [f"{gitops.namespace}_a__ConfigMap"]
    pruned = [e for e in gitops.events() if e["reason"] == "Succeeded"
              and "1 pruned" in e["message"]]
    assert pruned


def test_manual_edits_to_our_fields_are_reverted_and_other_fields_kept(
        gitops: GitOpsEnv, start_controller: StartController) -> None:
    start_controller(watch=gitops.namespace)
    sha = gitops.push({"app.yaml": dump(configmap("cfg", {"mode": "safe"}), deployment("web"))})
    gitops.credentials_secret()
    gitops.create_gitsync(interval="10m")
    gitops.wait_ready(sha)
    ns = gitops.namespace
    gitops.kube.patch(CM, "cfg", {"data": {"mode": "unsafe", "extra": "mine"}}, namespace=ns)
    gitops.kube.patch(DEPLOYMENTS, "web", {"spec": {"replicas": 3}}, namespace=ns)

    gitops.wait_handled(gitops.request_reconcile())

    assert gitops.get(CM, "cfg")["data"] == {"mode": "safe", "extra": "mine"}  # type: ignore[index]
    assert gitops.get(DEPLOYMENTS, "web")["spec"]["replicas"] == 0  # type: ignore[index]


def test_a_no_op_resync_writes_nothing(gitops: GitOpsEnv,
                                       start_controller: StartController) -> None:
    ctl = start_controller(watch=gitops.namespace)
    sha = gitops.push({"app.yaml": dump(configmap("cfg"), deployment("web"), service("web"),
                                        configmap("limits", {"cpu": "0.5"}))})
    gitops.credentials_secret()
    gitops.create_gitsync(interval="2s")
    gitops.wait_ready(sha)
    wait_for(lambda: ctl.log_text().count("applied (") >= 2, what="a first re-sync")
    before = versions(gitops)
    gitsync_version = gitops.gitsync()["metadata"]["resourceVersion"]
    runs = ctl.log_text().count("applied (")
    fetches = packs(gitops)

    wait_for(lambda: ctl.log_text().count("applied (") >= runs + 3, timeout=60,
             what="three more interval re-syncs")

    assert len(before) == 4
    assert versions(gitops) == before
    assert gitops.gitsync()["metadata"]["resourceVersion"] == gitsync_version
    assert "0 created, 0 configured, 4 unchanged, 0 pruned; 0 writes" in ctl.log_text()
    assert packs(gitops) == fetches  # an unchanged revision costs one ls-remote, no fetch
    assert sum(1 for r in gitops.server.requests if r.command == "ls-refs") > 3


def test_a_git_server_that_is_down_keeps_the_last_applied_state(
        gitops: GitOpsEnv, start_controller: StartController) -> None:
    start_controller(watch=gitops.namespace)
    sha = gitops.push({"app.yaml": dump(configmap("cfg"))})
    gitops.credentials_secret()
    gitops.create_gitsync(interval="10m", prune=True)
    applied = gitops.wait_ready(sha)["status"]
    cfg = gitops.get(CM, "cfg")

    gitops.server.down()
    gitops.request_reconcile()
    failed = gitops.wait_reason("FetchFailed")

    status = failed["status"]
    assert status["lastAppliedRevision"] == applied["lastAppliedRevision"]
    assert status["inventory"] == applied["inventory"]
    assert gitops.get(CM, "cfg") == cfg
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert ready["message"].startswith("fetch failed:") and gitops.password not in str(failed)
    assert "127.0.0.1" in ready["message"]

    gitops.server.up()
    gitops.request_reconcile()
    gitops.wait_ready(sha)
