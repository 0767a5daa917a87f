"""`seal verify` and `seal reencrypt` (without --key) ask the real controller over HTTP."""

from __future__ import annotations

import base64
import os
import subprocess
from pathlib import Path
from typing import Any

from sealer.kube import client
from sealer.manifests import safeyaml
from tests.harness.waiting import wait_for
from tests.integration.controller_fixtures import SEALOPS, StartController, secret_data

from .helpers import SEAL, active_key_ids, key_ids_of, load, seal, secret_yaml


def _seal_file(tmp_path: Path, kubeconfig: Path, *, key_namespace: str, namespace: str,
               name: str, data: dict[str, str], out: str) -> Path:
    (tmp_path / f"{name}.plain.yaml").write_bytes(
        secret_yaml(namespace=namespace, name=name, data=data))
    result = seal("secret", f"{name}.plain.yaml", "-w", out, "--controller-namespace",
                  key_namespace, kubeconfig=kubeconfig, cwd=tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    return tmp_path / out


def _tampered(doc: dict[str, Any], item: str) -> dict[str, Any]:
    blob = bytearray(base64.b64decode(doc["spec"]["encryptedData"][item]))
    blob[-1] ^= 1
    copy = safeyaml.load_one(safeyaml.dump([doc]).encode(), source="copy")
    copy["spec"]["encryptedData"][item] = base64.b64encode(bytes(blob)).decode()
    return copy


def test_seal_verify_says_yes_for_an_openable_file_and_no_for_a_tampered_copy(
    kubeconfig: Path, namespace: str, start_controller: StartController, tmp_path: Path
) -> None:
    ctl = start_controller(watch=namespace)
    path = _seal_file(tmp_path, kubeconfig, key_namespace=ctl.key_namespace,
                      namespace=namespace, name="db", data={"password": "p", "user": "u"},
                      out="sealed.yaml")
    (tmp_path / "tampered.yaml").write_text(safeyaml.dump([_tampered(load(path), "user")]))

    good = seal("verify", "sealed.yaml", "--controller-url", ctl.url, kubeconfig=kubeconfig,
                cwd=tmp_path)
    bad = seal("verify", "tampered.yaml", "--controller-url", ctl.url, kubeconfig=kubeconfig,
               cwd=tmp_path)

    assert (good.returncode, good.stdout) == (0, f"{namespace}/db: ok\n".encode())
    assert (bad.returncode, bad.stdout) == (1, f"{namespace}/db: cannot be opened\n".encode())


def test_seal_verify_reads_the_url_from_the_environment_and_checks_every_document(
    kubeconfig: Path, namespace: str, start_controller: StartController, tmp_path: Path
) -> None:
    ctl = start_controller(watch=namespace)
    path = _seal_file(tmp_path, kubeconfig, key_namespace=ctl.key_namespace,
                      namespace=namespace, name="db", data={"password": "p"}, out="a.yaml")
    doc = load(path)
    moved = safeyaml.load_one(safeyaml.dump([doc]).encode(), source="copy")
    moved["metadata"]["name"] = "other"  # strict scope: the copy must not open elsewhere
    stream = safeyaml.dump([doc, moved]).encode()

    env = {**os.environ, "SEAL_CONTROLLER_URL": ctl.url, "HOME": str(tmp_path)}
    result = subprocess.run([*SEAL, "verify", "-"], input=stream, capture_output=True,
                            env=env, cwd=tmp_path, timeout=60, check=False)

    assert result.returncode == 1, result.stderr.decode()
    assert result.stdout.decode().splitlines() == [f"{namespace}/db: ok",
                                                   f"{namespace}/other: cannot be opened"]


def test_seal_verify_against_an_unreachable_controller_is_a_cluster_error(
    kubeconfig: Path, namespace: str, tmp_path: Path
) -> None:
    (tmp_path / "s.yaml").write_text(safeyaml.dump([{
        "apiVersion": "sealops.dev/v1alpha1", "kind": "SealedSecret",
        "metadata": {"name": "db", "namespace": namespace},
        "spec": {"encryptedData": {"k": "AAAA"}}}]))
    result = seal("verify", "s.yaml", "--controller-url", "http://127.0.0.1:9",
                  kubeconfig=kubeconfig, cwd=tmp_path)
    assert result.returncode == 7
    assert "cannot reach the controller at http://127.0.0.1:9" in result.stderr.decode()


def test_seal_reencrypt_without_key_moves_a_file_to_the_renewed_key_keeping_its_scope_s14(
    kube: Any, kubeconfig: Path, namespace: str, start_controller: StartController,
    tmp_path: Path
) -> None:
    ctl = start_controller(watch=namespace, args=("--key-renewal", "3s"))
    path = _seal_file(tmp_path, kubeconfig, key_namespace=ctl.key_namespace,
                      namespace=namespace, name="db", data={"password": "renewed"},
                      out="sealed.yaml")
    (old_key,) = key_ids_of(load(path))
    # The file lies about its scope; the value inside is bound to namespace/db (strict).
    lying = load(path)
    lying["metadata"]["annotations"] = {"sealedsecrets.bitnami.com/cluster-wide": "true"}
    path.write_text("# kept: a comment before the document\n" + safeyaml.dump([lying]))
    wait_for(lambda: active_key_ids(kube, ctl.key_namespace) - {old_key}, timeout=60,
             what="a second key generation")
    # ...and the controller has loaded it (it reloads right after creating the Secret).
    wait_for(lambda: ctl.public().key_id_hex != old_key, timeout=30,
             what="the controller to seal with the new generation")

    result = seal("reencrypt", "sealed.yaml", "--controller-url", ctl.url,
                  kubeconfig=kubeconfig, cwd=tmp_path)

    assert result.returncode == 0, result.stderr.decode()
    assert "re-sealed 1 SealedSecret(s) in 1 file(s)" in result.stderr.decode()
    text = path.read_text()
    assert text.startswith("# kept: a comment before the document\n")
    rotated = load(path)
    (new_key,) = key_ids_of(rotated)
    assert new_key != old_key
    assert new_key in active_key_ids(kube, ctl.key_namespace)
    # The proven (strict) scope wins over the annotation that claimed cluster-wide.
    assert "sealedsecrets.bitnami.com/cluster-wide" not in (
        rotated["metadata"].get("annotations") or {})
    elsewhere = safeyaml.load_one(safeyaml.dump([rotated]).encode(), source="copy")
    elsewhere["metadata"]["name"] = "stolen"
    (tmp_path / "elsewhere.yaml").write_text(safeyaml.dump([elsewhere]))
    stolen = seal("verify", "elsewhere.yaml", "--controller-url", ctl.url,
                  kubeconfig=kubeconfig, cwd=tmp_path)
    assert stolen.returncode == 1
    kube.create(SEALOPS, rotated, namespace=namespace)
    secret = wait_for(lambda: kube.get(client.SECRETS, "db", namespace=namespace),
                      what="the Secret from the re-sealed file")
    assert secret_data(secret) == {"password": b"renewed"}


def test_seal_reencrypt_without_key_writes_nothing_when_one_file_cannot_be_opened(
    kubeconfig: Path, namespace: str, start_controller: StartController, tmp_path: Path
) -> None:
    ctl = start_controller(watch=namespace)
    good = _seal_file(tmp_path, kubeconfig, key_namespace=ctl.key_namespace,
                      namespace=namespace, name="a", data={"k": "v"}, out="a.yaml")
    bad = tmp_path / "b.yaml"
    bad.write_text(safeyaml.dump([_tampered(load(good), "k")]))
    before = {p.name: p.read_bytes() for p in (good, bad)}

    result = seal("reencrypt", "a.yaml", "b.yaml", "--controller-url", ctl.url,
                  kubeconfig=kubeconfig, cwd=tmp_path)

    assert result.returncode == 5, result.stderr.decode()
    assert "b.yaml: failed; no file was written" in result.stderr.decode()
    assert "cannot be opened by the controller's keys" in result.stderr.decode()
    assert {p.name: p.read_bytes() for p in (good, bad)} == before


def test_seal_reencrypt_refuses_local_options_without_key(
    kubeconfig: Path, tmp_path: Path
) -> None:
    (tmp_path / "a.yaml").write_text("kind: ConfigMap\n")
    result = seal("reencrypt", "a.yaml", "--suite", "x25519", "--controller-url",
                  "http://127.0.0.1:9", kubeconfig=kubeconfig, cwd=tmp_path)
    assert result.returncode == 2
    assert "--suite need --key" in result.stderr.decode()
