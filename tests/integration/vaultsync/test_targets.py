"""Where the data goes: Owner, Orphan and Merge targets, Secrets that are not ours, and the
force-sync annotation."""

from __future__ import annotations

import time
from typing import Any

from sealer.kube import client
from tests.harness.waiting import wait_for
from tests.integration.controller_fixtures import StartController
from tests.integration.vaultsync import helpers
from tests.vaultserver import VaultTestServer


def _setup(kube: Any, namespace: str, vault: VaultTestServer, token: str,
           start_controller: StartController) -> None:
    vault.kv2_put(path="shop/db", data={"password": "pw"})
    helpers.token_store(kube, namespace, vault, token)
    start_controller(watch=namespace)


def test_merge_adds_our_keys_to_an_existing_secret_and_leaves_the_rest(
    kube: Any, namespace: str, start_controller: StartController, vault: VaultTestServer,
    shop_token: str,
) -> None:
    _setup(kube, namespace, vault, shop_token, start_controller)
    helpers.put_secret(kube, namespace, "app", {"other": "kept"}, labels={"team": "a"})
    helpers.vault_secret(kube, namespace, "merge", helpers.simple_spec(
        target={"name": "app", "creationPolicy": "Merge"}))

    secret = helpers.wait_data(kube, namespace, "app", {"other": b"kept", "password": b"pw"})
    assert secret["metadata"]["labels"] == {"team": "a"}
    assert not secret["metadata"].get("ownerReferences")

    helpers.vault_secret(kube, namespace, "later", helpers.simple_spec(
        target={"name": "not-yet", "creationPolicy": "Merge"}))
    helpers.wait_reason(kube, namespace, "later", "TargetNotFound")
    assert helpers.get_secret(kube, namespace, "not-yet") is None
    helpers.put_secret(kube, namespace, "not-yet", {"x": "y"})
    helpers.wait_data(kube, namespace, "not-yet", {"x": b"y", "password": b"pw"}, timeout=40)


def test_a_secret_that_is_not_ours_is_never_overwritten(
    kube: Any, namespace: str, start_controller: StartController, vault: VaultTestServer,
    shop_token: str,
) -> None:
    _setup(kube, namespace, vault, shop_token, start_controller)
    foreign = helpers.put_secret(kube, namespace, "taken", {"password": "theirs"})
    helpers.vault_secret(kube, namespace, "taken", helpers.simple_spec())
    cond = helpers.wait_reason(kube, namespace, "taken", "UpdateRefused")
    assert "taken" in cond["message"]
    secret = helpers.get_secret(kube, namespace, "taken")
    assert secret is not None
    assert secret["metadata"]["resourceVersion"] == foreign["metadata"]["resourceVersion"]


def test_an_orphan_target_carries_our_label_but_no_owner_reference(
    kube: Any, namespace: str, start_controller: StartController, vault: VaultTestServer,
    shop_token: str,
) -> None:
    _setup(kube, namespace, vault, shop_token, start_controller)
    helpers.vault_secret(kube, namespace, "orphan", helpers.simple_spec(
        target={"name": "kept", "creationPolicy": "Orphan"}))
    secret = helpers.wait_data(kube, namespace, "kept", {"password": b"pw"})
    assert not secret["metadata"].get("ownerReferences")
    assert secret["metadata"]["labels"]["sealops.dev/vault-secret"] == "orphan"

    secret["data"]["password"] = "ZWRpdGVk"  # "edited"
    kube.replace(client.SECRETS, secret, namespace=namespace)
    helpers.wait_data(kube, namespace, "kept", {"password": b"pw"}, timeout=15)


def test_a_new_force_sync_value_refreshes_at_once(
    kube: Any, namespace: str, start_controller: StartController, vault: VaultTestServer,
    shop_token: str,
) -> None:
    _setup(kube, namespace, vault, shop_token, start_controller)
    helpers.vault_secret(kube, namespace, "db", helpers.simple_spec(interval="1h"))
    helpers.wait_data(kube, namespace, "db", {"password": b"pw"})
    helpers.wait_reason(kube, namespace, "db", "Synced")
    vault.kv2_put(path="shop/db", data={"password": "rotated"})

    def annotate(value: str) -> None:
        kube.patch(helpers.VAULT_SECRETS, "db",
                   {"metadata": {"annotations": {"sealops.dev/force-sync": value}}},
                   namespace=namespace)

    annotate("1")
    helpers.wait_data(kube, namespace, "db", {"password": b"rotated"}, timeout=10)
    helpers.wait_reason(kube, namespace, "db", "Synced")
    before = kube.get(helpers.VAULT_SECRETS, "db", namespace=namespace)["status"]["refreshTime"]
    reads = helpers.reads(vault, "shop/db")
    time.sleep(1.1)  # refreshTime has one-second resolution
    annotate("2")
    wait_for(lambda: helpers.reads(vault, "shop/db") == reads + 1, timeout=10,
             what="a forced read with unchanged data")
    wait_for(lambda: kube.get(helpers.VAULT_SECRETS, "db", namespace=namespace)["status"][
        "refreshTime"] != before, timeout=10, what="refreshTime to move")
