"""Pipeline failures before the cluster is touched, waves, and the GitSync status built from an
outcome (controller.gitops.pipeline, controller.gitops.report)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from controller.apply import inventory, plan
from controller.gitops import pipeline, reconciler, report
from controller.sources import errors as source_errors
from controller.sources import git
from sealer.kube import client

PREVIOUS = inventory.Inventory((inventory.Entry("shop", "web", "apps", "Deployment", "v1"),))
POLICY = plan.SyncPolicy(sync_namespace="shop", sync_name="app", target_namespace="shop")
# Never contacted: every case below fails before the first request.
KUBE = client.KubeClient(client.Connection(server="https://127.0.0.1:9", auth=lambda: None))


def test_a_fetch_failure_keeps_the_previous_inventory_and_names_the_stage() -> None:
    def fetch() -> git.Checkout:
        raise source_errors.FetchError("ls-remote of http://127.0.0.1:1/r.git failed")
    outcome = pipeline.run(fetch, pipeline.Request(policy=POLICY, previous=PREVIOUS, prune=True),
                           kube=KUBE)
    assert (outcome.reason, outcome.ok, outcome.retryable) == ("FetchFailed", False, True)
    assert outcome.message.startswith("fetch failed: ls-remote")
    assert outcome.inventory == PREVIOUS and outcome.revision is None


def test_a_refused_source_is_a_policy_violation() -> None:
    def fetch() -> git.Checkout:
        raise source_errors.SourceRefusedError("source URL 'ext::sh' refused")
    outcome = pipeline.run(fetch, pipeline.Request(policy=POLICY), kube=KUBE)
    assert outcome.reason == "PolicyViolation"


def test_an_empty_render_is_refused_and_nothing_is_pruned(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    request = pipeline.Request(policy=POLICY, path="app", previous=PREVIOUS, prune=True)
    outcome = pipeline.run(lambda: git.Checkout(revision="r1", root=tmp_path), request,
                           kube=KUBE)
    assert outcome.reason == "PolicyViolation"
    assert "no objects" in outcome.message
    assert outcome.inventory == PREVIOUS and outcome.revision == "r1"


def test_a_render_error_is_render_failed(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "x.yaml").write_text("kind: ConfigMap\nmetadata: {name: a}\n")
    request = pipeline.Request(policy=POLICY, path="app", previous=PREVIOUS)
    outcome = pipeline.run(lambda: git.Checkout(revision="r1", root=tmp_path), request,
                           kube=KUBE)
    assert outcome.reason == "RenderFailed"
    assert "app/x.yaml: document 1: missing or invalid apiVersion" in outcome.message


def obj(kind: str, name: str, api_version: str = "v1") -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": name}}


def test_waves_group_consecutive_objects_of_one_kind() -> None:
    objects = [obj("ConfigMap", "a"), obj("ConfigMap", "b"), obj("Service", "a"),
               obj("Deployment", "a", "apps/v1"), obj("Deployment", "b", "apps/v1")]
    assert [[o["metadata"]["name"] for o in w] for w in pipeline.waves(objects)] == [
        ["a", "b"], ["a"], ["a", "b"]]
    assert list(pipeline.waves([])) == []


GITSYNC: dict[str, Any] = {"apiVersion": "sealops.dev/v1alpha1", "kind": "GitSync",
           "metadata": {"name": "app", "namespace": "shop", "generation": 3},
           "status": {"lastAppliedRevision": "main@sha1:old",
                      "lastAttemptedRevision": "main@sha1:old"}}


def test_a_success_records_revision_inventory_and_both_conditions() -> None:
    outcome = pipeline.Outcome(reason="Succeeded", message="Applied revision main@sha1:new: 1 "
                               "objects", revision="main@sha1:new", inventory=PREVIOUS)
    wanted = report.wanted_status(GITSYNC, outcome, requested="now", now="2030-01-01T00:00:00Z")
    assert wanted["lastAppliedRevision"] == wanted["lastAttemptedRevision"] == "main@sha1:new"
    assert wanted["inventory"] == {"entries": [{"id": "shop_web_apps_Deployment", "v": "v1"}]}
    assert wanted["lastHandledReconcileAt"] == "now"
    assert wanted["observedGeneration"] == 3
    conditions = {c["type"]: c for c in wanted["conditions"]}
    assert (conditions["Ready"]["status"], conditions["Ready"]["reason"]) == ("True",
                                                                             "Succeeded")
    assert (conditions["Reconciling"]["status"], conditions["Reconciling"]["observedGeneration"]
            ) == ("False", 3)


def test_a_failure_keeps_the_last_applied_revision() -> None:
    outcome = pipeline.Outcome(reason="SecretsFailed", message="secrets failed: x",
                               revision="main@sha1:new", inventory=PREVIOUS)
    wanted = report.wanted_status(GITSYNC, outcome, requested=None, now="2030-01-01T00:00:00Z")
    assert wanted["lastAppliedRevision"] == "main@sha1:old"
    assert wanted["lastAttemptedRevision"] == "main@sha1:new"
    assert "lastHandledReconcileAt" not in wanted
    ready = next(c for c in wanted["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "SecretsFailed")


def test_progress_is_shown_only_for_a_new_generation_or_request() -> None:
    done = {**GITSYNC, "status": {"observedGeneration": 3, "lastHandledReconcileAt": "a"}}
    assert not report.needs_progress(done, requested="a")
    assert report.needs_progress(done, requested="b")
    assert report.needs_progress({**done, "metadata": {**done["metadata"], "generation": 4}},
                                 requested="a")


def test_revisions_are_named_like_flux() -> None:
    sha = "a" * 40
    assert reconciler.revision_name(git.Ref(branch="main"), sha) == f"main@sha1:{sha}"
    assert reconciler.revision_name(git.Ref(tag="v1"), sha) == f"v1@sha1:{sha}"
    assert reconciler.revision_name(git.Ref(commit=sha), sha) == f"sha1:{sha}"
    assert reconciler.revision_name(git.Ref(commit="b" * 64), "b" * 64).startswith("sha256:")


def test_stages_are_timed_by_the_injected_clock_up_to_the_failing_one(tmp_path: Path) -> None:
    ticks = iter(range(100))
    clock = pipeline.wait.Clock(monotonic=lambda: float(next(ticks)))
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "x.yaml").write_text("kind: ConfigMap\nmetadata: {name: a}\n")
    request = pipeline.Request(policy=POLICY, path="app", previous=PREVIOUS)
    outcome = pipeline.run(lambda: git.Checkout(revision="r1", root=tmp_path), request,
                           kube=KUBE, clock=clock)
    assert outcome.reason == "RenderFailed"
    assert outcome.stages == (("fetch", 1.0), ("render", 1.0))
    assert outcome.duration_s > 2.0


def test_the_status_history_gets_the_run_with_its_stages() -> None:
    outcome = pipeline.Outcome(reason="FetchFailed", message="fetch failed: x", revision=None,
                               inventory=PREVIOUS, stages=(("fetch", 0.25),), duration_s=0.5)
    body = {"metadata": {"generation": 1}, "status": {}}
    wanted = report.wanted_status(body, outcome, requested=None, now="2026-01-01T00:00:00Z")
    assert wanted["history"] == [{"reason": "FetchFailed", "ready": False,
                                  "time": "2026-01-01T00:00:00Z", "durationSeconds": 0.5,
                                  "stages": [{"name": "fetch", "durationSeconds": 0.25}]}]
