"""dependsOn and health checks against the real controller, control plane and git (issue 14 #1).

The control plane has no kubelet and no scheduler: the tests play the node by writing Pod
status through the API; the real Deployment and ReplicaSet controllers turn that into the
Deployment's status, which the GitSync's health check reads.
"""

from __future__ import annotations

import datetime
from typing import Any

from sealer.kube import client
from tests.harness.waiting import wait_for
from tests.integration.controller_fixtures import StartController
from tests.integration.gitops.conftest import CM, DEPLOYMENTS, GitOpsEnv, configmap, dump, ready_of
from tests.integration.gitops.test_impersonation import configmaps_only

PODS = client.Resource("", "v1", "Pod", "pods", True)


def web(replicas: int = 1) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "app",
                                                           "image": "registry.invalid/a:1"}]}}}}


def message(obj: dict[str, Any]) -> str:
    return str(ready_of(obj)["message"])  # type: ignore[index]


def play_the_node(kube: Any, namespace: str) -> None:
    """Every Pod of `web` becomes Running and Ready, as a kubelet would report it."""
    pods = wait_for(lambda: kube.list(PODS, namespace=namespace,
                                      label_selector="app=web"), what="web's pods")
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for pod in pods:
        kube.patch(PODS, pod["metadata"]["name"], {"status": {
            "phase": "Running", "conditions": [
                {"type": t, "status": "True", "lastTransitionTime": stamp}
                for t in ("PodScheduled", "Initialized", "ContainersReady", "Ready")]}},
            namespace=namespace, subresource="status")


def test_a_gitsync_waits_for_its_dependency_and_runs_once_it_is_ready(
        gitops: GitOpsEnv, start_controller: StartController) -> None:
    start_controller(watch=gitops.namespace)
    sha = gitops.push({"infra/a.yaml": dump(configmap("infra")),
                       "app/b.yaml": dump(configmap("app"))})
    gitops.credentials_secret()
    gitops.create_gitsync("app", path="app", interval="1h", dependsOn=[{"name": "infra"}])
    obj = gitops.wait_reason("DependencyNotReady", name="app")
    assert "GitSync " + gitops.namespace + "/infra is not ready (not found)" in message(obj)
    assert gitops.get(CM, "app") is None
    assert not (obj.get("status") or {}).get("lastAttemptedRevision")  # nothing fetched

    gitops.create_gitsync("infra", path="infra", interval="1h")
    gitops.wait_ready(sha, name="infra")
    gitops.wait_ready(sha, name="app", timeout=120)  # the requeue notices, no event needed
    assert gitops.get(CM, "app") is not None


def test_a_dependency_cycle_is_reported_by_each_member_and_nothing_is_applied(
        gitops: GitOpsEnv, start_controller: StartController) -> None:
    start_controller(watch=gitops.namespace)
    gitops.push({"a/a.yaml": dump(configmap("a")), "b/b.yaml": dump(configmap("b"))})
    gitops.credentials_secret()
    gitops.create_gitsync("a", path="a", interval="1h", dependsOn=[{"name": "b"}])
    gitops.create_gitsync("b", path="b", interval="1h", dependsOn=[{"name": "a"}])
    ns = gitops.namespace
    for name, path in (("a", f"{ns}/a -> {ns}/b -> {ns}/a"), ("b", f"{ns}/b -> {ns}/a -> {ns}/b")):
        obj = gitops.wait_reason("DependencyCycle", name=name)
        assert path in message(obj)
    assert gitops.get(CM, "a") is None and gitops.get(CM, "b") is None
    # Breaking the cycle lets both run: b first, then a.
    gitops.kube.patch(gitops.get_resource(), "b", {"spec": {"dependsOn": None}}, namespace=ns)
    gitops.wait_ready(name="b")
    gitops.wait_ready(name="a", timeout=120)


def test_a_tenant_may_not_depend_on_a_gitsync_in_another_namespace(
        gitops: GitOpsEnv, start_controller: StartController) -> None:
    start_controller(watch=gitops.namespace)
    gitops.push({"a.yaml": dump(configmap("a"))})
    gitops.credentials_secret()
    gitops.create_gitsync(interval="1h", dependsOn=[{"name": "x", "namespace": "kube-system"}])
    obj = gitops.wait_reason("PolicyViolation")
    assert "spec.dependsOn names GitSync kube-system/x" in message(obj)
    assert gitops.get(CM, "a") is None


def test_wait_holds_the_revision_until_the_deployment_is_available(
        gitops: GitOpsEnv, start_controller: StartController) -> None:
    ns = gitops.namespace
    start_controller(watch=ns)
    sha = gitops.push({"web.yaml": dump(web(), configmap("cfg"))})
    gitops.credentials_secret()
    gitops.create_gitsync(interval="1h", timeout="3s", wait=True)
    obj = gitops.wait_reason("HealthCheckFailed", revision=sha)
    assert f"Deployment {ns}/web not ready within the timeout" in message(obj)
    assert "0/1 replicas available" in message(obj) or "replicas updated" in message(obj)
    status = obj["status"]
    assert status.get("lastAppliedRevision") is None  # applied, but not healthy
    assert {e["id"] for e in status["inventory"]["entries"]} == {
        f"{ns}_web_apps_Deployment", f"{ns}_cfg__ConfigMap"}
    assert gitops.get(DEPLOYMENTS, "web") is not None

    play_the_node(gitops.kube, ns)
    gitops.wait_handled(gitops.request_reconcile())
    done = gitops.wait_ready(sha)
    assert done["status"]["lastAppliedRevision"] == done["status"]["lastAttemptedRevision"]


def test_health_checks_read_as_the_gitsyncs_service_account(
        gitops: GitOpsEnv, start_controller: StartController) -> None:
    ns = gitops.namespace
    start_controller(watch=ns)
    # A healthy Deployment exists (the harness's admin made it), but the GitSync's account
    # may only touch ConfigMaps: read as that account, the health check cannot see it.
    gitops.kube.create(DEPLOYMENTS, web(replicas=0), namespace=ns)
    wait_for(lambda: (gitops.get(DEPLOYMENTS, "web") or {}).get("status", {}).get(
        "observedGeneration") == 1, what="web observed")
    configmaps_only(gitops.kube, ns, "deployer")
    sha = gitops.push({"a.yaml": dump(configmap("a"))})
    gitops.credentials_secret()
    gitops.create_gitsync(interval="1h", timeout="3s", serviceAccountName="deployer",
                          healthChecks=[{"apiVersion": "apps/v1", "kind": "Deployment",
                                         "name": "web"}])
    obj = gitops.wait_reason("HealthCheckFailed", revision=sha)
    assert "Deployment web: the GitSync's account may not read it (Forbidden)" in message(obj)
    # The same check as the controller's identity passes: the account was the only obstacle.
    gitops.kube.patch(gitops.get_resource(), "app", {"spec": {"serviceAccountName": None}},
                      namespace=ns)
    gitops.wait_ready(sha)
