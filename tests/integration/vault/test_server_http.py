"""The test server's HTTP surface: sys/health, error bodies and headers, faults, recording."""

from __future__ import annotations

import time
from typing import Any

import hvac
import hvac.exceptions
import pytest
import requests

from tests.vaultserver import VaultTestServer

pytestmark = pytest.mark.integration

ROOT = {"X-Vault-Token": "root"}
HEALTH_FIELDS = {"initialized", "sealed", "standby", "performance_standby",
                 "replication_performance_mode", "replication_dr_mode", "server_time_utc",
                 "version"}


def _health(http: requests.Session, vault: VaultTestServer, **params: str) -> Any:
    return http.get(f"{vault.url}/v1/sys/health", params=params, timeout=5)


def test_health_of_an_active_node_is_200_with_the_documented_body(
        vault: VaultTestServer, http: requests.Session) -> None:
    response = _health(http, vault)
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= HEALTH_FIELDS | {"cluster_name", "cluster_id"}
    assert (body["initialized"], body["sealed"], body["standby"]) == (True, False, False)


@pytest.mark.parametrize(("switch", "code"), [("sealed", 503), ("uninitialized", 501),
                                              ("standby", 429), ("performance_standby", 473),
                                              ("dr_secondary", 472)])
def test_health_codes_follow_the_node_state_and_still_carry_a_body(
        vault: VaultTestServer, http: requests.Session, switch: str, code: int) -> None:
    setattr(vault.faults, switch, True)
    response = _health(http, vault)
    assert response.status_code == code
    assert set(response.json()) >= HEALTH_FIELDS


def test_health_query_overrides_change_the_codes(vault: VaultTestServer,
                                                 http: requests.Session) -> None:
    vault.faults.standby = True
    assert _health(http, vault, standbyok="true").status_code == 200
    assert _health(http, vault, standbycode="299").status_code == 299
    vault.faults.standby = False
    vault.faults.performance_standby = True
    assert _health(http, vault, perfstandbyok="true").status_code == 200
    assert _health(http, vault, performancestandbycode="200").status_code == 200
    vault.faults.performance_standby = False
    vault.faults.sealed = True
    assert _health(http, vault, sealedcode="200").status_code == 200
    vault.faults.sealed = False
    assert _health(http, vault, activecode="204").status_code == 204


def test_health_head_has_no_body_and_hvac_reads_it_without_raising(
        vault: VaultTestServer) -> None:
    vault.faults.sealed = True
    client = hvac.Client(url=vault.url, token="")
    try:
        head = client.sys.read_health_status(method="HEAD")
        get = client.sys.read_health_status(method="GET")
    finally:
        client.adapter.close()
    assert head.status_code == 503 and head.content == b""
    assert get.status_code == 503 and get.json()["sealed"] is True


def test_sealed_vault_answers_503_to_everything_else(vault: VaultTestServer,
                                                     hvac_root: Any) -> None:
    vault.kv2_put(path="a", data={"k": "v"})
    vault.faults.sealed = True
    with pytest.raises(hvac.exceptions.VaultDown) as info:
        hvac_root.secrets.kv.v2.read_secret_version(path="a", raise_on_deleted_version=True)
    assert info.value.errors == ["Vault is sealed"]
    with pytest.raises(hvac.exceptions.VaultDown):
        hvac_root.auth.token.lookup_self()


def test_uninitialized_vault_answers_501(vault: VaultTestServer, hvac_root: Any) -> None:
    vault.faults.uninitialized = True
    with pytest.raises(hvac.exceptions.VaultNotInitialized):
        hvac_root.auth.token.lookup_self()


def test_forced_429_carries_retry_after_and_rate_limit_headers(
        vault: VaultTestServer, http: requests.Session, hvac_root: Any) -> None:
    vault.kv2_put(path="a", data={"k": "v"})
    vault.faults.force_status("secret/data/*", 429, retry_after=7, times=2)
    response = http.get(f"{vault.url}/v1/secret/data/a", headers=ROOT, timeout=5)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert {"X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Reset"} <= set(
        response.headers)
    assert response.json() == {"errors": ["rate limit quota exceeded"]}
    with pytest.raises(hvac.exceptions.RateLimitExceeded):
        hvac_root.secrets.kv.v2.read_secret_version(path="a", raise_on_deleted_version=True)
    assert hvac_root.secrets.kv.v2.read_secret_version(path="a", raise_on_deleted_version=True)


def test_forced_412_is_an_unexpected_error_in_hvac(vault: VaultTestServer,
                                                   hvac_root: Any) -> None:
    vault.faults.force_status("auth/token/lookup-self", 412)
    with pytest.raises(hvac.exceptions.UnexpectedError) as info:
        hvac_root.auth.token.lookup_self()
    assert info.value.errors == ["required index state not present"]


@pytest.mark.parametrize(("method", "path", "kwargs", "status"), [
    ("GET", "/v1/secret/data/a", {"headers": {}}, 403),
    ("GET", "/v1/nothing/here", {"headers": ROOT}, 404),
    ("GET", "/not-v1", {"headers": ROOT}, 404),
    ("DELETE", "/v1/auth/token/lookup-self", {"headers": ROOT}, 405),
    ("OPTIONS", "/v1/secret/data/a", {"headers": ROOT}, 405),
    ("BREW", "/v1/secret/data/a", {"headers": ROOT}, 405),
    ("POST", "/v1/secret/data/a", {"headers": ROOT, "data": b"{not json"}, 400),
    ("POST", "/v1/secret/data/a", {"headers": ROOT, "json": {"nodata": 1}}, 400),
    ("POST", "/v1/auth/token/renew-self", {"headers": ROOT}, 400),
])
def test_every_error_is_json_with_an_errors_list(
        vault: VaultTestServer, http: requests.Session, method: str, path: str,
        kwargs: dict[str, Any], status: int) -> None:
    response = http.request(method, vault.url + path, timeout=5, **kwargs)
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/json"
    assert isinstance(response.json()["errors"], list)


@pytest.mark.parametrize("status", [500, 502, 503, 412, 429, 400])
def test_forced_statuses_are_json_errors_too(vault: VaultTestServer, http: requests.Session,
                                             status: int) -> None:
    vault.faults.force_status("*", status)
    response = http.get(f"{vault.url}/v1/sys/health", timeout=5)
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["errors"]


def test_unknown_route_names_the_route(vault: VaultTestServer, http: requests.Session) -> None:
    response = http.get(f"{vault.url}/v1/nothing/here", headers=ROOT, timeout=5)
    assert response.json() == {
        "errors": ['no handler for route "nothing/here". route entry not found.']}


def test_double_slashes_are_tolerated(vault: VaultTestServer, http: requests.Session) -> None:
    vault.kv2_put(path="shop/db", data={"k": "v"})
    response = http.get(f"{vault.url}/v1//secret//data/shop//db", headers=ROOT, timeout=5)
    assert response.status_code == 200 and response.json()["data"]["data"] == {"k": "v"}


def test_hvac_collapses_double_slashes_and_reads(vault: VaultTestServer,
                                                 hvac_root: Any) -> None:
    vault.kv2_put(path="shop/db", data={"k": "v"})
    body = hvac_root.secrets.kv.v2.read_secret_version(path="/shop//db",
                                                       raise_on_deleted_version=True)
    assert body["data"]["data"] == {"k": "v"}


def test_delay_holds_the_answer_and_a_short_client_timeout_fires(
        vault: VaultTestServer, http: requests.Session) -> None:
    vault.faults.delay(0.3, "sys/health", times=1)
    started = time.monotonic()
    assert _health(http, vault).status_code == 200
    assert time.monotonic() - started >= 0.3
    vault.faults.delay(5.0, "sys/health", times=1)
    with pytest.raises(requests.exceptions.ReadTimeout):
        http.get(f"{vault.url}/v1/sys/health", timeout=0.2)


def test_dropped_connection_gets_no_response_at_all(vault: VaultTestServer,
                                                    http: requests.Session) -> None:
    vault.faults.drop_connections("secret/*", times=1)
    with pytest.raises(requests.exceptions.ConnectionError):
        http.get(f"{vault.url}/v1/secret/data/a", headers=ROOT, timeout=5)
    assert _health(http, vault).status_code == 200


def test_forced_raw_response_is_sent_verbatim(vault: VaultTestServer,
                                              http: requests.Session) -> None:
    vault.faults.force_response("secret/data/a", 200, body=b'{"data": 1, "data": 2}')
    response = http.get(f"{vault.url}/v1/secret/data/a", headers=ROOT, timeout=5)
    assert response.content == b'{"data": 1, "data": 2}'


def test_requests_are_recorded_without_token_values(vault: VaultTestServer,
                                                    http: requests.Session) -> None:
    token = vault.create_token(ttl=60)
    http.get(f"{vault.url}/v1/secret/data/a", params={"version": "2"},
             headers={"X-Vault-Token": token, "X-Vault-Namespace": "ns1"}, timeout=5)
    _health(http, vault)
    first, second = vault.requests
    assert (first.method, first.path, first.query) == ("GET", "/v1/secret/data/a",
                                                      (("version", "2"),))
    assert (first.had_token, first.namespace) == (True, "ns1")
    assert (second.had_token, second.namespace) == (False, None)
    assert token not in repr(vault.requests)
