"""A VaultSecret honours the one reconcile request (`sealops reconcile vaultsecret`), and the
older `sealops.dev/force-sync` annotation still works: both sync now, whatever the interval."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from controller import cli, status
from tests.integration.controller_fixtures import StartController
from tests.integration.vaultsync import helpers
from tests.vaultserver import VaultTestServer


def test_reconcile_takes_new_vault_data_now_and_the_old_annotation_still_works(
    kube: Any, namespace: str, kubeconfig: Path, start_controller: StartController,
    vault: VaultTestServer, shop_token: str, capsys: pytest.CaptureFixture[str],
) -> None:
    vault.kv2_put(path="shop/db", data={"password": "canary-vault-reconcile-1"})
    helpers.token_store(kube, namespace, vault, shop_token)
    ctl = start_controller(watch=namespace)
    helpers.vault_secret(kube, namespace, "db", helpers.simple_spec(interval="1h"))
    helpers.wait_data(kube, namespace, "db", {"password": b"canary-vault-reconcile-1"})
    vault.kv2_put(path="shop/db", data={"password": "canary-vault-reconcile-2"})

    code = cli.main(["--kubeconfig", str(kubeconfig), "reconcile", "vaultsecret", "db",
                     "-n", namespace, "--with-source", "--timeout", "2m"])
    out, err = capsys.readouterr()
    assert (code, err) == (0, ""), err
    assert helpers.data_of(kube, namespace, "db") == {"password": b"canary-vault-reconcile-2"}
    assert "Vault path shop/db version 2" in out and "✔ vaultsecret/db reconciled" in out
    obj = kube.get(helpers.VAULT_SECRETS, "db", namespace=namespace)
    assert obj["status"][status.LAST_HANDLED] == \
        obj["metadata"]["annotations"][status.RECONCILE_REQUESTED_AT]

    vault.kv2_put(path="shop/db", data={"password": "canary-vault-reconcile-3"})
    kube.patch(helpers.VAULT_SECRETS, "db", {"metadata": {"annotations": {
        "sealops.dev/force-sync": "again"}}}, namespace=namespace)
    helpers.wait_data(kube, namespace, "db", {"password": b"canary-vault-reconcile-3"})
    assert "canary-vault-reconcile" not in out + ctl.log_text()
