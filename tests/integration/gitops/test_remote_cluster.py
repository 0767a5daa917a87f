"""A GitSync applying to a second control plane through spec.kubeConfig (issue 14 item 4).

Two real control planes in one test: the controller runs against the session's, the GitSync's
objects go to the other one. Apply, drift repair and prune happen there, status stays here,
and the remote credentials reach no sink. SealedSecrets on a remote cluster are unsealed by
that cluster's controller; this test applies plain objects only.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from sealer.kube import client, config
from tests.harness import controlplane
from tests.harness.waiting import wait_for
from tests.integration.controller_fixtures import (
    ROOT,
    SEALOPS,
    RunningController,
    StartController,
    sealed_secret,
    secret_data,
)
from tests.integration.gitops.conftest import CM, SECRETS, GitOpsEnv, configmap, dump, ready_of


@pytest.fixture
def remote_plane(tmp_path: Path) -> Iterator[controlplane.ControlPlane]:
    cp = controlplane.start(workdir=tmp_path / "remote-cp")
    try:
        yield cp
    finally:
        cp.stop()


@pytest.fixture
def remote_controller(remote_plane: controlplane.ControlPlane, namespace: str,
                      tmp_path: Path) -> Iterator[RunningController]:
    """The remote cluster's own sealops controller (it unseals what lands there)."""
    env = {**os.environ, "KUBECONFIG": str(remote_plane.kubeconfig), "PYTHONUNBUFFERED": "1"}
    subprocess.run(["kubectl", "apply", "-R", "-f", str(ROOT / "crds")], env=env, check=True,
                   capture_output=True)
    far: Any = config.connect(kubeconfig=str(remote_plane.kubeconfig))
    for ns in (namespace, "remote-keys"):
        far.create(client.NAMESPACES, {"metadata": {"name": ns}})
    port = controlplane.free_port()
    log = tmp_path / "remote-controller.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "controller.cli", "controller", "--namespace", "remote-keys",
             "--watch-namespace", namespace, "--listen", f"127.0.0.1:{port}"],
            stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT, start_new_session=True)
    running = RunningController(proc, log, f"http://127.0.0.1:{port}", "remote-keys")
    try:
        wait_for(lambda: _answers(running), timeout=90, what="the remote controller")
        yield running
    finally:
        running.stop()
        far.close()


def _answers(running: RunningController) -> bool:
    try:
        return running.get("/healthz")[0] == 200
    except OSError:
        return False


def kubeconfig_of(cp: controlplane.ControlPlane) -> bytes:
    ca = (cp.workdir / "certs" / "apiserver.crt").read_bytes()
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "remote",
        "contexts": [{"name": "remote", "context": {"cluster": "remote", "user": "admin"}}],
        "clusters": [{"name": "remote", "cluster": {
            "server": cp.server, "certificate-authority-data": base64.b64encode(ca).decode()}}],
        "users": [{"name": "admin", "user": {"token": cp.token}}]}).encode()


def test_a_gitsync_applies_repairs_and_prunes_on_another_cluster(
        gitops: GitOpsEnv, start_controller: StartController,
        remote_plane: controlplane.ControlPlane, remote_controller: RunningController) -> None:
    ns = gitops.namespace
    ctl = start_controller(watch=ns)
    far: Any = config.connect(kubeconfig=str(remote_plane.kubeconfig))
    gitops.kube.create(SECRETS, {"metadata": {"name": "remote"}, "data": {
        "value": base64.b64encode(kubeconfig_of(remote_plane)).decode()}}, namespace=ns)
    # Sealed for the remote cluster's key: only that cluster's controller can open it, and the
    # sync waits for the Secret there before the ConfigMaps.
    db = sealed_secret(namespace=ns, name="db", public=remote_controller.public(),
                       data={"password": b"remote-only"})
    first = gitops.push({"a.yaml": dump(configmap("a")), "b.yaml": dump(configmap("b")),
                         "db.yaml": dump(db)})
    gitops.credentials_secret()
    gitops.create_gitsync(interval="1h", prune=True, kubeConfig={"secretRef": {"name": "remote"}})
    obj = gitops.wait_ready(first, timeout=150)
    assert {e["id"] for e in obj["status"]["inventory"]["entries"]} == {
        f"{ns}_a__ConfigMap", f"{ns}_b__ConfigMap", f"{ns}_db_sealops.dev_SealedSecret"}
    assert far.get(CM, "a", namespace=ns) is not None and far.get(CM, "b", namespace=ns)
    assert secret_data(far.get(SECRETS, "db", namespace=ns)) == {"password": b"remote-only"}
    assert gitops.get(CM, "a") is None and gitops.get(SEALOPS, "db") is None  # nothing here

    far.patch(CM, "a", {"data": {"k": "drifted"}}, namespace=ns)
    gitops.wait_handled(gitops.request_reconcile())
    assert far.get(CM, "a", namespace=ns)["data"] == {"k": "a"}

    second = gitops.push({}, remove=("b.yaml",))
    gitops.request_reconcile()
    gitops.wait_ready(second)
    assert far.get(CM, "b", namespace=ns) is None and far.get(CM, "a", namespace=ns)

    sinks = {"log": ctl.log_text(), "events": json.dumps(gitops.events()),
             "gitsync": json.dumps(gitops.gitsync())}
    for where, text in sinks.items():
        assert remote_plane.token not in text, where
    far.close()


def test_a_kubeconfig_reading_local_files_is_refused_and_nothing_is_applied(
        gitops: GitOpsEnv, start_controller: StartController) -> None:
    ns = gitops.namespace
    start_controller(watch=ns)
    hostile = yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}],
        "clusters": [{"name": "k", "cluster": {"server": "https://127.0.0.1:1"}}],
        "users": [{"name": "u", "user": {
            "tokenFile": "/var/run/secrets/kubernetes.io/serviceaccount/token"}}]}).encode()
    gitops.kube.create(SECRETS, {"metadata": {"name": "remote"}, "data": {
        "value": base64.b64encode(hostile).decode()}}, namespace=ns)
    gitops.push({"a.yaml": dump(configmap("a"))})
    gitops.credentials_secret()
    gitops.create_gitsync(interval="1h", kubeConfig={"secretRef": {"name": "remote"}})
    obj = gitops.wait_reason("KubeConfigInvalid")
    message = ready_of(obj)["message"]  # type: ignore[index]
    assert "user field tokenFile is not allowed" in message and "/var/run" not in message
    assert gitops.get(CM, "a") is None
