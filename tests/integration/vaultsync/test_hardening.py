"""Issue 10 on Vault sync: the reserved-target guard, a Merge into a store's own token Secret,
two VaultSecrets writing one Secret, and a tenant relabelling its Namespace into a
ClusterVaultStore."""

from __future__ import annotations

from typing import Any

from sealer.kube import client
from tests.integration.controller_fixtures import StartController
from tests.integration.vaultsync import helpers
from tests.vaultserver import VaultTestServer


def _setup(kube: Any, namespace: str, vault: VaultTestServer, token: str,
           start_controller: StartController, **kwargs: Any) -> None:
    vault.kv2_put(path="shop/db", data={"password": "pw", "token": "attacker-chosen"})
    helpers.token_store(kube, namespace, vault, token)
    start_controller(watch=namespace, **kwargs)


def test_vault_secrets_cannot_produce_reserved_targets(
    kube: Any, namespace: str, start_controller: StartController, vault: VaultTestServer,
    shop_token: str,
) -> None:
    _setup(kube, namespace, vault, shop_token, start_controller, key_namespace=namespace)
    helpers.vault_secret(kube, namespace, "hash", helpers.simple_spec(
        target={"name": "sealops-vault-hash-key"}))
    helpers.vault_secret(kube, namespace, "key", helpers.simple_spec(
        target={"name": "sealops-key-0011223344556677"}))
    helpers.vault_secret(kube, namespace, "labelled", helpers.simple_spec(
        target={"template": {"metadata": {"labels": {"sealops.dev/sealing-key": "active"}}}}))
    for name in ("hash", "key", "labelled"):
        helpers.wait_reason(kube, namespace, name, "ReservedTarget")
    assert helpers.get_secret(kube, namespace, "sealops-key-0011223344556677") is None
    assert helpers.get_secret(kube, namespace, "labelled") is None
    hash_key = helpers.get_secret(kube, namespace, "sealops-vault-hash-key")
    assert hash_key is None or not hash_key["metadata"].get("ownerReferences")


def test_a_merge_into_its_stores_token_secret_is_refused(
    kube: Any, namespace: str, start_controller: StartController, vault: VaultTestServer,
    shop_token: str,
) -> None:
    _setup(kube, namespace, vault, shop_token, start_controller)
    before = helpers.get_secret(kube, namespace, "vault-token")
    helpers.vault_secret(kube, namespace, "overwrite", helpers.simple_spec(
        target={"name": "vault-token", "creationPolicy": "Merge"}))
    helpers.wait_reason(kube, namespace, "overwrite", "StoreSecret")
    after = helpers.get_secret(kube, namespace, "vault-token")
    assert after is not None and before is not None
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]


def test_a_second_vault_secret_writing_one_secret_is_refused_and_the_first_keeps_working(
    kube: Any, namespace: str, start_controller: StartController, vault: VaultTestServer,
    shop_token: str,
) -> None:
    _setup(kube, namespace, vault, shop_token, start_controller)
    helpers.put_secret(kube, namespace, "shared", {"own": "x"})
    helpers.vault_secret(kube, namespace, "first", helpers.simple_spec(
        target={"name": "shared", "creationPolicy": "Merge"}))
    helpers.wait_reason(kube, namespace, "first", "Synced")
    helpers.vault_secret(kube, namespace, "second", helpers.simple_spec(
        target={"name": "shared", "creationPolicy": "Merge"}))
    cond = helpers.wait_reason(kube, namespace, "second", "OwnedByAnother")
    assert "first" in cond["message"]
    helpers.vault_secret(kube, namespace, "owner", helpers.simple_spec())
    helpers.wait_reason(kube, namespace, "owner", "Synced")
    helpers.vault_secret(kube, namespace, "intruder", helpers.simple_spec(
        target={"name": "owner", "creationPolicy": "Merge"}))
    helpers.wait_reason(kube, namespace, "intruder", "OwnedByAnother")

    vault.kv2_put(path="shop/db", data={"password": "rotated", "token": "t"})
    helpers.wait_data(kube, namespace, "shared",
                      {"own": b"x", "password": b"rotated", "token": b"t"}, timeout=40)
    helpers.wait_reason(kube, namespace, "first", "Synced")


def test_a_tenant_relabelling_its_namespace_is_not_admitted_by_a_cluster_store(
    kube: Any, namespace: str, other_namespace: str, start_controller: StartController,
    vault: VaultTestServer, cluster_store_name: str,
) -> None:
    vault.set_policy("tenants", {"secret/data/tenants/*": ["read"]})
    helpers.put_secret(kube, namespace, "admin-token",
                       {"token": vault.create_token(policies=["tenants"], ttl=3600)})
    for ns in (namespace, other_namespace):
        vault.kv2_put(path=f"tenants/{ns}/db", data={"owner": ns})
    kube.create(helpers.CLUSTER_VAULT_STORES, {
        "apiVersion": helpers.GROUP_VERSION, "kind": "ClusterVaultStore",
        "metadata": {"name": cluster_store_name},
        "spec": {"server": vault.url, "pathPrefix": "tenants/{namespace}",
                 "namespaceSelector": {"matchExpressions": [
                     {"key": "kubernetes.io/metadata.name", "operator": "In",
                      "values": [namespace]}]},
                 "auth": {"token": {"secretRef": {"name": "admin-token", "key": "token",
                                                  "namespace": namespace}}}}})
    start_controller(watch=namespace, args=("--watch-namespace", other_namespace))
    ref = {"name": cluster_store_name, "kind": "ClusterVaultStore"}
    # A 1.20 API server lets the tenant forge the name label on its own Namespace.
    kube.patch(client.NAMESPACES, other_namespace, {"metadata": {"labels": {
        "kubernetes.io/metadata.name": namespace, "vault": "yes"}}})
    helpers.vault_secret(kube, namespace, "mine", {
        "storeRef": ref, "dataFrom": [{"path": f"tenants/{namespace}/db"}]})
    helpers.vault_secret(kube, other_namespace, "guest", {
        "storeRef": ref, "refreshInterval": "2s",
        "dataFrom": [{"path": f"tenants/{other_namespace}/db"}]})
    helpers.wait_data(kube, namespace, "mine", {"owner": namespace.encode()})
    helpers.wait_reason(kube, other_namespace, "guest", "StoreNotAllowed")

    # An admin selecting by a label the tenant can write is refused outright.
    kube.patch(helpers.CLUSTER_VAULT_STORES, cluster_store_name,
               {"spec": {"namespaceSelector": {"matchLabels": {"vault": "yes"}}}})
    helpers.wait_reason(kube, other_namespace, "guest", "InvalidStore")
    assert helpers.get_secret(kube, other_namespace, "guest") is None
