"""VaultSecrets become Secrets: the minimal pair, KV v1/v2, properties, pinned versions,
refreshes that write nothing when nothing changed, and changes that arrive within an interval."""

from __future__ import annotations

import json
from typing import Any

from sealer.kube import client
from tests.harness.waiting import wait_for
from tests.integration.controller_fixtures import StartController
from tests.integration.vaultsync import helpers
from tests.vaultserver import VaultTestServer


def test_the_minimal_pair_syncs_exactly_as_written(
    kube: Any, namespace: str, start_controller: StartController, vault: VaultTestServer,
    shop_token: str,
) -> None:
    vault.kv2_put(path="shop/api", data={"key": "api-key-1", "other": "not-copied"})
    vault.kv2_put(path="shop/db", data={"user": "shop", "password": "pw-1"})
    helpers.put_secret(kube, namespace, "vault-token", {"token": shop_token})
    port = vault.url.rsplit(":", 1)[1]
    helpers.create_store(kube, namespace, "vault", {
        "server": f"http://127.0.0.1:{port}", "kv": {"mount": "secret", "version": 2},
        "auth": {"token": {"secretRef": {"name": "vault-token", "key": "token"}}}})
    ctl = start_controller(watch=namespace)
    owner = helpers.vault_secret(kube, namespace, "api", {
        "storeRef": {"name": "vault"}, "refreshInterval": "2s", "target": {"name": "api-creds"},
        "data": [{"secretKey": "apiKey", "remoteRef": {"path": "shop/api", "property": "key"}}],
        "dataFrom": [{"path": "shop/db"}]})

    secret = helpers.wait_data(kube, namespace, "api-creds", {
        "apiKey": b"api-key-1", "user": b"shop", "password": b"pw-1"})
    ref = secret["metadata"]["ownerReferences"][0]
    assert (ref["kind"], ref["uid"], ref["controller"]) == ("VaultSecret",
                                                             owner["metadata"]["uid"], True)
    assert secret["metadata"]["labels"]["sealops.dev/vault-secret"] == "api"
    cond = helpers.wait_reason(kube, namespace, "api", "Synced")
    assert cond["status"] == "True"
    status = kube.get(helpers.VAULT_SECRETS, "api", namespace=namespace)["status"]
    assert sorted((v["path"], v["version"]) for v in status["versions"]) == [
        ("shop/api", 1), ("shop/db", 1)]
    assert len(status["dataHash"]) == 64 and status["refreshTime"]
    store = helpers.wait_reason(kube, namespace, "vault", "LoggedIn", res=helpers.VAULT_STORES)
    assert store["status"] == "True"
    for res, name in ((helpers.VAULT_SECRETS, "api"), (helpers.VAULT_STORES, "vault"),
                      (client.SECRETS, "api-creds")):
        meta = kube.get(res, name, namespace=namespace)["metadata"]
        assert not [a for a in meta.get("annotations") or {} if "kopf" in a], res.kind
        assert not meta.get("finalizers"), res.kind
    hash_key = kube.get(client.SECRETS, "sealops-vault-hash-key", namespace=ctl.key_namespace)
    assert hash_key is not None and hash_key["immutable"] is True


def test_unchanged_data_is_never_rewritten_and_a_change_arrives_within_one_interval(
    kube: Any, namespace: str, start_controller: StartController, vault: VaultTestServer,
    shop_token: str,
) -> None:
    vault.kv2_put(path="shop/db", data={"password": "one"})
    helpers.token_store(kube, namespace, vault, shop_token)
    start_controller(watch=namespace)
    helpers.vault_secret(kube, namespace, "db", helpers.simple_spec(interval="2s"))
    first = helpers.wait_data(kube, namespace, "db", {"password": b"one"})
    helpers.wait_reason(kube, namespace, "db", "Synced")
    owner_rv = kube.get(helpers.VAULT_SECRETS, "db", namespace=namespace)["metadata"][
        "resourceVersion"]
    reads_before = helpers.reads(vault, "shop/db")

    wait_for(lambda: helpers.reads(vault, "shop/db") >= reads_before + 3, timeout=15,
             what="three refreshes")
    secret = helpers.get_secret(kube, namespace, "db")
    assert secret is not None
    assert secret["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]
    assert kube.get(helpers.VAULT_SECRETS, "db", namespace=namespace)["metadata"][
        "resourceVersion"] == owner_rv, "an unchanged refresh must not write status either"

    vault.kv2_put(path="shop/db", data={"password": "two"})
    # Picked up by the next refreshes (interval 1.1 s), long before any default interval.
    helpers.wait_data(kube, namespace, "db", {"password": b"two"}, timeout=10)
    status = kube.get(helpers.VAULT_SECRETS, "db", namespace=namespace)["status"]
    assert status["versions"] == [{"path": "shop/db", "version": 2}]


def test_kv1_whole_secrets_and_properties_are_synced(
    kube: Any, namespace: str, start_controller: StartController, vault: VaultTestServer,
    shop_token: str,
) -> None:
    vault.kv1_put(mount="kv", path="shop/config", data={"url": "https://x", "mode": "fast"})
    helpers.token_store(kube, namespace, vault, shop_token, name="vault",
                        kv={"mount": "kv", "version": 1})
    start_controller(watch=namespace)
    helpers.vault_secret(kube, namespace, "cfg", {
        "storeRef": {"name": "vault"}, "refreshInterval": "1h",
        "data": [{"secretKey": "url", "remoteRef": {"path": "shop/config", "property": "url"}},
                 {"secretKey": "all.json", "remoteRef": {"path": "shop/config"}}]})

    secret = helpers.wait_data(kube, namespace, "cfg", {
        "url": b"https://x",
        "all.json": json.dumps({"mode": "fast", "url": "https://x"}, sort_keys=True,
                               separators=(",", ":")).encode()})
    assert secret["type"] == "Opaque"
    status = helpers.wait_reason(kube, namespace, "cfg", "Synced")
    assert status["status"] == "True"
    versions = kube.get(helpers.VAULT_SECRETS, "cfg", namespace=namespace)["status"]["versions"]
    assert versions == [{"path": "shop/config"}]


def test_a_pinned_version_keeps_its_value_after_vault_moves_on(
    kube: Any, namespace: str, start_controller: StartController, vault: VaultTestServer,
    shop_token: str,
) -> None:
    vault.kv2_put(path="shop/db", data={"password": "v1"})
    vault.kv2_put(path="shop/db", data={"password": "v2"})
    helpers.token_store(kube, namespace, vault, shop_token)
    start_controller(watch=namespace)
    helpers.vault_secret(kube, namespace, "pinned", {
        "storeRef": {"name": "vault"}, "refreshInterval": "2s",
        "target": {"template": {"type": "kubernetes.io/basic-auth",
                                "metadata": {"labels": {"app": "shop"},
                                             "annotations": {"team": "a"}}}},
        "data": [{"secretKey": "password",
                  "remoteRef": {"path": "shop/db", "property": "password", "version": 1}},
                 {"secretKey": "latest",
                  "remoteRef": {"path": "shop/db", "property": "password"}}]})

    secret = helpers.wait_data(kube, namespace, "pinned", {"password": b"v1", "latest": b"v2"})
    assert secret["type"] == "kubernetes.io/basic-auth"
    assert secret["metadata"]["labels"]["app"] == "shop"
    assert secret["metadata"]["annotations"]["team"] == "a"
    helpers.wait_reason(kube, namespace, "pinned", "Synced")
    versions = kube.get(helpers.VAULT_SECRETS, "pinned", namespace=namespace)["status"][
        "versions"]
    assert sorted(v["version"] for v in versions) == [1, 2]

    vault.kv2_put(path="shop/db", data={"password": "v3"})
    helpers.wait_data(kube, namespace, "pinned", {"password": b"v1", "latest": b"v3"})


def test_a_secret_edited_or_deleted_by_hand_is_repaired(
    kube: Any, namespace: str, start_controller: StartController, vault: VaultTestServer,
    shop_token: str,
) -> None:
    vault.kv2_put(path="shop/db", data={"password": "good"})
    helpers.token_store(kube, namespace, vault, shop_token)
    start_controller(watch=namespace)
    helpers.vault_secret(kube, namespace, "db", helpers.simple_spec(interval="1h"))
    secret = helpers.wait_data(kube, namespace, "db", {"password": b"good"})

    secret["data"]["password"] = "YmFk"  # "bad"
    kube.replace(client.SECRETS, secret, namespace=namespace)
    helpers.wait_data(kube, namespace, "db", {"password": b"good"}, timeout=15)

    kube.delete(client.SECRETS, "db", namespace=namespace)
    helpers.wait_data(kube, namespace, "db", {"password": b"good"}, timeout=15)
