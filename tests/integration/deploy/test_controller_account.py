"""The real controller runs as the shipped ServiceAccount (a TokenRequest token, no admin
rights) and does its job: key generation in sealops-system, the public-keys ConfigMap, a
SealedSecret unsealed, its status and an Event written, and no request refused.

It watches only the test's namespace (a cluster-wide controller would reconcile every other
test's SealedSecrets); the cluster-wide grants it would use are checked in test_rbac.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sealer.kube import client
from tests.harness.controlplane import free_port
from tests.harness.waiting import wait_for
from tests.integration.controller_fixtures import (
    ROOT,
    SEALOPS,
    RunningController,
    ready_condition,
    sealed_secret,
    secret_data,
)
from tests.integration.deploy.conftest import CONTROLLER_NS, Installed, Kubectl

REFUSALS = ("Forbidden", "forbidden", "Not enough permissions")


@pytest.fixture
def account_kubeconfig(installed: Installed, kubectl: Kubectl, tmp_path: Path) -> Path:
    """The admin kubeconfig with its token swapped for one of the controller's account."""
    token = kubectl.run("create", "token", "sealops-controller", "-n", CONTROLLER_NS,
                        "--duration=3600s").stdout.strip()
    config = json.loads(kubectl.kubeconfig.read_text())
    config["users"] = [{"name": "sealops-controller", "user": {"token": token}}]
    config["contexts"][0]["context"]["user"] = "sealops-controller"
    path = tmp_path / "sealops-controller.kubeconfig"
    path.write_text(json.dumps(config))
    path.chmod(0o600)
    return path


@pytest.fixture
def controller_as_account(account_kubeconfig: Path, namespace: str,
                          tmp_path: Path) -> Iterator[RunningController]:
    port = free_port()
    log = tmp_path / "controller.log"
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    env["PYTHONUNBUFFERED"] = "1"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "controller.cli", "-v", "--kubeconfig",
             str(account_kubeconfig), "controller", "--namespace", CONTROLLER_NS,
             "--watch-namespace", namespace, "--listen", f"127.0.0.1:{port}"],
            stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT, start_new_session=True)
    running = RunningController(proc, log, f"http://127.0.0.1:{port}", CONTROLLER_NS)
    try:
        wait_for(lambda: proc.poll() is not None or _healthy(running), timeout=60,
                 what="the controller's /healthz")
        assert proc.poll() is None, running.log_text()[-3000:]
        wait_for(lambda: "Resuming operations" in running.log_text()
                 or "Handler 'key-secrets'" in running.log_text(),
                 timeout=30, what="kopf to start watching")
        yield running
    finally:
        running.stop()


def _healthy(running: RunningController) -> bool:
    try:
        return running.get("/healthz")[0] == 200
    except OSError:
        return False


def _events_for(kube: Any, namespace: str, name: str) -> list[dict[str, Any]]:
    return [e for e in kube.list(client.EVENTS, namespace=namespace)
            if e["involvedObject"].get("name") == name]


def test_the_controller_does_its_job_with_only_the_shipped_rights(
        kube: Any, kubectl: Kubectl, namespace: str,
        controller_as_account: RunningController) -> None:
    ctl = controller_as_account
    keys = kube.list(client.SECRETS, namespace=CONTROLLER_NS,
                     label_selector="sealops.dev/sealing-key=active")
    assert keys, "the key generation was persisted in sealops-system"
    published = kube.get(client.CONFIGMAPS, "sealops-public-keys", namespace=CONTROLLER_NS)
    assert published is not None and published["data"]["public.pem"]

    kube.create(SEALOPS, sealed_secret(namespace=namespace, name="db", public=ctl.public(),
                                       data={"password": b"hunter2"}), namespace=namespace)
    secret = wait_for(lambda: kube.get(client.SECRETS, "db", namespace=namespace),
                      timeout=30, what="the Secret")
    assert secret_data(secret) == {"password": b"hunter2"}
    cond = wait_for(lambda: ready_condition(kube.get(SEALOPS, "db", namespace=namespace)),
                    timeout=30, what="the Ready condition")
    assert (cond["status"], cond["reason"]) == ("True", "Succeeded")
    event = wait_for(lambda: _events_for(kube, namespace, "db"), timeout=30, what="an Event")
    assert event[0]["source"]["component"] == "sealops-controller"

    log = ctl.log_text()
    assert [word for word in REFUSALS if word in log] == [], log[-3000:]


def test_any_authenticated_user_reads_the_published_public_keys(
        kubectl: Kubectl, controller_as_account: RunningController) -> None:
    out = kubectl.run("get", "configmap", "sealops-public-keys", "-n", CONTROLLER_NS,
                      "-o", "jsonpath={.data.key-id}", "--as=someone",
                      "--as-group=system:authenticated").stdout
    assert out.strip() == controller_as_account.public().key_id.hex()
    denied = kubectl.run("get", "secrets", "-n", CONTROLLER_NS, "--as=someone",
                         "--as-group=system:authenticated", check=False)
    assert denied.returncode != 0 and "forbidden" in denied.stderr.lower()
