"""`sync.fetch` through a real VaultSession: one read per path, all or nothing, bad payloads."""

from __future__ import annotations

from typing import Any

import pytest

from controller.vault import sync
from sealer import errors
from tests.integration.vault import engine
from tests.vaultserver import VaultTestServer

pytestmark = pytest.mark.integration

SPEC: dict[str, Any] = {
    "data": [
        {"secretKey": "user", "remoteRef": {"path": "shop/db", "property": "user"}},
        {"secretKey": "password", "remoteRef": {"path": "shop/db", "property": "password"}},
        {"secretKey": "previous", "remoteRef": {"path": "shop/db", "property": "password",
                                                "version": 1}},
    ],
    "dataFrom": [{"path": "shop/api"}],
}


def _store(vault: VaultTestServer) -> Any:
    return engine.kubernetes_store(vault, pathPrefix="{namespace}")


def test_fetch_reads_each_path_once_and_builds_the_whole_secret(vault: VaultTestServer) -> None:
    engine.allow_shop(vault)
    vault.kv2_put(path="shop/db", data={"user": "u", "password": "old"})
    vault.kv2_put(path="shop/db", data={"user": "u", "password": "new"})
    vault.kv2_put(path="shop/api", data={"token": "t", "url": "https://x"})
    with engine.session(_store(vault), engine.Credentials("jwt-sync")) as s:
        result = sync.fetch(s, spec=SPEC, namespace="shop", store=_store(vault))
    assert result.data == {"user": b"u", "password": b"new", "previous": b"old",
                           "token": b"t", "url": b"https://x"}
    assert result.versions == (("shop/db", 2), ("shop/db", 1), ("shop/api", 1))
    reads = [(r.path, r.query) for r in vault.requests if r.path.startswith("/v1/secret/")]
    assert reads == [("/v1/secret/data/shop/db", ()),
                     ("/v1/secret/data/shop/db", (("version", "1"),)),
                     ("/v1/secret/data/shop/api", ())]


def test_fetch_of_a_path_outside_the_tenant_prefix_sends_nothing(
        vault: VaultTestServer) -> None:
    engine.allow_shop(vault)
    spec = {"dataFrom": [{"path": "shop-evil/db"}]}
    with engine.session(_store(vault), engine.Credentials("jwt-sync")) as s, \
            pytest.raises(errors.VaultError) as info:
        sync.fetch(s, spec=spec, namespace="shop", store=_store(vault))
    assert info.value.reason == "PathNotAllowed"
    assert vault.requests == []


def test_token_expiry_mid_fetch_is_survived_with_one_relogin(vault: VaultTestServer) -> None:
    engine.allow_shop(vault)
    vault.kv2_put(path="shop/db", data={"user": "u", "password": "p"})
    vault.kv2_put(path="shop/api", data={"token": "t"})
    # The token dies between the first and the second read: Vault answers 403 to the read
    # and to the session's lookup-self, exactly once each.
    vault.faults.force_status("secret/data/shop/api", 403, times=1)
    vault.faults.force_status("auth/token/lookup-self", 403, times=1)
    spec = {"dataFrom": [{"path": "shop/db"}, {"path": "shop/api"}]}
    with engine.session(_store(vault), engine.Credentials("jwt-sync")) as s:
        result = sync.fetch(s, spec=spec, namespace="shop", store=_store(vault))
    assert result.data == {"user": b"u", "password": b"p", "token": b"t"}
    assert vault.count("/v1/auth/kubernetes/login") == 2


def test_failure_on_a_later_path_returns_nothing_at_all(vault: VaultTestServer) -> None:
    engine.allow_shop(vault)
    vault.kv2_put(path="shop/db", data={"user": "u", "password": "p"})
    vault.kv2_put(path="shop/api", data={"token": "t"})
    vault.kv2_delete_version(path="shop/api")
    with engine.session(_store(vault), engine.Credentials("jwt-sync")) as s, \
            pytest.raises(errors.VaultError) as info:
        sync.fetch(s, spec=SPEC, namespace="shop", store=_store(vault))
    assert info.value.reason == "VersionDeleted"
    assert "shop/api" in str(info.value)


@pytest.mark.parametrize(("data", "reason", "named"), [
    ({"user": "u", "password": 1234}, "InvalidValue", "password"),
    ({"user": "u", "password": True}, "InvalidValue", "password"),
    ({"user": "u", "password": {"nested": "x"}}, "InvalidValue", "password"),
    ({"user": "u", "password": "p", "../x": "v"}, "InvalidKey", "../x"),
    ({"user": "u", "password": "p", "a/b": "v"}, "InvalidKey", "a/b"),
    ({"user": "u", "password": "p", "": "v"}, "InvalidKey", "''"),
    ({"user": "u", "password": "p", "k" * 254: "v"}, "InvalidKey", "kkkk"),
])
def test_malformed_vault_payloads_are_refused_naming_the_key(
        vault: VaultTestServer, data: dict[str, Any], reason: str, named: str) -> None:
    engine.allow_shop(vault)
    vault.kv2_put(path="shop/db", data=data)
    spec = {"data": [{"secretKey": "pw", "remoteRef": {"path": "shop/db",
                                                        "property": "password"}}],
            "dataFrom": [{"path": "shop/db"}]}
    with engine.session(_store(vault), engine.Credentials("jwt-sync")) as s, \
            pytest.raises(errors.VaultError) as info:
        sync.fetch(s, spec=spec, namespace="shop", store=_store(vault))
    assert info.value.reason == reason
    assert named in str(info.value)
