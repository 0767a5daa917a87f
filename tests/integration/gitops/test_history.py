"""GitSync `status.history` and the GitSync metrics, from a real controller and a real git
server: each change of outcome is one entry with its revision, reason, time and stage timings;
a repeated run adds none; the metrics page shows the stages and objects applied."""

from __future__ import annotations

from tests.harness.waiting import wait_for
from tests.integration.controller_fixtures import StartController
from tests.integration.gitops.conftest import GitOpsEnv, configmap, dump

STAGES = {"fetch", "render", "apply", "secrets", "prune"}


def test_history_records_each_change_of_outcome_newest_first(
        gitops: GitOpsEnv, start_controller: StartController) -> None:
    ctl = start_controller(watch=gitops.namespace)
    first = gitops.push({"app/cm.yaml": dump(configmap("one"))})
    gitops.credentials_secret()
    gitops.create_gitsync(path="app", interval="10m", prune=True)
    history = gitops.wait_ready(first)["status"]["history"]
    assert len(history) == 1
    assert history[0]["revision"] == f"main@sha1:{first}"
    assert (history[0]["reason"], history[0]["ready"]) == ("Succeeded", True)
    assert [s["name"] for s in history[0]["stages"]] == ["fetch", "render", "apply", "secrets",
                                                         "prune"]
    assert history[0]["durationSeconds"] >= 0 and history[0]["time"].endswith("Z")

    # A repeated run of the same revision with the same outcome adds no entry.
    stamp = gitops.request_reconcile()
    assert gitops.wait_handled(stamp)["status"]["history"] == history

    broken = gitops.push({"app/cm.yaml": "kind: ConfigMap\nmetadata: {name: a}\n"})
    gitops.request_reconcile()
    failed = gitops.wait_reason("RenderFailed", revision=broken)["status"]["history"]
    assert [(e["revision"], e["reason"], e["ready"]) for e in failed] == [
        (f"main@sha1:{broken}", "RenderFailed", False), (f"main@sha1:{first}", "Succeeded", True)]
    assert {s["name"] for s in failed[0]["stages"]} == {"fetch", "render"}

    fixed = gitops.push({"app/cm.yaml": dump(configmap("two"))})
    gitops.request_reconcile()
    history = gitops.wait_ready(fixed)["status"]["history"]
    assert [e["reason"] for e in history] == ["Succeeded", "RenderFailed", "Succeeded"]

    text = wait_for(lambda: (t := ctl.get("/metrics")[1].decode()) and
                    "sealops_gitsync_objects_pruned_total{" in t and t, timeout=60,
                    what="GitSync metrics")
    ns = gitops.namespace
    assert f'sealops_gitsync_objects_pruned_total{{name="app",namespace="{ns}"}} 1.0' in text
    assert f'sealops_gitsync_objects_applied_total{{action="created",name="app",' \
        f'namespace="{ns}"}}' in text
    for stage in STAGES:
        assert f'sealops_gitsync_stage_duration_seconds_count{{stage="{stage}"}}' in text
    assert 'sealops_reconcile_duration_seconds_count{kind="GitSync",outcome="RenderFailed"}' \
        in text
    assert f'sealops_condition{{kind="GitSync",name="app",namespace="{ns}",status="True",' \
        'type="Ready"} 1.0' in text

    gitops.kube.delete(gitops.get_resource(), "app", namespace=ns)
    wait_for(lambda: f'kind="GitSync",name="app",namespace="{ns}"' not in
             ctl.get("/metrics")[1].decode(), timeout=60, what="the GitSync's series removed")
    assert f'name="app",namespace="{ns}"' not in ctl.get("/metrics")[1].decode()
