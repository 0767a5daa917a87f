"""A changed Secret rolls its opted-in Deployment exactly once; nothing else rolls (real
control plane: its deployment controller makes one ReplicaSet per rollout)."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path
from typing import Any

import yaml

from controller.rollout import patcher, refs
from sealer.kube import client
from tests.harness.waiting import wait_for
from tests.integration.controller_fixtures import (
    SEALOPS,
    RunningController,
    StartController,
    sealed_secret,
    secret_data,
)
from tests.integration.rollout.conftest import (
    DEPLOYMENTS,
    deployment,
    events_for,
    replicasets,
    stamp,
    wait_replicasets,
)


def _seal(kube: Any, ctl: RunningController, namespace: str, name: str, value: bytes) -> None:
    body = sealed_secret(namespace=namespace, name=name, public=ctl.public(),
                         data={"password": value})
    live = kube.get(SEALOPS, name, namespace=namespace)
    if live is None:
        kube.create(SEALOPS, body, namespace=namespace)
    else:
        kube.patch(SEALOPS, name, {"spec": body["spec"]}, namespace=namespace)
    wait_for(lambda: secret_data(kube.get(client.SECRETS, name, namespace=namespace) or {})
             == {"password": value}, what=f"Secret {name} holding the new value")


def _handled(ctl: RunningController, namespace: str, name: str, *, times: int) -> bool:
    line = f"Deployment {namespace}/{name}: unchanged after a change of Secret"
    return ctl.log_text().count(line) >= times


def test_a_changed_secret_rolls_its_opted_in_deployment_exactly_once(
        kube: Any, namespace: str, start_controller: StartController) -> None:
    ctl = start_controller(watch=namespace)
    _seal(kube, ctl, namespace, "db", b"first")
    for name, opt in (("app", "auto"), ("listed", "other, db"), ("plain", None)):
        kube.create(DEPLOYMENTS, deployment(name, secret="db", restart_on=opt),
                    namespace=namespace)
        wait_replicasets(kube, namespace, name, 1)

    _seal(kube, ctl, namespace, "db", b"second")

    wait_replicasets(kube, namespace, "app", 2)
    wait_replicasets(kube, namespace, "listed", 2)
    assert len(replicasets(kube, namespace, "plain")) == 1
    value = stamp(kube, namespace, "app")
    assert value is not None and value.startswith("v1:")
    assert stamp(kube, namespace, "plain") is None
    event = wait_for(lambda: events_for(kube, namespace, "app", "SecretChanged"),
                     what="the SecretChanged Event")[0]
    assert "Secret db changed (SealedSecret)" in event["message"]
    live = kube.get(DEPLOYMENTS, "app", namespace=namespace)
    managers = {m["manager"]: m for m in live["metadata"]["managedFields"]}
    assert patcher.FIELD_MANAGER in managers
    owned = str(managers[patcher.FIELD_MANAGER]["fieldsV1"])
    assert refs.HASH_ANNOTATION in owned and "f:containers" not in owned
    assert not [a for a in live["metadata"].get("annotations") or {} if "kopf" in a]
    assert not live["metadata"].get("finalizers")

    # A workload that opts in later is learnt from the watch (the namespace is indexed now).
    kube.create(DEPLOYMENTS, deployment("late", secret="db"), namespace=namespace)
    wait_replicasets(kube, namespace, "late", 1)
    _seal(kube, ctl, namespace, "db", b"third")
    wait_replicasets(kube, namespace, "late", 2)
    wait_replicasets(kube, namespace, "app", 3)
    assert len(replicasets(kube, namespace, "plain")) == 1


def test_a_hand_edit_repaired_and_an_unchanged_secret_roll_nothing(
        kube: Any, namespace: str, start_controller: StartController) -> None:
    ctl = start_controller(watch=namespace)
    _seal(kube, ctl, namespace, "db", b"first")
    kube.create(DEPLOYMENTS, deployment("app", secret="db"), namespace=namespace)
    wait_replicasets(kube, namespace, "app", 1)
    _seal(kube, ctl, namespace, "db", b"second")
    wait_replicasets(kube, namespace, "app", 2)
    before = stamp(kube, namespace, "app")
    generation = kube.get(DEPLOYMENTS, "app", namespace=namespace)["metadata"]["generation"]

    # Twice: the Secret edited by hand, the controller repairs it, the hook runs, and finds
    # the data (hence the hash) unchanged.
    for times in (1, 2):
        kube.patch(client.SECRETS, "db", {"data": {
            "password": base64.b64encode(b"tampered").decode()}}, namespace=namespace)
        wait_for(lambda t=times: _handled(ctl, namespace, "app", times=t), timeout=120,
                 what="the rollout check after the repair")
        assert secret_data(kube.get(client.SECRETS, "db", namespace=namespace)) == {
            "password": b"second"}

    assert len(replicasets(kube, namespace, "app")) == 2
    live = kube.get(DEPLOYMENTS, "app", namespace=namespace)
    assert live["metadata"]["generation"] == generation
    assert stamp(kube, namespace, "app") == before


def test_kubectl_apply_of_the_same_deployment_keeps_the_stamp_and_rolls_nothing(
        kube: Any, kubeconfig: Path, namespace: str, start_controller: StartController,
        tmp_path: Path) -> None:
    ctl = start_controller(watch=namespace)
    _seal(kube, ctl, namespace, "db", b"first")
    manifest = tmp_path / "app.yaml"
    manifest.write_text(yaml.safe_dump(deployment("app", secret="db", namespace=namespace)))

    def kubectl_apply(*extra: str) -> None:
        subprocess.run(["kubectl", "--kubeconfig", str(kubeconfig), "apply", *extra, "-f",
                        str(manifest)], check=True, capture_output=True)

    kubectl_apply()
    wait_replicasets(kube, namespace, "app", 1)
    _seal(kube, ctl, namespace, "db", b"second")
    wait_replicasets(kube, namespace, "app", 2)
    stamped = stamp(kube, namespace, "app")
    generation = kube.get(DEPLOYMENTS, "app", namespace=namespace)["metadata"]["generation"]

    kubectl_apply()  # client-side apply: a three-way merge against last-applied
    kubectl_apply("--server-side", "--force-conflicts")

    live = kube.get(DEPLOYMENTS, "app", namespace=namespace)
    assert refs.current_hash(live) == stamped
    assert live["metadata"]["generation"] == generation  # the pod template is unchanged
    wait_replicasets(kube, namespace, "app", 2)

    _seal(kube, ctl, namespace, "db", b"third")  # and the stamp still works afterwards
    wait_replicasets(kube, namespace, "app", 3)
