"""--refuse-privileged-pods: a tenant's hostPath or privileged workload is refused before any
write (issue 10, low item); without the flag the same repository applies."""

from __future__ import annotations

from tests.integration.controller_fixtures import StartController
from tests.integration.gitops.conftest import (
    CM,
    DEPLOYMENTS,
    GitOpsEnv,
    configmap,
    deployment,
    dump,
    ready_of,
)


def test_a_tenants_host_path_deployment_is_refused_with_the_flag(
        gitops: GitOpsEnv, start_controller: StartController) -> None:
    start_controller(watch=gitops.namespace, args=("--refuse-privileged-pods",))
    hostile = deployment("node-reader")
    hostile["spec"]["template"]["spec"]["volumes"] = [
        {"name": "root", "hostPath": {"path": "/"}}]
    sha = gitops.push({"cm.yaml": dump(configmap("c")), "web.yaml": dump(hostile)})
    gitops.credentials_secret()
    gitops.create_gitsync(interval="10m")
    obj = gitops.wait_reason("PolicyViolation", revision=sha)
    message = str(ready_of(obj)["message"])  # type: ignore[index]
    assert "Deployment " in message and "volumes[root].hostPath" in message
    assert gitops.get(DEPLOYMENTS, "node-reader") is None
    assert gitops.get(CM, "c") is None
