"""Vault failing (HOSTILE-INPUTS V34-V39): the last good Secret stays exactly as it was, Ready
turns False with a reason and the path, retries back off, and other objects keep syncing."""

from __future__ import annotations

import time
from typing import Any

from sealer.kube import client
from tests.harness.controlplane import free_port
from tests.harness.waiting import wait_for
from tests.integration.controller_fixtures import StartController
from tests.integration.vaultsync import helpers
from tests.vaultserver import ManualClock, VaultTestServer


def _synced(kube: Any, namespace: str, vault: VaultTestServer, token: str,
            start_controller: StartController, *, interval: str = "2s",
            **target: Any) -> dict[str, Any]:
    vault.kv2_put(path="shop/db", data={"password": "good"})
    helpers.token_store(kube, namespace, vault, token)
    start_controller(watch=namespace)
    spec = helpers.simple_spec(interval=interval)
    if target:
        spec["target"] = target
    helpers.vault_secret(kube, namespace, "db", spec)
    secret = helpers.wait_data(kube, namespace, "db", {"password": b"good"})
    helpers.wait_reason(kube, namespace, "db", "Synced")
    return secret


def _rv(kube: Any, namespace: str, name: str = "db") -> str:
    secret = helpers.get_secret(kube, namespace, name)
    assert secret is not None
    return str(secret["metadata"]["resourceVersion"])


def _reads_during(vault: VaultTestServer, path: str, seconds: float) -> int:
    before = helpers.reads(vault, path)
    time.sleep(seconds)  # counting requests over a window: there is no condition to await
    return helpers.reads(vault, path) - before


def test_a_sealed_vault_keeps_the_secret_backs_off_and_recovers(
    kube: Any, namespace: str, start_controller: StartController, vault: VaultTestServer,
    shop_token: str,
) -> None:
    rv = _synced(kube, namespace, vault, shop_token, start_controller)["metadata"][
        "resourceVersion"]
    vault.faults.sealed = True
    cond = helpers.wait_reason(kube, namespace, "db", "VaultSealed")
    assert cond["status"] == "False" and "shop/db" in cond["message"]
    assert _reads_during(vault, "shop/db", 6.0) <= 8, "a sealed Vault must not be hammered"
    assert _rv(kube, namespace) == rv
    warnings = [e for e in helpers.events_of(kube, namespace) if e["reason"] == "VaultSealed"]
    assert len(warnings) == 1 and warnings[0]["type"] == "Warning"

    vault.faults.sealed = False
    helpers.wait_reason(kube, namespace, "db", "Synced", timeout=40)
    assert _rv(kube, namespace) == rv


def test_permission_denied_keeps_the_secret_without_a_hot_retry_loop(
    kube: Any, namespace: str, start_controller: StartController, vault: VaultTestServer,
    shop_token: str,
) -> None:
    rv = _synced(kube, namespace, vault, shop_token, start_controller)["metadata"][
        "resourceVersion"]
    vault.set_policy("shop", {})
    cond = helpers.wait_reason(kube, namespace, "db", "PermissionDenied")
    assert "secret/shop/db" in cond["message"]
    assert _reads_during(vault, "shop/db", 6.0) <= 5, "one read per refresh interval at most"
    assert helpers.lookups(vault) <= 6, "a denial is checked with lookup-self, not re-logins"
    assert _rv(kube, namespace) == rv

    helpers.allow_shop(vault)
    helpers.wait_reason(kube, namespace, "db", "Synced")
    assert _rv(kube, namespace) == rv


def test_missing_deleted_and_destroyed_versions_are_errors_that_keep_the_secret(
    kube: Any, namespace: str, start_controller: StartController, vault: VaultTestServer,
    shop_token: str,
) -> None:
    rv = _synced(kube, namespace, vault, shop_token, start_controller)["metadata"][
        "resourceVersion"]
    helpers.vault_secret(kube, namespace, "missing", helpers.simple_spec("shop/nothing"))
    helpers.vault_secret(kube, namespace, "half", {
        "storeRef": {"name": "vault"}, "dataFrom": [{"path": "shop/db"}, {"path": "shop/nil"}]})
    helpers.wait_reason(kube, namespace, "missing", "NotFound")
    cond = helpers.wait_reason(kube, namespace, "half", "NotFound")
    assert "shop/nil" in cond["message"]
    assert helpers.get_secret(kube, namespace, "missing") is None
    assert helpers.get_secret(kube, namespace, "half") is None, "all or nothing"

    vault.kv2_delete_version(path="shop/db")
    helpers.wait_reason(kube, namespace, "db", "VersionDeleted")
    assert _rv(kube, namespace) == rv
    vault.kv2_undelete_version(path="shop/db", versions=[1])
    helpers.wait_reason(kube, namespace, "db", "Synced")
    vault.kv2_destroy_version(path="shop/db", versions=[1])
    helpers.wait_reason(kube, namespace, "db", "VersionDestroyed")
    assert helpers.data_of(kube, namespace, "db") == {"password": b"good"}
    assert _rv(kube, namespace) == rv


def test_deletion_policy_delete_removes_our_secret_once_vault_deletes_it(
    kube: Any, namespace: str, start_controller: StartController, vault: VaultTestServer,
    shop_token: str,
) -> None:
    _synced(kube, namespace, vault, shop_token, start_controller, deletionPolicy="Delete")
    vault.kv2_delete_version(path="shop/db")
    cond = helpers.wait_reason(kube, namespace, "db", "VersionDeleted")
    assert "deletionPolicy Delete" in cond["message"]
    wait_for(lambda: helpers.get_secret(kube, namespace, "db") is None, what="Secret deleted")
    status = kube.get(helpers.VAULT_SECRETS, "db", namespace=namespace)["status"]
    assert "dataHash" not in status and "versions" not in status
    assert any(e["reason"] == "SecretDeleted" for e in helpers.events_of(kube, namespace))

    vault.kv2_put(path="shop/db", data={"password": "back"})
    helpers.wait_data(kube, namespace, "db", {"password": b"back"})


def test_a_hung_or_unreachable_vault_does_not_stop_other_vault_secrets(
    kube: Any, namespace: str, start_controller: StartController, vault: VaultTestServer,
    shop_token: str,
) -> None:
    vault.set_policy("shop", {"secret/data/shop/*": ["read"], "secret/data/slow/*": ["read"]})
    vault.faults.delay(60.0, "secret/data/slow/*")
    helpers.token_store(kube, namespace, vault, shop_token)
    helpers.token_store(kube, namespace, vault, shop_token, name="hung")
    helpers.create_store(kube, namespace, "down", {
        "server": f"http://127.0.0.1:{free_port()}",
        "auth": {"token": {"secretRef": {"name": "vault-token", "key": "token"}}}})
    for i in range(12):
        vault.kv2_put(path=f"slow/s{i}", data={"v": "x"})
    for i in range(3):
        vault.kv2_put(path=f"shop/g{i}", data={"v": "one"})
    start_controller(watch=namespace)
    for i in range(12):
        helpers.vault_secret(kube, namespace, f"slow{i}", {
            "storeRef": {"name": "hung"}, "refreshInterval": "2s",
            "dataFrom": [{"path": f"slow/s{i}"}]})
    helpers.vault_secret(kube, namespace, "unreachable", {
        "storeRef": {"name": "down"}, "dataFrom": [{"path": "shop/g0"}]})
    for i in range(3):
        helpers.vault_secret(kube, namespace, f"good{i}", helpers.simple_spec(f"shop/g{i}"))

    for i in range(3):
        helpers.wait_data(kube, namespace, f"good{i}", {"v": b"one"}, timeout=20)
    cond = helpers.wait_reason(kube, namespace, "unreachable", "VaultUnavailable")
    assert "shop/g0" in cond["message"] or "lookup-self" in cond["message"]
    for i in range(3):
        vault.kv2_put(path=f"shop/g{i}", data={"v": "two"})
    for i in range(3):
        helpers.wait_data(kube, namespace, f"good{i}", {"v": b"two"}, timeout=10)
    helpers.wait_reason(kube, namespace, "slow0", "VaultUnavailable", timeout=40)
    assert helpers.get_secret(kube, namespace, "slow0") is None


def test_a_token_that_expires_mid_cycle_is_replaced_by_one_login(
    kube: Any, namespace: str, start_controller: StartController, vault: VaultTestServer,
    clock: ManualClock,
) -> None:
    helpers.allow_shop(vault)
    vault.add_approle(role_id="shop-role", secret_id="shop-secret-id", policies=["shop"],
                      token_ttl=3600)
    vault.kv2_put(path="shop/db", data={"password": "p"})
    vault.kv2_put(path="shop/api", data={"key": "k"})
    helpers.put_secret(kube, namespace, "approle", {"secret-id": "shop-secret-id"})
    helpers.create_store(kube, namespace, "vault", {
        "server": vault.url, "auth": {"appRole": {
            "roleId": "shop-role", "secretRef": {"name": "approle", "key": "secret-id"}}}})
    start_controller(watch=namespace)
    helpers.vault_secret(kube, namespace, "db", {
        "storeRef": {"name": "vault"}, "refreshInterval": "2s",
        "dataFrom": [{"path": "shop/db"}, {"path": "shop/api"}]})
    secret = helpers.wait_data(kube, namespace, "db", {"password": b"p", "key": b"k"})
    helpers.wait_reason(kube, namespace, "db", "Synced")
    assert helpers.logins(vault) == 1

    clock.advance(7200)  # the token's TTL passes on Vault's side only
    reads = helpers.reads(vault, "shop/api")
    wait_for(lambda: helpers.reads(vault, "shop/api") >= reads + 2, timeout=15,
             what="two refreshes after the expiry")
    assert helpers.logins(vault) == 2
    assert helpers.wait_reason(kube, namespace, "db", "Synced")["status"] == "True"
    assert _rv(kube, namespace) == secret["metadata"]["resourceVersion"]
    assert not [e for e in helpers.events_of(kube, namespace) if e["type"] == "Warning"]


def test_rate_limits_honour_retry_after_and_server_errors_back_off(
    kube: Any, namespace: str, start_controller: StartController, vault: VaultTestServer,
) -> None:
    vault.clock = time.time  # request times in wall-clock seconds
    helpers.allow_shop(vault)
    shop_token = vault.create_token(policies=["shop"], ttl=3600)
    vault.kv2_put(path="shop/db", data={"password": "good"})
    vault.faults.force_status("secret/data/shop/db", 429, retry_after=4, times=1)
    helpers.token_store(kube, namespace, vault, shop_token)
    start_controller(watch=namespace)
    helpers.vault_secret(kube, namespace, "db", helpers.simple_spec())
    cond = helpers.wait_reason(kube, namespace, "db", "RateLimited")
    assert "shop/db" in cond["message"]
    helpers.wait_data(kube, namespace, "db", {"password": b"good"}, timeout=20)
    times = [r.time for r in vault.requests if r.path == "/v1/secret/data/shop/db"]
    assert len(times) >= 2 and times[1] - times[0] >= 4.0 - 0.05, "Retry-After: 4 honoured"

    for status in (412, 500, 502):
        vault.faults.force_status("secret/data/shop/db", status, times=1)
    reads = helpers.reads(vault, "shop/db")
    helpers.wait_reason(kube, namespace, "db", "VaultUnavailable", timeout=20)
    helpers.wait_reason(kube, namespace, "db", "Synced", timeout=30)
    assert helpers.reads(vault, "shop/db") - reads < 3 + 6, "three failures, few refreshes"
    assert helpers.data_of(kube, namespace, "db") == {"password": b"good"}
    assert kube.get(client.SECRETS, "db", namespace=namespace) is not None
