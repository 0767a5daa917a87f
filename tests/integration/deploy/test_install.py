"""deploy/ is accepted by a real API server: server-side dry run, then a real apply; every
rendered object exists afterwards and a second apply changes nothing."""

from __future__ import annotations

from typing import Any

from sealer.kube import client
from tests.integration.deploy.conftest import CONTROLLER_NS, Installed, Kubectl, ident

DEPLOYMENTS = client.Resource("apps", "v1", "Deployment", "deployments", True)


def _names(reported: list[str]) -> list[tuple[str, str]]:
    """`clusterrole.rbac.authorization.k8s.io/x` -> ("clusterrole", "x")."""
    out = []
    for line in reported:
        resource, _, name = line.partition("/")
        out.append((resource.split(".")[0], name))
    return sorted(out)


def _expected(objects: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return sorted((o["kind"].lower(), o["metadata"]["name"]) for o in objects)


def test_every_rendered_object_passes_the_server_side_dry_run(installed: Installed) -> None:
    assert _names(installed.dry_run) == _expected(installed.objects)


def test_every_rendered_object_is_applied(installed: Installed) -> None:
    assert _names(installed.applied) == _expected(installed.objects)


def test_every_rendered_object_exists_after_the_apply(installed: Installed,
                                                      kubectl: Kubectl) -> None:
    for obj in installed.objects:
        kind, namespace, name = ident(obj)
        args = ["get", f"{kind}.{obj['apiVersion'].split('/')[0]}"
                if "/" in obj["apiVersion"] else kind, name, "-o", "name"]
        if namespace:
            args += ["-n", namespace]
        assert kubectl.run(*args).stdout.strip().endswith(f"/{name}")


def test_the_deployment_is_stored_with_its_security_settings(installed: Installed,
                                                             kube: Any) -> None:
    stored = kube.get(DEPLOYMENTS, "sealops-controller", namespace=CONTROLLER_NS)
    container = stored["spec"]["template"]["spec"]["containers"][0]
    # Fields the server would drop silently if it did not know them (seccompProfile is 1.19+).
    assert container["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert stored["spec"]["template"]["spec"]["securityContext"]["seccompProfile"] == {
        "type": "RuntimeDefault"}
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"


def test_applying_the_base_again_is_accepted(installed: Installed, kubectl: Kubectl) -> None:
    assert _names(kubectl.apply(installed.objects)) == _expected(installed.objects)
