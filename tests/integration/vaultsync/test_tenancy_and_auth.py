"""Tenant safety (HOSTILE-INPUTS V41) and the auth methods: a namespace cannot use another
namespace's store, a ClusterVaultStore admits only the namespaces it names or selects, paths stay
under the prefix, and kubernetes auth logs in with a TokenRequest token checked by TokenReview."""

from __future__ import annotations

from typing import Any

from sealer.kube import client
from tests.harness.waiting import wait_for
from tests.integration.controller_fixtures import StartController
from tests.integration.vaultsync import helpers
from tests.vaultserver import VaultTestServer


def test_a_namespace_cannot_use_another_namespaces_store_or_leave_the_prefix(
    kube: Any, namespace: str, other_namespace: str, start_controller: StartController,
    vault: VaultTestServer, shop_token: str,
) -> None:
    vault.kv2_put(path="shop/db", data={"password": "shop-only"})
    helpers.token_store(kube, namespace, vault, shop_token, pathPrefix="shop")
    start_controller(watch=namespace, args=("--watch-namespace", other_namespace))
    helpers.vault_secret(kube, other_namespace, "steal", helpers.simple_spec())
    helpers.vault_secret(kube, namespace, "outside", helpers.simple_spec("shop-evil/db"))
    helpers.vault_secret(kube, namespace, "dotdot", helpers.simple_spec("shop/../admin/db"))
    helpers.vault_secret(kube, namespace, "inside", helpers.simple_spec())

    helpers.wait_data(kube, namespace, "inside", {"password": b"shop-only"})
    helpers.wait_reason(kube, other_namespace, "steal", "StoreNotFound")
    helpers.wait_reason(kube, namespace, "outside", "PathNotAllowed")
    helpers.wait_reason(kube, namespace, "dotdot", "PathNotAllowed")
    assert helpers.get_secret(kube, other_namespace, "steal") is None
    assert not [r for r in vault.requests if "evil" in r.path or "admin" in r.path]


def test_a_cluster_store_admits_only_the_namespaces_it_names_or_selects(
    kube: Any, namespace: str, other_namespace: str, start_controller: StartController,
    vault: VaultTestServer, shop_token: str, cluster_store_name: str,
) -> None:
    vault.set_policy("tenants", {"secret/data/tenants/*": ["read"]})
    token = vault.create_token(policies=["tenants"], ttl=3600)
    helpers.put_secret(kube, namespace, "admin-token", {"token": token})
    for ns in (namespace, other_namespace):
        vault.kv2_put(path=f"tenants/{ns}/db", data={"owner": ns})
    kube.create(helpers.CLUSTER_VAULT_STORES, {
        "apiVersion": helpers.GROUP_VERSION, "kind": "ClusterVaultStore",
        "metadata": {"name": cluster_store_name},
        "spec": {"server": vault.url, "pathPrefix": "tenants/{namespace}",
                 "allowedNamespaces": [namespace],
                 "auth": {"token": {"secretRef": {"name": "admin-token", "key": "token",
                                                  "namespace": namespace}}}}})
    start_controller(watch=namespace, args=("--watch-namespace", other_namespace))
    ref = {"name": cluster_store_name, "kind": "ClusterVaultStore"}
    helpers.vault_secret(kube, namespace, "mine", {
        "storeRef": ref, "refreshInterval": "2s",
        "dataFrom": [{"path": f"tenants/{namespace}/db"}]})
    helpers.vault_secret(kube, namespace, "theirs", {
        "storeRef": ref, "dataFrom": [{"path": f"tenants/{other_namespace}/db"}]})
    helpers.vault_secret(kube, other_namespace, "guest", {
        "storeRef": ref, "refreshInterval": "2s",
        "dataFrom": [{"path": f"tenants/{other_namespace}/db"}]})

    helpers.wait_data(kube, namespace, "mine", {"owner": namespace.encode()})
    helpers.wait_reason(kube, namespace, "theirs", "PathNotAllowed")
    helpers.wait_reason(kube, other_namespace, "guest", "StoreNotAllowed")
    assert helpers.get_secret(kube, other_namespace, "guest") is None

    kube.patch(client.NAMESPACES, other_namespace, {"metadata": {"labels": {"vault": "yes"}}})
    kube.patch(helpers.CLUSTER_VAULT_STORES, cluster_store_name,
               {"spec": {"trustedNamespaceLabels": ["vault"],
                         "namespaceSelector": {"matchLabels": {"vault": "yes"}}}})
    helpers.wait_data(kube, other_namespace, "guest", {"owner": other_namespace.encode()},
                      timeout=40)
    helpers.wait_reason(kube, None, cluster_store_name, "LoggedIn",
                        res=helpers.CLUSTER_VAULT_STORES)


def test_kubernetes_auth_logs_in_once_with_a_token_request_token(
    kube: Any, namespace: str, start_controller: StartController, vault: VaultTestServer,
) -> None:
    helpers.allow_shop(vault)
    vault.add_kubernetes_role(role="shop", bound_service_account_names=["vault-sync"],
                              bound_service_account_namespaces=[namespace], policies=["shop"],
                              audience="vault")
    vault.kv2_put(path="shop/db", data={"password": "k8s"})
    kube.create(helpers.SERVICE_ACCOUNTS, {"metadata": {"name": "vault-sync"}},
                namespace=namespace)
    helpers.create_store(kube, namespace, "vault", {
        "server": vault.url, "auth": {"kubernetes": {
            "role": "shop", "serviceAccountRef": {"name": "vault-sync"},
            "audiences": ["vault"]}}})
    helpers.create_store(kube, namespace, "wrong-sa", {
        "server": vault.url, "auth": {"kubernetes": {
            "role": "shop", "serviceAccountRef": {"name": "default"}, "audiences": ["vault"]}}})
    start_controller(watch=namespace)
    helpers.vault_secret(kube, namespace, "db", helpers.simple_spec(interval="1s"))
    helpers.vault_secret(kube, namespace, "denied", {
        "storeRef": {"name": "wrong-sa"}, "dataFrom": [{"path": "shop/db"}]})

    helpers.wait_data(kube, namespace, "db", {"password": b"k8s"})
    helpers.wait_reason(kube, namespace, "vault", "LoggedIn", res=helpers.VAULT_STORES)
    helpers.wait_reason(kube, namespace, "wrong-sa", "PermissionDenied",
                        res=helpers.VAULT_STORES)
    helpers.wait_reason(kube, namespace, "denied", "PermissionDenied")
    reads = helpers.reads(vault, "shop/db")
    wait_for(lambda: helpers.reads(vault, "shop/db") >= reads + 3, timeout=15,
                     what="three refreshes")
    logins = [r for r in vault.requests if r.path == "/v1/auth/kubernetes/login"]
    assert len(logins) <= 3, "one login for the good store, a few for the denied one"
