"""VaultSession against the Vault test server with real hvac: reads, tokens, failures."""

from __future__ import annotations

import socket
import time

import pytest

from controller.vault import client, store
from sealer import errors
from tests.integration.vault import engine
from tests.vaultserver import ManualClock, VaultTestServer

pytestmark = pytest.mark.integration

LOGIN = "/v1/auth/kubernetes/login"
RENEW = "/v1/auth/token/renew-self"


def _error(session: client.VaultSession, path: str, *,
           version: int | None = None) -> errors.VaultError:
    with pytest.raises(errors.VaultError) as info:
        session.read(path, version=version)
    return info.value


def test_reads_kv2_data_and_version_with_a_static_token(vault: VaultTestServer) -> None:
    vault.kv2_put(path="shop/db", data={"user": "u", "password": "p"})
    with engine.session(engine.token_store(vault), engine.Credentials("root")) as s:
        result = s.read("shop/db")
    assert (dict(result.data), result.version) == ({"user": "u", "password": "p"}, 1)


def test_reads_a_pinned_kv2_version(vault: VaultTestServer) -> None:
    vault.kv2_put(path="shop/db", data={"password": "old"})
    vault.kv2_put(path="shop/db", data={"password": "new"})
    with engine.session(engine.token_store(vault), engine.Credentials("root")) as s:
        pinned = s.read("shop/db", version=1)
        latest = s.read("shop/db")
    assert (pinned.data["password"], pinned.version) == ("old", 1)
    assert (latest.data["password"], latest.version) == ("new", 2)


def test_reads_kv1_secrets(vault: VaultTestServer) -> None:
    vault.kv1_put(mount="kv", path="shop/app", data={"k": "v"})
    config = engine.token_store(vault, kv={"mount": "kv", "version": 1})
    with engine.session(config, engine.Credentials("root")) as s:
        result = s.read("shop/app")
        assert (dict(result.data), result.version) == ({"k": "v"}, None)
        assert _error(s, "shop/app", version=1).reason == "InvalidSpec"


@pytest.mark.parametrize(("action", "reason"), [("delete", "VersionDeleted"),
                                                ("destroy", "VersionDestroyed")])
def test_deleted_and_destroyed_versions_are_errors_not_empty_secrets(
        vault: VaultTestServer, action: str, reason: str) -> None:
    vault.kv2_put(path="shop/db", data={"password": "p"}, custom_metadata={"note": "x"})
    if action == "delete":
        vault.kv2_delete_version(path="shop/db")
    else:
        vault.kv2_destroy_version(path="shop/db", versions=[1])
    with engine.session(engine.token_store(vault), engine.Credentials("root")) as s:
        err = _error(s, "shop/db")
    assert err.reason == reason and err.retryable is False
    assert "secret/shop/db" in str(err)


def test_missing_secret_is_not_found(vault: VaultTestServer) -> None:
    with engine.session(engine.token_store(vault), engine.Credentials("root")) as s:
        err = _error(s, "shop/none")
    assert (err.reason, err.retryable) == ("NotFound", False)


def test_kubernetes_login_happens_once_for_many_reads(vault: VaultTestServer) -> None:
    engine.allow_shop(vault)
    vault.kv2_put(path="shop/db", data={"k": "v"})
    credentials = engine.Credentials("jwt-sync")
    with engine.session(engine.kubernetes_store(vault), credentials) as s:
        for _ in range(20):
            assert s.read("shop/db").data == {"k": "v"}
    assert vault.count(LOGIN) == 1
    assert credentials.calls == 1


def test_approle_login_uses_the_secret_id_from_credentials(vault: VaultTestServer) -> None:
    vault.set_policy("shop", {"secret/data/shop/*": ["read"]})
    vault.add_approle(role_id="rid", secret_id="sid", policies=["shop"])
    vault.kv2_put(path="shop/db", data={"k": "v"})
    with engine.session(engine.approle_store(vault), engine.Credentials("sid")) as s:
        assert s.read("shop/db").data == {"k": "v"}
    with engine.session(engine.approle_store(vault), engine.Credentials("wrong")) as s:
        err = _error(s, "shop/db")
    assert err.reason == "InvalidRequest" and "invalid role or secret ID" in str(err)


def test_token_is_renewed_at_two_thirds_of_its_ttl(vault: VaultTestServer,
                                                   clock: ManualClock) -> None:
    engine.allow_shop(vault, token_ttl=300)
    vault.kv2_put(path="shop/db", data={"k": "v"})
    with engine.session(engine.kubernetes_store(vault), engine.Credentials("jwt-sync"),
                        now=clock) as s:
        s.read("shop/db")
        clock.advance(190)
        s.read("shop/db")
        assert vault.count(RENEW) == 0
        clock.advance(20)
        s.read("shop/db")
        s.read("shop/db")
        assert vault.count(RENEW) == 1
        clock.advance(250)  # past the first lease, within the renewed one
        s.read("shop/db")
    assert vault.count(LOGIN) == 1


def test_renewal_capped_by_max_ttl_leads_to_a_fresh_login(vault: VaultTestServer,
                                                          clock: ManualClock) -> None:
    engine.allow_shop(vault, token_ttl=300, token_max_ttl=400)
    vault.kv2_put(path="shop/db", data={"k": "v"})
    with engine.session(engine.kubernetes_store(vault), engine.Credentials("jwt-sync"),
                        now=clock) as s:
        s.read("shop/db")
        clock.advance(210)
        s.read("shop/db")  # renewed, but only to the 400 s max: 190 s left
        clock.advance(130)
        s.read("shop/db")  # past 2/3 of the capped lease: log in again instead of renewing
    assert (vault.count(LOGIN), vault.count(RENEW)) == (2, 1)


def test_token_expiring_mid_cycle_causes_one_relogin_then_success(
        vault: VaultTestServer) -> None:
    engine.allow_shop(vault)
    vault.kv2_put(path="shop/a", data={"k": "1"})
    vault.kv2_put(path="shop/b", data={"k": "2"})
    with engine.session(engine.kubernetes_store(vault), engine.Credentials("jwt-sync")) as s:
        s.read("shop/a")
        vault.revoke_all_tokens()  # the session's clock does not know: Vault says 403
        assert s.read("shop/b").data == {"k": "2"}
        assert s.read("shop/a").data == {"k": "1"}
    assert vault.count(LOGIN) == 2


def test_policy_change_gives_permission_denied_without_a_login_loop(
        vault: VaultTestServer) -> None:
    engine.allow_shop(vault)
    vault.kv2_put(path="shop/db", data={"k": "v"})
    with engine.session(engine.kubernetes_store(vault), engine.Credentials("jwt-sync")) as s:
        s.read("shop/db")
        vault.set_policy("shop", {})
        vault.clear_requests()
        for _ in range(3):
            err = _error(s, "shop/db")
            assert (err.reason, err.retryable) == ("PermissionDenied", False)
            assert "secret/shop/db" in str(err)
        assert len(vault.requests) == 6  # per attempt: the read and one lookup-self
    assert vault.count(LOGIN) == 0


def test_relogin_that_fails_again_stops_after_one_attempt(vault: VaultTestServer) -> None:
    engine.allow_shop(vault)
    vault.kv2_put(path="shop/db", data={"k": "v"})
    with engine.session(engine.kubernetes_store(vault), engine.Credentials("jwt-sync")) as s:
        s.read("shop/db")
        vault.revoke_all_tokens()
        vault.set_tokenreview(lambda jwt, aud: {"authenticated": False})
        err = _error(s, "shop/db")
    assert err.reason == "PermissionDenied" and "auth/kubernetes/login" in str(err)
    assert vault.count(LOGIN) == 2


def test_invalid_static_token_is_permission_denied(vault: VaultTestServer) -> None:
    with engine.session(engine.token_store(vault), engine.Credentials("hvs.nope")) as s:
        err = _error(s, "shop/db")
    assert err.reason == "PermissionDenied"


def test_unknown_role_and_wrong_audience_are_reported_by_name(vault: VaultTestServer) -> None:
    vault.add_kubernetes_role(role="other", bound_service_account_names=["*"],
                              bound_service_account_namespaces=["*"])
    with engine.session(engine.kubernetes_store(vault), engine.Credentials("jwt-sync")) as s:
        err = _error(s, "shop/db")
    assert err.reason == "InvalidRequest" and 'role "shop" could not be found' in str(err)
    vault.add_kubernetes_role(role="shop", bound_service_account_names=["*"],
                              bound_service_account_namespaces=["*"], audience="vault")
    with engine.session(engine.kubernetes_store(vault), engine.Credentials("a.e30.c")) as s:
        err = _error(s, "shop/db")
    assert err.reason == "PermissionDenied" and "invalid audience" in str(err)


def test_rate_limit_carries_retry_after(vault: VaultTestServer) -> None:
    vault.faults.force_status("secret/data/*", 429, retry_after=7)
    with engine.session(engine.token_store(vault), engine.Credentials("root")) as s:
        err = _error(s, "shop/db")
    assert (err.reason, err.retryable, err.retry_after) == ("RateLimited", True, 7.0)


@pytest.mark.parametrize(("switch", "status"), [("sealed", 503), ("uninitialized", 501)])
def test_sealed_or_uninitialised_vault_is_vault_sealed(vault: VaultTestServer, switch: str,
                                                       status: int) -> None:
    setattr(vault.faults, switch, True)
    with engine.session(engine.token_store(vault), engine.Credentials("root")) as s:
        err = _error(s, "shop/db")
    assert (err.reason, err.retryable) == ("VaultSealed", True)
    assert str(status) in str(err)


@pytest.mark.parametrize("status", [500, 502, 412])
def test_server_errors_and_412_are_vault_unavailable(vault: VaultTestServer,
                                                     status: int) -> None:
    vault.faults.force_status("secret/data/*", status)
    with engine.session(engine.token_store(vault), engine.Credentials("root")) as s:
        err = _error(s, "shop/db")
    assert (err.reason, err.retryable) == ("VaultUnavailable", True)


def test_hung_vault_times_out_quickly_as_vault_unavailable(vault: VaultTestServer) -> None:
    vault.faults.delay(10.0, "secret/data/*")
    with engine.session(engine.token_store(vault), engine.Credentials("root"),
                        timeout=0.3) as s:
        started = time.monotonic()
        err = _error(s, "shop/db")
        elapsed = time.monotonic() - started
    assert err.reason == "VaultUnavailable" and "timed out" in str(err)
    assert elapsed < 10.0  # the client gave up; it did not wait out the 10 s hang


def test_dropped_connection_is_vault_unavailable(vault: VaultTestServer) -> None:
    vault.faults.drop_connections("secret/data/*")
    with engine.session(engine.token_store(vault), engine.Credentials("root")) as s:
        err = _error(s, "shop/db")
    assert err.reason == "VaultUnavailable"


def test_connection_refused_is_vault_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = store.parse_store(
        {"server": f"http://127.0.0.1:{port}",
         "auth": {"token": {"secretRef": {"name": "t", "key": "token"}}}},
        kind=store.VAULT_STORE, store_namespace="shop")
    with engine.session(config, engine.Credentials("root"), timeout=1.0) as s:
        err = _error(s, "shop/db")
    assert (err.reason, err.retryable) == ("VaultUnavailable", True)


def test_redirects_are_not_followed_so_the_token_stays_home(vault: VaultTestServer) -> None:
    with VaultTestServer.start() as elsewhere:
        vault.faults.force_response(
            "secret/data/*", 307, body=b"",
            headers={"Location": f"{elsewhere.url}/v1/secret/data/shop/db"})
        with engine.session(engine.token_store(vault), engine.Credentials("root")) as s:
            err = _error(s, "shop/db")
        assert err.reason == "VaultUnavailable" and "redirect" in str(err)
        assert elsewhere.requests == []


def test_duplicate_json_keys_are_refused_as_an_invalid_payload(vault: VaultTestServer) -> None:
    vault.faults.force_response(
        "secret/data/shop/db", 200,
        body=b'{"data": {"data": {"k": "a", "k": "b"}, "metadata": {"version": 1}}}')
    with engine.session(engine.token_store(vault), engine.Credentials("root")) as s:
        err = _error(s, "shop/db")
    assert err.reason == "InvalidPayload" and "'k'" in str(err)


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"data": {"data": "x"}}',
                                  b'{"data": {"data": {}, "metadata": {"version": "1"}}}',
                                  b"{" * 100000])
def test_malformed_200_bodies_are_invalid_payloads(vault: VaultTestServer, body: bytes) -> None:
    vault.faults.force_response("secret/data/*", 200, body=body)
    with engine.session(engine.token_store(vault), engine.Credentials("root")) as s:
        err = _error(s, "shop/db")
    assert err.reason == "InvalidPayload"


def test_oversized_response_is_refused(vault: VaultTestServer) -> None:
    vault.faults.force_response("secret/data/*", 200,
                                body=b'{"data": "' + b"x" * (client.MAX_RESPONSE_BYTES) + b'"}')
    with engine.session(engine.token_store(vault), engine.Credentials("root")) as s:
        err = _error(s, "shop/db")
    assert err.reason == "InvalidPayload" and "larger" in str(err)


def test_vault_namespace_from_the_store_is_sent(vault: VaultTestServer) -> None:
    vault.kv2_put(path="shop/db", data={"k": "ns"}, namespace="team-a")
    with engine.session(engine.token_store(vault, namespace="team-a"),
                        engine.Credentials("root")) as s:
        assert s.read("shop/db").data == {"k": "ns"}
    assert {r.namespace for r in vault.requests if r.path.startswith("/v1/secret")} == {
        "team-a"}


def test_session_repr_and_vars_repr_never_show_the_token(vault: VaultTestServer) -> None:
    token = vault.create_token(ttl=600, policies=["root"])
    vault.kv2_put(path="shop/db", data={"k": "v"})
    with engine.session(engine.token_store(vault), engine.Credentials(token)) as s:
        s.read("shop/db")
        assert token not in repr(s)
        assert token not in str(s)


def test_close_revokes_a_token_obtained_by_login(vault: VaultTestServer) -> None:
    engine.allow_shop(vault)
    vault.kv2_put(path="shop/db", data={"k": "v"})
    with engine.session(engine.kubernetes_store(vault), engine.Credentials("jwt-sync")) as s:
        s.read("shop/db")
    assert vault.count("/v1/auth/token/revoke-self") == 1
    assert len(vault.core.tokens) == 1  # only root is left


def test_failed_early_renewal_keeps_the_live_token_and_retries_later(
        vault: VaultTestServer, clock: ManualClock) -> None:
    engine.allow_shop(vault, token_ttl=300)
    vault.kv2_put(path="shop/db", data={"k": "v"})
    vault.faults.force_status("auth/token/renew-self", 500, times=1)
    with engine.session(engine.kubernetes_store(vault), engine.Credentials("jwt-sync"),
                        now=clock) as s:
        s.read("shop/db")
        clock.advance(210)
        assert s.read("shop/db").data == {"k": "v"}  # renewal failed, the token still works
        s.read("shop/db")  # no renewal storm: the retry is scheduled, not per read
        assert vault.count(RENEW) == 1
        clock.advance(31)
        s.read("shop/db")
        assert vault.count(RENEW) == 2
    assert vault.count(LOGIN) == 1


def test_a_token_past_its_lease_is_replaced_before_the_read(vault: VaultTestServer,
                                                            clock: ManualClock) -> None:
    engine.allow_shop(vault, token_ttl=300)
    vault.kv2_put(path="shop/db", data={"k": "v"})
    with engine.session(engine.kubernetes_store(vault), engine.Credentials("jwt-sync"),
                        now=clock) as s:
        s.read("shop/db")
        clock.advance(301)
        vault.clear_requests()
        s.read("shop/db")
        assert [r.path for r in vault.requests] == ["/v1/auth/kubernetes/login",
                                                    "/v1/secret/data/shop/db"]
