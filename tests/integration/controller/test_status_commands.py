"""`sealops get|reconcile|version` against the real control plane and a real controller,
for SealedSecrets (GitSyncs and VaultSecrets are covered in their own packages)."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest

from controller import cli, status
from sealer.crypto import keys
from sealer.kube import client
from tests.harness.waiting import wait_for
from tests.integration.controller_fixtures import (
    SEALOPS,
    StartController,
    ready_condition,
    sealed_secret,
)

DEPLOYMENTS = client.Resource("apps", "v1", "Deployment", "deployments", True)


def sealops(kubeconfig: Path, *args: str,
            capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(["--kubeconfig", str(kubeconfig), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _ready(kube: Any, namespace: str, name: str) -> dict[str, Any]:
    found: dict[str, Any] = wait_for(
        lambda: ready_condition(kube.get(SEALOPS, name, namespace=namespace)),
        timeout=120, what=f"SealedSecret {name} Ready")
    return found


def test_reconcile_asks_a_ready_sealedsecret_again_and_waits_for_the_echo(
    kube: Any, namespace: str, kubeconfig: Path, start_controller: StartController,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ctl = start_controller(watch=namespace)
    kube.create(SEALOPS, sealed_secret(namespace=namespace, name="db", public=ctl.public(),
                                       data={"password": b"canary-status-cmd-1"}),
                namespace=namespace)
    assert _ready(kube, namespace, "db")["status"] == "True"

    code, out, err = sealops(kubeconfig, "reconcile", "sealedsecret", "db", "-n", namespace,
                             "--with-source", "--timeout", "2m", capsys=capsys)
    assert (code, err) == (0, ""), err
    obj = kube.get(SEALOPS, "db", namespace=namespace)
    stamp = obj["metadata"]["annotations"][status.RECONCILE_REQUESTED_AT]
    assert obj["status"][status.LAST_HANDLED] == stamp
    assert f"reconcile requested at {stamp}" in out
    assert "✔ sealedsecret/db reconciled: Secret" in out
    assert f"opened with key generation {obj['status']['keyId']}" in out

    code, out, _ = sealops(kubeconfig, "reconcile", "sealedsecret", "db", "-n", namespace,
                           capsys=capsys)
    second = kube.get(SEALOPS, "db", namespace=namespace)
    assert code == 0 and second["status"][status.LAST_HANDLED] != stamp
    assert "canary-status-cmd-1" not in out + ctl.log_text()


def test_reconcile_exits_1_with_the_reason_when_the_sealedsecret_is_not_ready(
    kube: Any, namespace: str, kubeconfig: Path, start_controller: StartController,
    capsys: pytest.CaptureFixture[str],
) -> None:
    start_controller(watch=namespace)
    stranger = keys.generate(now=datetime.datetime.now(datetime.UTC), rsa_bits=2048)
    kube.create(SEALOPS, sealed_secret(namespace=namespace, name="lost",
                                       public=stranger.public(), data={"k": b"v"}),
                namespace=namespace)
    assert _ready(kube, namespace, "lost")["reason"] == "UnknownKey"

    code, _, err = sealops(kubeconfig, "reconcile", "sealedsecret", "lost", "-n", namespace,
                             capsys=capsys)
    assert code == 1
    assert "✗ sealedsecret/lost not ready: UnknownKey:" in err


def test_reconcile_times_out_with_exit_1_when_no_controller_answers(
    kube: Any, namespace: str, kubeconfig: Path, crds: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    kube.create(SEALOPS, sealed_secret(namespace=namespace, name="idle",
                                       public=keys.generate(now=datetime.datetime.now(
                                           datetime.UTC), rsa_bits=2048).public(),
                                       data={"k": b"v"}), namespace=namespace)
    code, _, err = sealops(kubeconfig, "reconcile", "sealedsecret", "idle", "-n", namespace,
                           "--timeout", "2s", capsys=capsys)
    assert code == 1
    assert f"timed out after 2s waiting for the controller to handle the reconcile request " \
           f"of SealedSecret {namespace}/idle" in err
    code, _, err = sealops(kubeconfig, "reconcile", "sealedsecret", "absent", "-n", namespace,
                           capsys=capsys)
    assert (code, err.strip()) == (1, f"error: SealedSecret {namespace}/absent not found")


def test_get_lists_sealedsecrets_with_ready_reason_key_and_age(
    kube: Any, namespace: str, kubeconfig: Path, start_controller: StartController,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ctl = start_controller(watch=namespace)
    kube.create(SEALOPS, sealed_secret(namespace=namespace, name="web", public=ctl.public(),
                                       data={"k": b"v"}), namespace=namespace)
    _ready(kube, namespace, "web")
    key_id = kube.get(SEALOPS, "web", namespace=namespace)["status"]["keyId"]

    code, out, _ = sealops(kubeconfig, "get", "sealedsecrets", "-n", namespace, capsys=capsys)
    lines = out.splitlines()
    assert code == 0
    assert lines[0].split() == ["NAME", "READY", "REASON", "KEY", "AGE"]
    assert lines[1].split()[:4] == ["web", "True", "Succeeded", key_id[:16]]

    code, out, _ = sealops(kubeconfig, "get", "all", "-A", capsys=capsys)
    mine = [line.split() for line in out.splitlines() if line.startswith(namespace + " ")]
    assert code == 0 and out.split()[:2] == ["NAMESPACE", "NAME"]
    assert [row[:4] for row in mine] == [[namespace, "sealedsecret/web", "True", "Succeeded"]]

    code, _, err = sealops(kubeconfig, "get", "secrets", capsys=capsys)
    assert code == 2 and "unknown kind 'secrets'" in err


def test_version_prints_the_client_and_the_controller_deployments_image(
    kube: Any, namespace: str, kubeconfig: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = sealops(kubeconfig, "version", "--controller-namespace", namespace,
                             capsys=capsys)
    assert code == 1 and out.startswith("client: sealops ")
    assert f"no Deployment {namespace}/sealops-controller" in err

    kube.create(DEPLOYMENTS, {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "sealops-controller", "namespace": namespace,
                     "labels": {"app.kubernetes.io/version": "9.9.9"}},
        "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "c"}},
                 "template": {"metadata": {"labels": {"app": "c"}}, "spec": {"containers": [
                     {"name": "c", "image": "registry.invalid/sealops:9.9.9"}]}}}},
        namespace=namespace)
    code, out, _ = sealops(kubeconfig, "version", "--controller-namespace", namespace,
                           capsys=capsys)
    assert code == 0
    assert f"controller: registry.invalid/sealops:9.9.9 (Deployment {namespace}/" \
           "sealops-controller, 0/0 ready)" in out
    assert "controller version label: 9.9.9" in out
