"""The test server's KV v1/v2 engines match the documented API, driven by real hvac and raw HTTP."""

from __future__ import annotations

from typing import Any

import hvac
import hvac.exceptions
import pytest
import requests

from tests.vaultserver import ManualClock, VaultTestServer

pytestmark = pytest.mark.integration

ENVELOPE = {"request_id", "lease_id", "renewable", "lease_duration", "data", "wrap_info",
            "warnings", "auth", "mount_type"}
VERSION_META = {"created_time", "custom_metadata", "deletion_time", "destroyed", "version"}
ROOT = {"X-Vault-Token": "root"}


def _get(http: requests.Session, vault: VaultTestServer, path: str, **kw: Any) -> Any:
    return http.get(f"{vault.url}/v1/{path}", headers=ROOT, timeout=5, **kw)


def test_kv2_read_returns_the_full_envelope_and_version_metadata(
        vault: VaultTestServer, hvac_root: Any) -> None:
    vault.kv2_put(path="shop/db", data={"password": "pw"}, custom_metadata={"team": "shop"})
    body = hvac_root.secrets.kv.v2.read_secret_version(path="shop/db",
                                                       raise_on_deleted_version=True)
    assert set(body) == ENVELOPE
    assert body["data"]["data"] == {"password": "pw"}
    assert set(body["data"]["metadata"]) == VERSION_META
    assert body["data"]["metadata"]["version"] == 1
    assert body["data"]["metadata"]["deletion_time"] == ""
    assert body["data"]["metadata"]["custom_metadata"] == {"team": "shop"}
    assert body["data"]["metadata"]["created_time"].endswith("Z")


def test_kv2_custom_metadata_is_null_when_unset(vault: VaultTestServer, hvac_root: Any) -> None:
    vault.kv2_put(path="a", data={"k": "v"})
    body = hvac_root.secrets.kv.v2.read_secret_version(path="a", raise_on_deleted_version=True)
    assert body["data"]["metadata"]["custom_metadata"] is None


def test_kv2_version_query_reads_an_older_version(vault: VaultTestServer, hvac_root: Any) -> None:
    vault.kv2_put(path="a", data={"k": "one"})
    assert vault.kv2_put(path="a", data={"k": "two"}) == 2
    old = hvac_root.secrets.kv.v2.read_secret_version(path="a", version=1,
                                                      raise_on_deleted_version=True)
    new = hvac_root.secrets.kv.v2.read_secret_version(path="a", raise_on_deleted_version=True)
    assert (old["data"]["data"]["k"], new["data"]["data"]["k"]) == ("one", "two")


def test_kv2_missing_secret_is_404_with_empty_errors(vault: VaultTestServer,
                                                     http: requests.Session) -> None:
    response = _get(http, vault, "secret/data/nope")
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"errors": []}


def test_kv2_missing_version_is_404_with_empty_errors(vault: VaultTestServer,
                                                      http: requests.Session) -> None:
    vault.kv2_put(path="a", data={"k": "v"})
    response = _get(http, vault, "secret/data/a", params={"version": "9"})
    assert (response.status_code, response.json()) == (404, {"errors": []})


def test_kv2_missing_secret_raises_invalid_path_in_hvac(vault: VaultTestServer,
                                                        hvac_root: Any) -> None:
    with pytest.raises(hvac.exceptions.InvalidPath) as info:
        hvac_root.secrets.kv.v2.read_secret_version(path="nope", raise_on_deleted_version=True)
    assert info.value.errors == []


def test_kv2_soft_deleted_version_is_404_with_the_full_envelope(
        vault: VaultTestServer, http: requests.Session) -> None:
    vault.kv2_put(path="a", data={"k": "v"}, custom_metadata={"team": "x"})
    vault.kv2_delete_version(path="a")
    response = _get(http, vault, "secret/data/a")
    body = response.json()
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json"
    assert set(body) == ENVELOPE and "errors" not in body
    assert body["data"]["data"] is None
    assert body["data"]["metadata"]["deletion_time"] != ""
    assert body["data"]["metadata"]["destroyed"] is False
    assert body["data"]["metadata"]["custom_metadata"] == {"team": "x"}


def test_hvac_returns_deleted_version_metadata_only_when_asked(
        vault: VaultTestServer, hvac_root: Any) -> None:
    vault.kv2_put(path="a", data={"k": "v"})
    vault.kv2_delete_version(path="a", versions=[1])
    with pytest.raises(hvac.exceptions.InvalidPath):
        hvac_root.secrets.kv.v2.read_secret_version(path="a", raise_on_deleted_version=True)
    body = hvac_root.secrets.kv.v2.read_secret_version(path="a", raise_on_deleted_version=False)
    assert body["data"]["data"] is None


def test_kv2_destroyed_version_is_404_and_hvac_still_raises(
        vault: VaultTestServer, hvac_root: Any, http: requests.Session) -> None:
    vault.kv2_put(path="a", data={"k": "v"})
    vault.kv2_put(path="a", data={"k": "w"})
    vault.kv2_destroy_version(path="a", versions=[1])
    body = _get(http, vault, "secret/data/a", params={"version": "1"}).json()
    assert body["data"]["data"] is None
    assert body["data"]["metadata"]["destroyed"] is True
    assert body["data"]["metadata"]["deletion_time"] == ""
    with pytest.raises(hvac.exceptions.InvalidPath):
        hvac_root.secrets.kv.v2.read_secret_version(path="a", version=1,
                                                    raise_on_deleted_version=False)


def test_future_deletion_time_still_reads_until_it_passes(
        vault: VaultTestServer, hvac_root: Any, clock: ManualClock) -> None:
    vault.kv2_configure(path="a", delete_version_after="1h")
    vault.kv2_put(path="a", data={"k": "v"})
    body = hvac_root.secrets.kv.v2.read_secret_version(path="a", raise_on_deleted_version=True)
    assert body["data"]["metadata"]["deletion_time"] != ""
    clock.advance(3601)
    with pytest.raises(hvac.exceptions.InvalidPath):
        hvac_root.secrets.kv.v2.read_secret_version(path="a", raise_on_deleted_version=True)


def test_undelete_restores_a_soft_deleted_version(vault: VaultTestServer, hvac_root: Any) -> None:
    vault.kv2_put(path="a", data={"k": "v"})
    vault.kv2_delete_version(path="a")
    vault.kv2_undelete_version(path="a", versions=[1])
    body = hvac_root.secrets.kv.v2.read_secret_version(path="a", raise_on_deleted_version=True)
    assert body["data"]["data"] == {"k": "v"}


def test_max_versions_prunes_the_oldest(vault: VaultTestServer, http: requests.Session) -> None:
    vault.kv2_configure(path="a", max_versions=2)
    for n in range(3):
        vault.kv2_put(path="a", data={"n": str(n)})
    assert _get(http, vault, "secret/data/a", params={"version": "1"}).json() == {"errors": []}
    meta = _get(http, vault, "secret/metadata/a").json()["data"]
    assert (meta["oldest_version"], meta["current_version"]) == (2, 3)


def test_metadata_read_has_the_documented_fields(vault: VaultTestServer,
                                                 hvac_root: Any) -> None:
    vault.kv2_put(path="a", data={"k": "v"})
    vault.kv2_delete_version(path="a")
    meta = hvac_root.secrets.kv.v2.read_secret_metadata(path="a")["data"]
    assert set(meta) == {"cas_required", "created_time", "current_version",
                         "delete_version_after", "max_versions", "oldest_version",
                         "updated_time", "custom_metadata", "versions"}
    assert set(meta["versions"]["1"]) == {"created_time", "deletion_time", "destroyed"}
    assert meta["versions"]["1"]["deletion_time"] != ""


def test_list_is_a_real_verb_and_get_list_true_is_the_same(
        vault: VaultTestServer, http: requests.Session) -> None:
    vault.kv2_put(path="shop/db", data={"k": "v"})
    vault.kv2_put(path="shop/api/key", data={"k": "v"})
    verb = http.request("LIST", f"{vault.url}/v1/secret/metadata/shop", headers=ROOT, timeout=5)
    query = _get(http, vault, "secret/metadata/shop/", params={"list": "true"})
    assert verb.status_code == query.status_code == 200
    assert verb.json()["data"]["keys"] == query.json()["data"]["keys"] == ["api/", "db"]


def test_hvac_lists_with_the_list_verb_and_with_strict_http(vault: VaultTestServer) -> None:
    vault.kv2_put(path="shop/db", data={"k": "v"})
    for strict in (False, True):
        client = hvac.Client(url=vault.url, token="root", strict_http=strict)
        try:
            keys = client.secrets.kv.v2.list_secrets(path="shop")["data"]["keys"]
        finally:
            client.adapter.close()
        assert keys == ["db"]
    assert {r.method for r in vault.requests} == {"LIST", "GET"}


def test_list_of_an_empty_folder_is_404_with_empty_errors(
        vault: VaultTestServer, http: requests.Session) -> None:
    response = http.request("LIST", f"{vault.url}/v1/secret/metadata/none/", headers=ROOT,
                            timeout=5)
    assert (response.status_code, response.json()) == (404, {"errors": []})


def test_writes_through_http_create_versions_and_honour_cas(
        vault: VaultTestServer, hvac_root: Any) -> None:
    kv2 = hvac_root.secrets.kv.v2
    assert kv2.create_or_update_secret(path="a", secret={"k": "1"})["data"]["version"] == 1
    assert kv2.create_or_update_secret(path="a", secret={"k": "2"}, cas=1)["data"]["version"] == 2
    with pytest.raises(hvac.exceptions.InvalidRequest) as info:
        kv2.create_or_update_secret(path="a", secret={"k": "3"}, cas=1)
    assert "check-and-set" in str(info.value)


def test_put_is_the_same_as_post_for_writes(vault: VaultTestServer,
                                            http: requests.Session) -> None:
    response = http.put(f"{vault.url}/v1/secret/data/a", json={"data": {"k": "v"}},
                        headers=ROOT, timeout=5)
    assert response.status_code == 200 and response.json()["data"]["version"] == 1


def test_kv1_read_takes_its_lease_duration_from_a_ttl_key(
        vault: VaultTestServer, hvac_root: Any) -> None:
    vault.kv1_put(path="app", data={"k": "v", "ttl": "1h"})
    vault.kv1_put(path="other", data={"k": "v"})
    body = hvac_root.secrets.kv.v1.read_secret(path="app", mount_point="kv")
    assert set(body) == ENVELOPE
    assert body["data"] == {"k": "v", "ttl": "1h"}
    assert (body["lease_duration"], body["renewable"], body["auth"]) == (3600, False, None)
    other = hvac_root.secrets.kv.v1.read_secret(path="other", mount_point="kv")
    assert other["lease_duration"] == 2764800


def test_kv1_missing_is_404_with_empty_errors(vault: VaultTestServer,
                                              http: requests.Session) -> None:
    vault.enable_kv(mount="kv", version=1)
    response = _get(http, vault, "kv/none")
    assert (response.status_code, response.json()) == (404, {"errors": []})


def test_kv1_write_and_list_over_http(vault: VaultTestServer, hvac_root: Any) -> None:
    vault.enable_kv(mount="kv", version=1)
    hvac_root.secrets.kv.v1.create_or_update_secret(path="a/b", secret={"k": "v"},
                                                    mount_point="kv")
    keys = hvac_root.secrets.kv.v1.list_secrets(path="", mount_point="kv")["data"]["keys"]
    assert keys == ["a/"]
