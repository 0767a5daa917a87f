"""A changed Vault value rolls the opted-in Deployment using its Secret once; refreshes of an
unchanged value roll nothing."""

from __future__ import annotations

from typing import Any

from tests.harness.waiting import wait_for
from tests.integration.controller_fixtures import StartController
from tests.integration.rollout.conftest import (
    DEPLOYMENTS,
    deployment,
    events_for,
    stamp,
    wait_replicasets,
)
from tests.integration.vaultsync import helpers
from tests.vaultserver import VaultTestServer


def test_a_changed_vault_value_rolls_its_deployment_once_and_refreshes_roll_nothing(
        kube: Any, namespace: str, start_controller: StartController, vault: VaultTestServer,
        shop_token: str) -> None:
    vault.kv2_put(path="shop/db", data={"password": "one"})
    helpers.token_store(kube, namespace, vault, shop_token)
    ctl = start_controller(watch=namespace)
    helpers.vault_secret(kube, namespace, "db", helpers.simple_spec(interval="2s"))
    helpers.wait_data(kube, namespace, "db", {"password": b"one"})
    kube.create(DEPLOYMENTS, deployment("app", secret="db"), namespace=namespace)
    wait_replicasets(kube, namespace, "app", 1)

    vault.kv2_put(path="shop/db", data={"password": "two"})
    helpers.wait_data(kube, namespace, "db", {"password": b"two"}, timeout=60)
    wait_replicasets(kube, namespace, "app", 2)
    event = wait_for(lambda: events_for(kube, namespace, "app", "SecretChanged"),
                     what="the SecretChanged Event")[0]
    assert "Secret db changed (VaultSecret)" in event["message"]
    stamped = stamp(kube, namespace, "app")
    generation = kube.get(DEPLOYMENTS, "app", namespace=namespace)["metadata"]["generation"]

    reads = helpers.reads(vault, "shop/db")
    wait_for(lambda: helpers.reads(vault, "shop/db") >= reads + 3, timeout=60,
             what="three refreshes of an unchanged value")
    rolled = [line for line in ctl.log_text().splitlines() if "rolling Deployment" in line]
    assert kube.get(DEPLOYMENTS, "app", namespace=namespace)["metadata"]["generation"] == \
        generation, rolled
    assert stamp(kube, namespace, "app") == stamped
    wait_replicasets(kube, namespace, "app", 2)
