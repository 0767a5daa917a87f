"""The same documented facts, checked against a real Vault when VAULT_ADDR and VAULT_TOKEN are set.

This is what keeps the test server honest: if a fact here fails against real Vault, the test
server (and VAULT-API.md) are wrong. The token needs write access to `$VAULT_KV_MOUNT`
(default `secret`, KV v2, as in `vault server -dev`); everything is written under a random
path and removed afterwards.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from typing import Any

import hvac
import pytest
import requests

from controller.vault import client, store
from sealer import errors

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not (os.environ.get("VAULT_ADDR") and os.environ.get("VAULT_TOKEN")),
                       reason="no real Vault: set VAULT_ADDR and VAULT_TOKEN to run"),
]

MOUNT = os.environ.get("VAULT_KV_MOUNT", "secret")


@pytest.fixture
def real() -> Iterator[tuple[Any, str]]:
    vault = hvac.Client(url=os.environ["VAULT_ADDR"], token=os.environ["VAULT_TOKEN"],
                        namespace=os.environ.get("VAULT_NAMESPACE"))
    base = f"sealops-test-{secrets.token_hex(4)}"
    try:
        yield vault, base
    finally:
        for leaf in ("db", "gone"):
            with contextlib.suppress(hvac.exceptions.VaultError):
                vault.secrets.kv.v2.delete_metadata_and_all_versions(path=f"{base}/{leaf}",
                                                                     mount_point=MOUNT)
        vault.adapter.close()


def _raw(method: str, path: str, **kw: Any) -> requests.Response:
    headers = {"X-Vault-Token": os.environ["VAULT_TOKEN"], **kw.pop("headers", {})}
    if os.environ.get("VAULT_NAMESPACE"):
        headers["X-Vault-Namespace"] = os.environ["VAULT_NAMESPACE"]
    return requests.request(method, f"{os.environ['VAULT_ADDR']}/v1/{path}", headers=headers,
                            timeout=10, **kw)


def test_real_vault_missing_secret_is_404_with_empty_errors(real: tuple[Any, str]) -> None:
    _, base = real
    response = _raw("GET", f"{MOUNT}/data/{base}/none")
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"errors": []}


def test_real_vault_deleted_version_is_404_with_the_full_envelope(real: tuple[Any, str]) -> None:
    vault, base = real
    vault.secrets.kv.v2.create_or_update_secret(path=f"{base}/gone", secret={"k": "v"},
                                                mount_point=MOUNT)
    vault.secrets.kv.v2.delete_latest_version_of_secret(path=f"{base}/gone", mount_point=MOUNT)
    response = _raw("GET", f"{MOUNT}/data/{base}/gone")
    body = response.json()
    assert response.status_code == 404 and "errors" not in body
    assert body["data"]["data"] is None and body["data"]["metadata"]["deletion_time"]


def test_real_vault_list_verb_equals_get_list_true(real: tuple[Any, str]) -> None:
    vault, base = real
    vault.secrets.kv.v2.create_or_update_secret(path=f"{base}/db", secret={"k": "v"},
                                                mount_point=MOUNT)
    verb = _raw("LIST", f"{MOUNT}/metadata/{base}")
    query = _raw("GET", f"{MOUNT}/metadata/{base}/", params={"list": "true"})
    assert verb.json()["data"]["keys"] == query.json()["data"]["keys"] == ["db"]


def test_real_vault_bad_token_is_403_permission_denied(real: tuple[Any, str]) -> None:
    _, base = real
    response = _raw("GET", f"{MOUNT}/data/{base}/db", headers={"X-Vault-Token": "hvs.bogus"})
    assert response.status_code == 403
    assert "permission denied" in " ".join(response.json()["errors"])


def test_real_vault_is_read_by_the_engine(real: tuple[Any, str]) -> None:
    vault, base = real
    vault.secrets.kv.v2.create_or_update_secret(path=f"{base}/db", secret={"k": "v"},
                                                mount_point=MOUNT)
    spec: dict[str, Any] = {"server": os.environ["VAULT_ADDR"], "kv": {"mount": MOUNT},
                            "auth": {"token": {"secretRef": {"name": "t", "key": "token"}}}}
    if os.environ.get("VAULT_NAMESPACE"):
        spec["namespace"] = os.environ["VAULT_NAMESPACE"].strip("/")
    try:
        config = store.parse_store(spec, kind=store.VAULT_STORE, store_namespace="shop")
    except errors.VaultError as err:
        pytest.skip(f"VAULT_ADDR is not a URL a store accepts: {err}")
    session = client.VaultSession(config, credentials=lambda: os.environ["VAULT_TOKEN"])
    try:
        result = session.read(f"{base}/db")
        assert (dict(result.data), result.version) == ({"k": "v"}, 1)
        with pytest.raises(errors.VaultError) as info:
            session.read(f"{base}/none")
        assert info.value.reason == "NotFound"
    finally:
        session.close()
