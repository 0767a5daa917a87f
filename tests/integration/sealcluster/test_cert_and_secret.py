"""`seal cert` and `seal secret` without --cert read the controller's published keys via the API."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from sealer.crypto import keys
from sealer.kube import client
from tests.harness.waiting import wait_for
from tests.integration.controller_fixtures import SEALOPS, StartController, secret_data

from .helpers import key_ids_of, load, seal, secret_yaml


def test_seal_cert_prints_the_controllers_newest_public_keys(
    kubeconfig: Path, namespace: str, start_controller: StartController, tmp_path: Path
) -> None:
    ctl = start_controller(watch=namespace)

    result = seal("cert", "--controller-namespace", ctl.key_namespace, "--kubeconfig",
                  str(kubeconfig), kubeconfig=None, cwd=tmp_path)

    assert result.returncode == 0, result.stderr.decode()
    printed = keys.parse_public_pem(result.stdout)
    assert printed.key_id == ctl.public().key_id
    assert printed.has_v2
    assert f"key {printed.key_id_hex} from ConfigMap {ctl.key_namespace}/sealops-public-keys" \
        in result.stderr.decode()


def test_seal_cert_writes_a_file_that_seal_secret_accepts_offline(
    kubeconfig: Path, namespace: str, start_controller: StartController, tmp_path: Path
) -> None:
    ctl = start_controller(watch=namespace)
    written = seal("cert", "--controller-namespace", ctl.key_namespace, "-o", "public.pem",
                   kubeconfig=kubeconfig, cwd=tmp_path)
    assert written.returncode == 0, written.stderr.decode()
    assert written.stdout == b""
    (tmp_path / "s.yaml").write_bytes(secret_yaml(namespace=namespace, name="db",
                                                  data={"password": "offline"}))

    sealed = seal("secret", "s.yaml", "--cert", "public.pem", kubeconfig=kubeconfig,
                  cwd=tmp_path)

    assert sealed.returncode == 0, sealed.stderr.decode()
    (tmp_path / "sealed.yaml").write_bytes(sealed.stdout)
    assert key_ids_of(load(tmp_path / "sealed.yaml")) == {ctl.public().key_id_hex}


def test_seal_cert_for_a_namespace_without_a_controller_fails_clearly(
    kubeconfig: Path, namespace: str, tmp_path: Path
) -> None:
    result = seal("cert", "--controller-namespace", namespace, kubeconfig=kubeconfig,
                  cwd=tmp_path)
    assert result.returncode == 7
    assert f"ConfigMap {namespace}/sealops-public-keys not found" in result.stderr.decode()
    assert result.stdout == b""


def test_seal_secret_without_cert_seals_to_the_cluster_and_the_secret_appears(
    kube: Any, kubeconfig: Path, namespace: str, start_controller: StartController,
    tmp_path: Path
) -> None:
    ctl = start_controller(watch=namespace)
    plain = secret_yaml(namespace=namespace, name="db",
                        data={"password": "from-the-cluster", "user": "admin"})

    result = seal("secret", "-w", "sealed.yaml", "--controller-namespace", ctl.key_namespace,
                  kubeconfig=kubeconfig, cwd=tmp_path, stdin=plain)

    assert result.returncode == 0, result.stderr.decode()
    assert f"sealing to key {ctl.public().key_id_hex}" in result.stderr.decode()
    sealed = load(tmp_path / "sealed.yaml")
    assert b"from-the-cluster" not in (tmp_path / "sealed.yaml").read_bytes()
    assert key_ids_of(sealed) == {ctl.public().key_id_hex}
    kube.create(SEALOPS, sealed, namespace=namespace)  # what `kubectl apply` would do
    secret = wait_for(lambda: kube.get(client.SECRETS, "db", namespace=namespace),
                      what="the Secret")
    assert secret_data(secret) == {"password": b"from-the-cluster", "user": b"admin"}


def test_seal_raw_without_cert_seals_a_value_the_controller_opens(
    kube: Any, kubeconfig: Path, namespace: str, start_controller: StartController,
    tmp_path: Path
) -> None:
    ctl = start_controller(watch=namespace)
    result = seal("raw", "--namespace", namespace, "--name", "api", "--item", "token",
                  "--controller-namespace", ctl.key_namespace, kubeconfig=kubeconfig,
                  cwd=tmp_path, stdin=b"raw-value")
    assert result.returncode == 0, result.stderr.decode()
    kube.create(SEALOPS, {
        "apiVersion": "sealops.dev/v1alpha1", "kind": "SealedSecret",
        "metadata": {"name": "api", "namespace": namespace},
        "spec": {"encryptedData": {"token": result.stdout.decode()}},
    }, namespace=namespace)
    secret = wait_for(lambda: kube.get(client.SECRETS, "api", namespace=namespace),
                      what="the Secret")
    assert base64.b64decode(secret["data"]["token"]) == b"raw-value"
