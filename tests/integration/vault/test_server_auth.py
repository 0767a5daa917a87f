"""The test server's token store, ACL, kubernetes and approle logins, and namespaces."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any

import hvac
import hvac.exceptions
import pytest
import requests

from tests.vaultserver import ManualClock, VaultTestServer

pytestmark = pytest.mark.integration

LOOKUP_FIELDS = {"accessor", "creation_time", "creation_ttl", "display_name", "entity_id",
                 "expire_time", "explicit_max_ttl", "id", "identity_policies", "issue_time",
                 "meta", "num_uses", "orphan", "path", "policies", "renewable", "ttl", "type"}
LOGIN_AUTH_FIELDS = {"client_token", "accessor", "policies", "token_policies",
                     "identity_policies", "metadata", "lease_duration", "renewable",
                     "entity_id", "token_type", "orphan", "num_uses"}


def _client(vault: VaultTestServer, token: str = "", **kw: Any) -> Any:
    return hvac.Client(url=vault.url, token=token, **kw)


def _jwt(aud: str | list[str]) -> str:
    def part(obj: Mapping[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()
    return f"{part({'alg': 'RS256'})}.{part({'aud': aud, 'sub': 'x'})}.c2ln"


class Review:
    """A TokenReview stand-in: accepts JWTs it was given, as `system:serviceaccount:ns:name`."""

    def __init__(self, accepted: dict[str, tuple[str, str]]) -> None:
        self.accepted = accepted
        self.calls: list[tuple[str, tuple[str, ...]]] = []

    def __call__(self, jwt: str, audiences: Sequence[str]) -> Mapping[str, Any]:
        self.calls.append((jwt, tuple(audiences)))
        if jwt not in self.accepted:
            return {"authenticated": False, "error": "invalid bearer token"}
        ns, name = self.accepted[jwt]
        return {"authenticated": True, "audiences": list(audiences),
                "user": {"username": f"system:serviceaccount:{ns}:{name}", "uid": "u-1"}}


def test_lookup_self_has_the_documented_fields_and_a_counting_down_ttl(
        vault: VaultTestServer, clock: ManualClock) -> None:
    token = vault.create_token(ttl=600, policies=["shop"])
    client = _client(vault, token)
    try:
        data = client.auth.token.lookup_self()["data"]
        assert set(data) >= LOOKUP_FIELDS
        assert (data["ttl"], data["type"], data["renewable"]) == (600, "service", True)
        assert data["expire_time"].endswith("Z")
        assert data["policies"] == ["default", "shop"]
        clock.advance(100)
        assert client.auth.token.lookup_self()["data"]["ttl"] == 500
    finally:
        client.adapter.close()


def test_token_really_expires_with_403_permission_denied(
        vault: VaultTestServer, clock: ManualClock, http: requests.Session) -> None:
    token = vault.create_token(ttl=60, policies=["root"])
    vault.kv2_put(path="a", data={"k": "v"})
    url = f"{vault.url}/v1/secret/data/a"
    assert http.get(url, headers={"X-Vault-Token": token}, timeout=5).status_code == 200
    clock.advance(60)
    response = http.get(url, headers={"X-Vault-Token": token}, timeout=5)
    assert response.status_code == 403
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"errors": ["permission denied"]}
    client = _client(vault, token)
    try:
        assert client.is_authenticated() is False
        with pytest.raises(hvac.exceptions.Forbidden):
            client.auth.token.lookup_self()
    finally:
        client.adapter.close()


@pytest.mark.parametrize("headers", [{}, {"X-Vault-Token": "hvs.bogus"},
                                     {"Authorization": "Bearer hvs.bogus"}])
def test_missing_or_unknown_token_is_403(vault: VaultTestServer, http: requests.Session,
                                         headers: dict[str, str]) -> None:
    response = http.get(f"{vault.url}/v1/secret/data/a", headers=headers, timeout=5)
    assert (response.status_code, response.json()) == (403, {"errors": ["permission denied"]})


def test_bearer_authorization_is_accepted(vault: VaultTestServer,
                                          http: requests.Session) -> None:
    vault.kv2_put(path="a", data={"k": "v"})
    response = http.get(f"{vault.url}/v1/secret/data/a",
                        headers={"Authorization": "Bearer root"}, timeout=5)
    assert response.status_code == 200


def test_renew_self_extends_the_ttl(vault: VaultTestServer, clock: ManualClock) -> None:
    token = vault.create_token(ttl=600)
    client = _client(vault, token)
    try:
        clock.advance(500)
        auth = client.auth.token.renew_self()["auth"]
        assert auth["lease_duration"] == 600 and auth["client_token"] == token
        clock.advance(500)
        assert client.auth.token.lookup_self()["data"]["ttl"] == 100
    finally:
        client.adapter.close()


def test_renew_self_increment_is_capped_by_max_ttl_with_a_warning(
        vault: VaultTestServer, clock: ManualClock) -> None:
    token = vault.create_token(ttl=600, max_ttl=900)
    client = _client(vault, token)
    try:
        clock.advance(500)
        body = client.auth.token.renew_self(increment="1h")
        assert body["auth"]["lease_duration"] == 400
        assert body["warnings"] and "capped" in body["warnings"][0]
        clock.advance(400)
        with pytest.raises(hvac.exceptions.Forbidden):
            client.auth.token.lookup_self()
    finally:
        client.adapter.close()


def test_renewing_a_non_renewable_token_is_refused(vault: VaultTestServer) -> None:
    client = _client(vault, vault.create_token(ttl=600, renewable=False))
    try:
        with pytest.raises(hvac.exceptions.InvalidRequest):
            client.auth.token.renew_self()
    finally:
        client.adapter.close()


def test_revoke_self_is_204_and_the_token_stops_working(
        vault: VaultTestServer, http: requests.Session) -> None:
    token = vault.create_token(ttl=600)
    headers = {"X-Vault-Token": token}
    response = http.post(f"{vault.url}/v1/auth/token/revoke-self", headers=headers, timeout=5)
    assert response.status_code == 204 and response.content == b""
    lookup = http.get(f"{vault.url}/v1/auth/token/lookup-self", headers=headers, timeout=5)
    assert lookup.status_code == 403


def test_acl_allows_paths_in_the_policy_and_denies_others(vault: VaultTestServer) -> None:
    vault.set_policy("shop", {"secret/data/shop/*": ["read"], "secret/metadata/shop/": ["list"]})
    vault.kv2_put(path="shop/db", data={"k": "v"})
    vault.kv2_put(path="bank/db", data={"k": "v"})
    client = _client(vault, vault.create_token(policies=["shop"]))
    kv2 = client.secrets.kv.v2
    try:
        assert kv2.read_secret_version(path="shop/db", raise_on_deleted_version=True)
        assert kv2.list_secrets(path="shop")["data"]["keys"] == ["db"]
        with pytest.raises(hvac.exceptions.Forbidden):
            kv2.read_secret_version(path="bank/db", raise_on_deleted_version=True)
        with pytest.raises(hvac.exceptions.Forbidden):
            kv2.create_or_update_secret(path="shop/db", secret={"k": "w"})
        with pytest.raises(hvac.exceptions.Forbidden):
            kv2.list_secrets(path="bank")
    finally:
        client.adapter.close()


def test_policy_change_takes_effect_for_existing_tokens(vault: VaultTestServer) -> None:
    vault.set_policy("shop", {"secret/data/shop/*": ["read"]})
    vault.kv2_put(path="shop/db", data={"k": "v"})
    client = _client(vault, vault.create_token(policies=["shop"]))
    try:
        client.secrets.kv.v2.read_secret_version(path="shop/db", raise_on_deleted_version=True)
        vault.set_policy("shop", {"secret/data/shop/*": ["deny"]})
        with pytest.raises(hvac.exceptions.Forbidden):
            client.secrets.kv.v2.read_secret_version(path="shop/db",
                                                     raise_on_deleted_version=True)
    finally:
        client.adapter.close()


def test_more_specific_rule_wins_over_a_broad_glob(vault: VaultTestServer) -> None:
    vault.set_policy("p", {"secret/data/*": ["read"], "secret/data/shop/admin": ["deny"],
                           "secret/data/+/db": ["read"]})
    token = vault.create_token(policies=["p"])
    for path in ("shop/db", "shop/admin"):
        vault.kv2_put(path=path, data={"k": "v"})
    client = _client(vault, token)
    try:
        client.secrets.kv.v2.read_secret_version(path="shop/db", raise_on_deleted_version=True)
        with pytest.raises(hvac.exceptions.Forbidden):
            client.secrets.kv.v2.read_secret_version(path="shop/admin",
                                                     raise_on_deleted_version=True)
    finally:
        client.adapter.close()


def test_kubernetes_login_returns_the_documented_auth_block(vault: VaultTestServer) -> None:
    vault.add_kubernetes_role(role="shop", bound_service_account_names=["sync"],
                              bound_service_account_namespaces=["shop"], policies=["shop"],
                              token_ttl=900)
    review = Review({"jwt-1": ("shop", "sync")})
    vault.set_tokenreview(review)
    client = _client(vault)
    try:
        body = client.auth.kubernetes.login(role="shop", jwt="jwt-1")
        auth = body["auth"]
        assert set(auth) >= LOGIN_AUTH_FIELDS
        assert (auth["lease_duration"], auth["renewable"], auth["token_type"]) == (
            900, True, "service")
        assert auth["metadata"]["service_account_name"] == "sync"
        assert auth["metadata"]["service_account_namespace"] == "shop"
        assert auth["metadata"]["role"] == "shop"
        assert "default" in auth["policies"] and "shop" in auth["policies"]
        assert client.token == auth["client_token"]  # hvac adopted it
        assert client.auth.token.lookup_self()["data"]["path"] == "auth/kubernetes/login"
    finally:
        client.adapter.close()
    assert review.calls == [("jwt-1", ())]
    logins = [r for r in vault.requests if r.path == "/v1/auth/kubernetes/login"]
    assert len(logins) == 1 and logins[0].had_token is False


def test_kubernetes_login_with_an_unknown_role_is_400(vault: VaultTestServer,
                                                      http: requests.Session) -> None:
    vault.add_kubernetes_role(role="shop", bound_service_account_names=["*"],
                              bound_service_account_namespaces=["*"])
    response = http.post(f"{vault.url}/v1/auth/kubernetes/login",
                         json={"role": "x", "jwt": "j"}, timeout=5)
    assert response.status_code == 400
    assert response.json() == {"errors": ['role "x" could not be found']}


def test_kubernetes_login_is_rejected_by_default(vault: VaultTestServer) -> None:
    vault.add_kubernetes_role(role="shop", bound_service_account_names=["*"],
                              bound_service_account_namespaces=["*"])
    client = _client(vault)
    try:
        with pytest.raises(hvac.exceptions.Forbidden) as info:
            client.auth.kubernetes.login(role="shop", jwt="jwt")
        assert info.value.errors == ["permission denied"]
    finally:
        client.adapter.close()


@pytest.mark.parametrize(("ns", "name"), [("shop", "other"), ("bank", "sync")])
def test_kubernetes_login_from_an_unbound_service_account_is_403(
        vault: VaultTestServer, ns: str, name: str) -> None:
    vault.add_kubernetes_role(role="shop", bound_service_account_names=["sync"],
                              bound_service_account_namespaces=["shop"])
    vault.set_tokenreview(Review({"jwt": (ns, name)}))
    client = _client(vault)
    try:
        with pytest.raises(hvac.exceptions.Forbidden):
            client.auth.kubernetes.login(role="shop", jwt="jwt")
    finally:
        client.adapter.close()


def test_kubernetes_login_checks_the_audience_before_token_review(
        vault: VaultTestServer, http: requests.Session) -> None:
    vault.add_kubernetes_role(role="shop", bound_service_account_names=["sync"],
                              bound_service_account_namespaces=["shop"], audience="vault")
    good, bad = _jwt(["vault"]), _jwt("https://kubernetes.default.svc")
    review = Review({good: ("shop", "sync"), bad: ("shop", "sync")})
    vault.set_tokenreview(review)
    url = f"{vault.url}/v1/auth/kubernetes/login"
    refused = http.post(url, json={"role": "shop", "jwt": bad}, timeout=5)
    assert refused.status_code == 403
    assert refused.json()["errors"] == [
        "invalid audience (aud) claim: audience claim does not match any expected audience"]
    assert review.calls == []
    accepted = http.post(url, json={"role": "shop", "jwt": good}, timeout=5)
    assert accepted.status_code == 200
    assert review.calls == [(good, ("vault",))]


def test_approle_login_issues_a_token_and_refuses_a_wrong_secret_id(
        vault: VaultTestServer) -> None:
    vault.add_approle(role_id="rid", secret_id="sid", token_ttl=120, policies=["p"])
    client = _client(vault)
    try:
        auth = client.auth.approle.login(role_id="rid", secret_id="sid")["auth"]
        assert auth["lease_duration"] == 120 and "p" in auth["policies"]
        with pytest.raises(hvac.exceptions.InvalidRequest) as info:
            client.auth.approle.login(role_id="rid", secret_id="wrong")
        assert info.value.errors == ["invalid role or secret ID"]
    finally:
        client.adapter.close()


def test_namespace_header_prefixes_the_path(vault: VaultTestServer,
                                            http: requests.Session) -> None:
    vault.kv2_put(path="foo", data={"where": "ns1"}, namespace="ns1")
    vault.kv2_put(path="foo", data={"where": "root"})
    by_header = http.get(f"{vault.url}/v1/secret/data/foo",
                         headers={"X-Vault-Token": "root", "X-Vault-Namespace": "ns1/"},
                         timeout=5)
    by_path = http.get(f"{vault.url}/v1/ns1/secret/data/foo", headers={"X-Vault-Token": "root"},
                       timeout=5)
    root = http.get(f"{vault.url}/v1/secret/data/foo", headers={"X-Vault-Token": "root"},
                    timeout=5)
    assert by_header.json()["data"]["data"] == by_path.json()["data"]["data"] == {"where": "ns1"}
    assert root.json()["data"]["data"] == {"where": "root"}


def test_hvac_namespace_argument_reaches_the_namespaced_mount(vault: VaultTestServer) -> None:
    vault.kv2_put(path="foo", data={"k": "v"}, namespace="ns1/ns2")
    client = _client(vault, "root", namespace="ns1/ns2")
    try:
        body = client.secrets.kv.v2.read_secret_version(path="foo", raise_on_deleted_version=True)
    finally:
        client.adapter.close()
    assert body["data"]["data"] == {"k": "v"}
    assert vault.requests[-1].namespace == "ns1/ns2"


def test_a_namespace_token_cannot_reach_the_root_namespace(vault: VaultTestServer,
                                                           http: requests.Session) -> None:
    vault.set_policy("all", {"*": ["read"]})
    vault.kv2_put(path="foo", data={"k": "v"})
    vault.kv2_put(path="foo", data={"k": "v"}, namespace="ns1")
    token = vault.create_token(policies=["all"], namespace="ns1")
    inside = http.get(f"{vault.url}/v1/secret/data/foo",
                      headers={"X-Vault-Token": token, "X-Vault-Namespace": "ns1"}, timeout=5)
    outside = http.get(f"{vault.url}/v1/secret/data/foo", headers={"X-Vault-Token": token},
                       timeout=5)
    assert (inside.status_code, outside.status_code) == (200, 403)


def test_kubernetes_login_with_a_failing_token_review_is_500(vault: VaultTestServer,
                                                            http: requests.Session) -> None:
    def broken(jwt: str, audiences: Sequence[str]) -> Mapping[str, Any]:
        raise ConnectionError("control plane down")

    vault.add_kubernetes_role(role="shop", bound_service_account_names=["*"],
                              bound_service_account_namespaces=["*"])
    vault.set_tokenreview(broken)
    response = http.post(f"{vault.url}/v1/auth/kubernetes/login",
                         json={"role": "shop", "jwt": "j"}, timeout=5)
    assert response.status_code == 500
    assert response.json() == {"errors": ["lookup failed: ConnectionError"]}
