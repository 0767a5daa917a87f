"""VaultStore / ClusterVaultStore parsing and namespace admission."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from controller.vault import store
from sealer import errors

TOKEN_AUTH: dict[str, Any] = {"token": {"secretRef": {"name": "vault-token", "key": "token"}}}
K8S_AUTH: dict[str, Any] = {
    "kubernetes": {"role": "shop", "serviceAccountRef": {"name": "sync"}, "audiences": ["vault"]}}
APPROLE_AUTH: dict[str, Any] = {
    "appRole": {"roleId": "r-1", "secretRef": {"name": "approle", "key": "id"}}}


def _spec(**overrides: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"server": "https://vault.example:8200", "auth": TOKEN_AUTH}
    spec.update(overrides)
    return spec


def _cluster_spec(**overrides: Any) -> dict[str, Any]:
    spec = _spec(pathPrefix="tenants/{namespace}", auth={
        "kubernetes": {"role": "r", "serviceAccountRef": {"name": "sync", "namespace": "ops"}}})
    spec.update(overrides)
    return spec


def _namespaced(spec: dict[str, Any]) -> store.StoreConfig:
    return store.parse_store(spec, kind=store.VAULT_STORE, store_namespace="shop")


def _cluster(spec: dict[str, Any]) -> store.StoreConfig:
    return store.parse_store(spec, kind=store.CLUSTER_VAULT_STORE)


def _invalid(spec: dict[str, Any], *, cluster: bool = False) -> str:
    with pytest.raises(errors.VaultError) as info:
        _cluster(spec) if cluster else _namespaced(spec)
    assert info.value.reason == "InvalidStore"
    assert info.value.retryable is False
    return str(info.value)


def test_minimal_store_gets_the_kv2_secret_mount_defaults() -> None:
    config = _namespaced(_spec())
    assert (config.kv_mount, config.kv_version) == ("secret", 2)
    assert isinstance(config.auth, store.TokenAuth)
    assert config.auth.secret_ref == store.ObjectKeyRef(name="vault-token", key="token")


def test_kubernetes_auth_defaults_its_mount_path() -> None:
    config = _namespaced(_spec(auth=K8S_AUTH))
    assert isinstance(config.auth, store.KubernetesAuth)
    assert config.auth.mount_path == "kubernetes"
    assert config.auth.audiences == ("vault",)
    assert config.auth.service_account == "sync"


def test_approle_auth_defaults_its_mount_path() -> None:
    config = _namespaced(_spec(auth=APPROLE_AUTH, kv={"mount": "kv", "version": 1}))
    assert isinstance(config.auth, store.AppRoleAuth)
    assert (config.auth.mount_path, config.kv_mount, config.kv_version) == ("approle", "kv", 1)


@pytest.mark.parametrize("server", [
    "http://vault.example:8200",
    "http://10.0.0.1:8200",
    "http://localhost.evil.example",
    "http://[::ffff:10.0.0.1]:8200",
    "ftp://vault.example",
    "vault.example:8200",
    "https://",
    "https://user:pw@vault.example",
    "https://vault.example/?token=x",
    "https://vault.example/#frag",
    "https://vault.example:99999",
    "https://vault.example :8200",
    "",
])
def test_unsafe_or_malformed_server_is_refused(server: str) -> None:
    _invalid(_spec(server=server))


def test_credentials_in_server_url_are_not_echoed() -> None:
    message = _invalid(_spec(server="https://user:hunter2@vault.example"))
    assert "hunter2" not in message


@pytest.mark.parametrize("server", ["http://127.0.0.1:8200", "http://127.9.9.9",
                                    "http://[::1]:8200", "http://localhost:8200",
                                    "http://[::ffff:127.0.0.1]:8200",
                                    "https://vault.example", "https://10.0.0.1:8200/"])
def test_https_anywhere_and_http_to_loopback_are_accepted(server: str) -> None:
    assert _namespaced(_spec(server=server)).server == server.rstrip("/")


@pytest.mark.parametrize("auth", [
    {},
    {"token": TOKEN_AUTH["token"], "appRole": APPROLE_AUTH["appRole"]},
    {**TOKEN_AUTH, **K8S_AUTH},
    {"token": None, "kubernetes": None},
    {"ldap": {}},
])
def test_auth_must_name_exactly_one_known_method(auth: dict[str, Any]) -> None:
    _invalid(_spec(auth=auth))


def test_unknown_field_is_refused_so_typos_do_not_pass_silently() -> None:
    auth = copy.deepcopy(K8S_AUTH)
    auth["kubernetes"]["audience"] = "vault"
    assert "audience" in _invalid(_spec(auth=auth))
    _invalid(_spec(serverr="x"))


def test_namespaced_store_cannot_reference_another_namespace() -> None:
    auth = copy.deepcopy(TOKEN_AUTH)
    auth["token"]["secretRef"]["namespace"] = "kube-system"
    _invalid(_spec(auth=auth))
    k8s = copy.deepcopy(K8S_AUTH)
    k8s["kubernetes"]["serviceAccountRef"]["namespace"] = "kube-system"
    _invalid(_spec(auth=k8s))


def test_cluster_store_requires_explicit_reference_namespaces() -> None:
    _invalid(_cluster_spec(auth=TOKEN_AUTH), cluster=True)


def test_cluster_store_requires_a_path_prefix() -> None:
    spec = _cluster_spec()
    del spec["pathPrefix"]
    _invalid(spec, cluster=True)


@pytest.mark.parametrize("prefix", ["../x", "/abs", "a//b", "a/{name}", "a/{namespace", 5])
def test_unclean_path_prefix_is_refused(prefix: object) -> None:
    _invalid(_spec(pathPrefix=prefix))


@pytest.mark.parametrize("kv", [{"version": 3}, {"version": True}, {"version": "2"},
                                {"mount": "../sys"}, {"mount": "/secret"}, {"mount": ""}])
def test_bad_kv_settings_are_refused(kv: dict[str, Any]) -> None:
    _invalid(_spec(kv=kv))


@pytest.mark.parametrize("mount_path", ["..", "a/../b", "", "a b"])
def test_bad_auth_mount_path_is_refused(mount_path: str) -> None:
    auth = copy.deepcopy(K8S_AUTH)
    auth["kubernetes"]["mountPath"] = mount_path
    _invalid(_spec(auth=auth))


def test_ca_bundle_must_hold_a_certificate() -> None:
    _invalid(_spec(caBundle="-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----"))


def test_ca_bundle_and_ca_provider_are_mutually_exclusive() -> None:
    _invalid(_spec(caBundle="x", caProvider={"type": "Secret", "name": "ca", "key": "ca.crt"}))


def test_ca_provider_is_parsed_as_a_reference() -> None:
    config = _namespaced(_spec(caProvider={"type": "ConfigMap", "name": "ca", "key": "ca.crt"}))
    assert config.ca_provider == store.CaProvider(type="ConfigMap",
                                                  ref=store.ObjectKeyRef("ca", "ca.crt"))


def test_namespaced_store_admits_only_its_own_namespace() -> None:
    config = _namespaced(_spec())
    assert store.admits(config, namespace="shop", namespace_labels={})
    assert not store.admits(config, namespace="bank", namespace_labels={})


def test_cluster_store_without_conditions_admits_nobody() -> None:
    config = _cluster(_cluster_spec())
    assert not store.admits(config, namespace="shop", namespace_labels={"team": "shop"})


def test_cluster_store_admits_listed_namespaces() -> None:
    config = _cluster(_cluster_spec(allowedNamespaces=["shop"]))
    assert store.admits(config, namespace="shop", namespace_labels={})
    assert not store.admits(config, namespace="bank", namespace_labels={})


def test_cluster_store_admits_by_trusted_label_selector() -> None:
    config = _cluster(_cluster_spec(trustedNamespaceLabels=["vault", "tier"], namespaceSelector={
        "matchLabels": {"vault": "on"},
        "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["system"]}]}))
    assert store.admits(config, namespace="a", namespace_labels={"vault": "on"})
    assert not store.admits(config, namespace="b", namespace_labels={"vault": "on",
                                                                      "tier": "system"})
    assert not store.admits(config, namespace="c", namespace_labels={})


def test_a_selector_on_a_label_tenants_may_set_is_an_invalid_store() -> None:
    _invalid(_cluster_spec(namespaceSelector={"matchLabels": {"vault": "on"}}), cluster=True)
    _invalid(_cluster_spec(namespaceSelector={"matchExpressions": [
        {"key": "tier", "operator": "NotIn", "values": ["system"]}]}), cluster=True)


def test_the_name_label_is_the_namespaces_name_never_the_label_it_carries() -> None:
    config = _cluster(_cluster_spec(namespaceSelector={"matchExpressions": [
        {"key": store.NAME_LABEL, "operator": "In", "values": ["shop"]}]}))
    assert store.admits(config, namespace="shop", namespace_labels={})
    # A pre-1.21 API server lets a tenant write the label; its value is never read.
    assert not store.admits(config, namespace="evil",
                            namespace_labels={store.NAME_LABEL: "shop"})


def test_untrusted_labels_never_reach_a_negative_selector() -> None:
    config = _cluster(_cluster_spec(trustedNamespaceLabels=["tier"], namespaceSelector={
        "matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}))
    assert store.admits(config, namespace="a", namespace_labels={"other": "x"})
    assert not store.admits(config, namespace="b", namespace_labels={"tier": "system"})


@pytest.mark.parametrize("trusted", ["tier", [1], ["bad key!"]])
def test_malformed_trusted_labels_are_refused(trusted: Any) -> None:
    _invalid(_cluster_spec(trustedNamespaceLabels=trusted), cluster=True)


def test_empty_selector_admits_every_namespace() -> None:
    config = _cluster(_cluster_spec(namespaceSelector={}))
    assert store.admits(config, namespace="any", namespace_labels={})


@pytest.mark.parametrize("selector", [
    {"matchExpressions": [{"key": "a", "operator": "Like", "values": ["x"]}]},
    {"matchExpressions": [{"key": "a", "operator": "In"}]},
    {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]},
    {"matchLabels": {"a": 1}},
])
def test_malformed_selector_is_refused(selector: dict[str, Any]) -> None:
    _invalid(_cluster_spec(namespaceSelector=selector, trustedNamespaceLabels=["a"]),
             cluster=True)


def test_admission_fields_are_refused_on_a_namespaced_store() -> None:
    _invalid(_spec(allowedNamespaces=["bank"]))


def test_wrong_kind_or_namespace_combination_is_misuse() -> None:
    with pytest.raises(ValueError):
        store.parse_store(_spec(), kind=store.VAULT_STORE)
    with pytest.raises(ValueError):
        store.parse_store(_cluster_spec(), kind=store.CLUSTER_VAULT_STORE, store_namespace="x")
    with pytest.raises(ValueError):
        store.parse_store(_spec(), kind="SecretStore", store_namespace="x")
