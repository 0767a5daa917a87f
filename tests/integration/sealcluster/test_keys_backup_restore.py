"""`sealops keys backup|restore`: the cluster's keys survive the loss of their namespace."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sealer.keystore import files
from sealer.kube import client
from tests.harness.waiting import wait_for
from tests.integration.controller_fixtures import SEALOPS, StartController, secret_data

from .helpers import KEY_SELECTOR, active_key_ids, key_ids_of, load, seal, sealops, secret_yaml

PASSPHRASE = "correct horse battery staple\n"


def test_a_backup_restored_into_a_new_namespace_lets_a_new_controller_open_old_secrets(
    kube: Any, kubeconfig: Path, namespace: str, start_controller: StartController,
    tmp_path: Path, make_namespace: Callable[[], str]
) -> None:
    first = start_controller(watch=namespace)
    old_keys = active_key_ids(kube, first.key_namespace)
    (tmp_path / "plain.yaml").write_bytes(
        secret_yaml(namespace=namespace, name="db", data={"password": "survives"}))
    sealed = seal("secret", "plain.yaml", "-w", "sealed.yaml", "--controller-namespace",
                  first.key_namespace, kubeconfig=kubeconfig, cwd=tmp_path)
    assert sealed.returncode == 0, sealed.stderr.decode()
    (tmp_path / "pw").write_text(PASSPHRASE)

    backup = sealops("keys", "backup", "--namespace", first.key_namespace, "--out",
                     "keys.backup", "--passphrase-file", "pw", "--strength", "interactive",
                     kubeconfig=kubeconfig, cwd=tmp_path)

    assert backup.returncode == 0, backup.stderr.decode()
    assert (tmp_path / "keys.backup").stat().st_mode & 0o777 == 0o600
    assert f"backed up {len(old_keys)} key(s)" in backup.stderr.decode()
    # Disaster: the key Secrets and their controller are gone.
    first.stop()
    for secret in kube.list(client.SECRETS, namespace=first.key_namespace,
                            label_selector=KEY_SELECTOR):
        kube.delete(client.SECRETS, secret["metadata"]["name"], namespace=first.key_namespace)
    assert not active_key_ids(kube, first.key_namespace)
    new_namespace = make_namespace()

    restore = sealops("keys", "restore", "keys.backup", "--namespace", new_namespace,
                      "--passphrase-file", "pw", kubeconfig=kubeconfig, cwd=tmp_path)

    assert restore.returncode == 0, restore.stderr.decode()
    assert active_key_ids(kube, new_namespace) == old_keys
    second = start_controller(watch=namespace, key_namespace=new_namespace)
    assert second.public().key_id_hex in old_keys  # no new generation was needed
    document = load(tmp_path / "sealed.yaml")
    assert key_ids_of(document) <= old_keys
    kube.create(SEALOPS, document, namespace=namespace)
    secret = wait_for(lambda: kube.get(client.SECRETS, "db", namespace=namespace),
                      timeout=60, what="the Secret opened with restored keys")
    assert secret_data(secret) == {"password": b"survives"}


def test_a_second_restore_skips_present_keys_and_never_overwrites(
    kube: Any, kubeconfig: Path, namespace: str, start_controller: StartController,
    tmp_path: Path
) -> None:
    ctl = start_controller(watch=namespace)
    (tmp_path / "pw").write_text(PASSPHRASE)
    backup = sealops("keys", "backup", "--namespace", ctl.key_namespace, "--out", "k.backup",
                     "--passphrase-file", "pw", "--strength", "interactive",
                     kubeconfig=kubeconfig, cwd=tmp_path)
    assert backup.returncode == 0, backup.stderr.decode()
    before = {s["metadata"]["name"]: s["metadata"]["resourceVersion"]
              for s in kube.list(client.SECRETS, namespace=ctl.key_namespace,
                                 label_selector=KEY_SELECTOR)}

    again = sealops("keys", "restore", "k.backup", "--namespace", ctl.key_namespace,
                    "--passphrase-file", "pw", kubeconfig=kubeconfig, cwd=tmp_path)

    assert again.returncode == 0, again.stderr.decode()
    assert f"restored 0 of {len(before)} key(s)" in again.stderr.decode()
    assert "already in namespace" in again.stderr.decode()
    after = {s["metadata"]["name"]: s["metadata"]["resourceVersion"]
             for s in kube.list(client.SECRETS, namespace=ctl.key_namespace,
                                label_selector=KEY_SELECTOR)}
    assert after == before


def test_a_backup_opens_off_cluster_with_seal_keys_restore(
    kube: Any, kubeconfig: Path, namespace: str, start_controller: StartController,
    tmp_path: Path
) -> None:
    ctl = start_controller(watch=namespace)
    (tmp_path / "pw").write_text(PASSPHRASE)
    made = sealops("keys", "backup", "--namespace", ctl.key_namespace, "--out", "k.backup",
                   "--passphrase-file", "pw", "--strength", "interactive",
                   kubeconfig=kubeconfig, cwd=tmp_path)
    assert made.returncode == 0, made.stderr.decode()

    opened = seal("keys", "restore", "k.backup", "--out", "restored", "--passphrase-file", "pw",
                  kubeconfig=kubeconfig, cwd=tmp_path)

    assert opened.returncode == 0, opened.stderr.decode()
    ring = files.read_private([tmp_path / "restored" / "private.pem"])
    assert {k.key_id_hex for k in ring} == active_key_ids(kube, ctl.key_namespace)


def test_a_wrong_passphrase_restores_nothing(
    kube: Any, kubeconfig: Path, namespace: str, start_controller: StartController,
    tmp_path: Path, make_namespace: Callable[[], str]
) -> None:
    ctl = start_controller(watch=namespace)
    (tmp_path / "pw").write_text(PASSPHRASE)
    (tmp_path / "wrong").write_text("not it\n")
    made = sealops("keys", "backup", "--namespace", ctl.key_namespace, "--out", "k.backup",
                   "--passphrase-file", "pw", "--strength", "interactive",
                   kubeconfig=kubeconfig, cwd=tmp_path)
    assert made.returncode == 0, made.stderr.decode()
    target = make_namespace()

    result = sealops("keys", "restore", "k.backup", "--namespace", target,
                     "--passphrase-file", "wrong", kubeconfig=kubeconfig, cwd=tmp_path)

    assert result.returncode == 4
    assert "wrong passphrase, or the file is damaged" in result.stderr.decode()
    assert not kube.list(client.SECRETS, namespace=target, label_selector=KEY_SELECTOR)


def test_backup_of_a_namespace_without_keys_fails_and_writes_nothing(
    kubeconfig: Path, namespace: str, tmp_path: Path
) -> None:
    (tmp_path / "pw").write_text(PASSPHRASE)
    result = sealops("keys", "backup", "--namespace", namespace, "--out", "k.backup",
                     "--passphrase-file", "pw", kubeconfig=kubeconfig, cwd=tmp_path)
    assert result.returncode == 4
    assert f"no key Secrets in namespace {namespace}" in result.stderr.decode()
    assert not (tmp_path / "k.backup").exists()


def test_bitnami_keys_are_backed_up_on_request_and_restored_in_bitnamis_layout(
    kube: Any, kubeconfig: Path, tmp_path: Path, make_namespace: Callable[[], str]
) -> None:
    kubeseal = Path(__file__).resolve().parents[2] / "vectors" / "kubeseal"
    source, target = make_namespace(), make_namespace()
    key, cert = (kubeseal / "pub2048.key").read_bytes(), (kubeseal / "pub2048.crt").read_bytes()
    kube.create(client.SECRETS, {
        "metadata": {"name": "sealed-secrets-keyabcde",
                     "labels": {"sealedsecrets.bitnami.com/sealed-secrets-key": "active"}},
        "type": "kubernetes.io/tls",
        "data": {"tls.key": base64.b64encode(key).decode(),
                 "tls.crt": base64.b64encode(cert).decode()}}, namespace=source)
    kube.create(client.SECRETS, {
        "metadata": {"name": "sealed-secrets-keyretired",
                     "labels": {"sealedsecrets.bitnami.com/sealed-secrets-key": "compromised"}},
        "type": "kubernetes.io/tls",
        "data": {"tls.key": base64.b64encode(key).decode(),
                 "tls.crt": base64.b64encode(cert).decode()}}, namespace=source)
    (tmp_path / "pw").write_text(PASSPHRASE)
    args = ("keys", "backup", "--namespace", source, "--out", "k.backup", "--passphrase-file",
            "pw", "--strength", "interactive")

    without = sealops(*args, kubeconfig=kubeconfig, cwd=tmp_path)
    made = sealops(*args, "--include-bitnami", kubeconfig=kubeconfig, cwd=tmp_path)
    restored = sealops("keys", "restore", "k.backup", "--namespace", target,
                       "--passphrase-file", "pw", kubeconfig=kubeconfig, cwd=tmp_path)

    assert without.returncode == 4  # only Bitnami keys here, and they were not asked for
    assert made.returncode == 0, made.stderr.decode()
    assert "backed up 1 key(s)" in made.stderr.decode()
    assert f"skipped Secret {source}/sealed-secrets-keyretired" in made.stderr.decode()
    assert restored.returncode == 0, restored.stderr.decode()
    (secret,) = kube.list(client.SECRETS, namespace=target,
                          label_selector="sealedsecrets.bitnami.com/sealed-secrets-key=active")
    assert secret["metadata"]["name"].startswith("sealed-secrets-key-")
    assert base64.b64decode(secret["data"]["tls.crt"]) == cert
