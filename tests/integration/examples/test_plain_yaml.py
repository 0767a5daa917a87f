"""examples/plain-yaml end to end, the CI way: `sealops sync` of the directory, the in-cluster
controller (holding the demo key) opening its SealedSecret before the Deployment is applied,
then `sealops diff` reporting nothing pending. The namespace is `hello`, the one the
SealedSecret is sealed for (strict scope)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sealer.kube import client
from tests.integration.controller_fixtures import StartController
from tests.integration.examples.conftest import BIN, EXAMPLES, load_all, run

NAMESPACE = "hello"
DEPLOYMENTS = client.Resource("apps", "v1", "Deployment", "deployments", True)


def sealops(kubeconfig: Path, *args: str | Path) -> Any:
    return run(BIN / "sealops", *args, env={**os.environ, "KUBECONFIG": str(kubeconfig)})


def test_the_plain_yaml_example_syncs_secret_first_and_then_has_nothing_to_diff(
    kube: Any, kubeconfig: Path, fixed_namespace: Any, demo_key_namespace: str,
    start_controller: StartController,
) -> None:
    bootstrap = load_all(EXAMPLES / "plain-yaml/bootstrap.yaml")
    assert [o["kind"] for o in bootstrap] == ["Namespace", "GitSync"]
    fixed_namespace(bootstrap[0]["metadata"]["name"])
    start_controller(watch=NAMESPACE, key_namespace=demo_key_namespace)

    synced = sealops(kubeconfig, "sync", EXAMPLES / "plain-yaml", "--path", "app",
                     "-n", NAMESPACE, "--name", "hello", "--prune", "--timeout", "90")

    assert synced.returncode == 0, synced.stdout + synced.stderr
    secret = kube.get(client.SECRETS, "api-token", namespace=NAMESPACE)
    deployment = kube.get(DEPLOYMENTS, "hello", namespace=NAMESPACE)
    assert sorted(secret["data"]) == ["token"]
    assert deployment["metadata"]["creationTimestamp"] >= secret["metadata"]["creationTimestamp"]
    config = kube.get(client.CONFIGMAPS, "hello-config", namespace=NAMESPACE)
    assert config["data"]["GREETING"] == "Hello from Git"
    assert secret["data"]["token"] not in synced.stdout + synced.stderr

    diffed = sealops(kubeconfig, "diff", EXAMPLES / "plain-yaml", "--path", "app",
                     "-n", NAMESPACE, "--name", "hello")
    assert diffed.returncode == 0, diffed.stdout + diffed.stderr
