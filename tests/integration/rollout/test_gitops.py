"""One rollout per GitOps change: a commit changing a sealed secret and the Deployment that uses
it rolls the Deployment once, because the GitSync applies it with the new hash already in its
pod template; resyncs of an unchanged revision roll nothing."""

from __future__ import annotations

from typing import Any

from tests.harness.waiting import wait_for
from tests.integration.controller_fixtures import RunningController, StartController, sealed_secret
from tests.integration.gitops.conftest import GitOpsEnv, dump
from tests.integration.rollout.conftest import (
    DEPLOYMENTS,
    deployment,
    replicasets,
    stamp,
    wait_replicasets,
)


def _files(ctl: RunningController, namespace: str, *, value: bytes, image: str,
           sealed_name: str = "db") -> dict[str, str]:
    sealed = sealed_secret(namespace=namespace, name=sealed_name, public=ctl.public(),
                           data={"password": value})
    sealed["metadata"]["name"] = "db"  # if sealed for another name, it cannot be opened
    app = deployment("app", secret="db", image=f"registry.invalid/{image}")
    return {"app/secret.yaml": dump(sealed), "app/deploy.yaml": dump(app)}


def _sync(gitops: GitOpsEnv, files: dict[str, str]) -> None:
    sha = gitops.push(files)
    gitops.request_reconcile()
    gitops.wait_ready(sha, timeout=120)


def _image(kube: Any, namespace: str) -> str:
    live = kube.get(DEPLOYMENTS, "app", namespace=namespace)
    return str(live["spec"]["template"]["spec"]["containers"][0]["image"])


def test_a_commit_changing_a_sealed_secret_and_its_deployment_rolls_it_once(
        gitops: GitOpsEnv, start_controller: StartController) -> None:
    # The sync waits between its Secrets and its workloads: without the claim, the patch path
    # would stamp the Deployment first, and the sync's apply would roll it a second time.
    ctl = start_controller(watch=gitops.namespace,
                           env={"SEALOPS_DELAYS": "gitops.before-stamp=3"})
    kube, ns = gitops.kube, gitops.namespace
    gitops.credentials_secret()
    sha = gitops.push(_files(ctl, ns, value=b"one", image="app:1"))
    gitops.create_gitsync(path="app", interval="10m")
    gitops.wait_ready(sha, timeout=120)
    wait_replicasets(kube, ns, "app", 1)
    first = stamp(kube, ns, "app")
    assert first is not None  # created with its stamp: no second ReplicaSet for it later

    _sync(gitops, _files(ctl, ns, value=b"two", image="app:2"))  # secret and Deployment
    wait_replicasets(kube, ns, "app", 2)
    # The unseal saw the Deployment claimed by the sync; its check once the sync was done
    # found the hash the sync applied.
    line = f"Deployment {ns}/app: unchanged after a change of Secret db"
    wait_for(lambda: line in ctl.log_text(), timeout=120, what="the deferred rollout check")
    second = stamp(kube, ns, "app")
    assert second not in (None, first)
    generation = kube.get(DEPLOYMENTS, "app", namespace=ns)["metadata"]["generation"]

    for _ in range(2):  # resyncs of the same revision
        gitops.wait_handled(gitops.request_reconcile(), timeout=120)
    assert kube.get(DEPLOYMENTS, "app", namespace=ns)["metadata"]["generation"] == generation
    wait_replicasets(kube, ns, "app", 2)
    assert stamp(kube, ns, "app") == second

    _sync(gitops, _files(ctl, ns, value=b"three", image="app:2"))  # the secret alone
    wait_replicasets(kube, ns, "app", 3)
    # The Deployment alone (the secret re-sealed with the same value).
    _sync(gitops, _files(ctl, ns, value=b"three", image="app:3"))
    wait_replicasets(kube, ns, "app", 4)
    third = stamp(kube, ns, "app")

    # A Secret that fails to materialize still stops everything after it.
    sha = gitops.push(_files(ctl, ns, value=b"four", image="app:4", sealed_name="elsewhere"))
    gitops.request_reconcile()
    gitops.wait_reason("SecretsFailed", revision=sha, timeout=120)
    assert _image(kube, ns) == "registry.invalid/app:3"
    assert stamp(kube, ns, "app") == third
    assert len(replicasets(kube, ns, "app")) == 4
