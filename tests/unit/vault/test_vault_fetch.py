"""`sync.fetch` over an in-memory reader: paths checked first, one read each, all or nothing."""

from __future__ import annotations

from typing import Any

import pytest

from controller.vault import mapping, store, sync
from sealer import errors

STORE = store.parse_store(
    {"server": "https://vault.example", "pathPrefix": "tenants/{namespace}",
     "auth": {"token": {"secretRef": {"name": "t", "key": "token"}}}},
    kind=store.VAULT_STORE, store_namespace="shop")


class MemoryReader:
    """A Vault stand-in at the session seam: secrets by path, optional failure at one path."""

    def __init__(self, secrets: dict[str, dict[str, object]], *,
                 fail_at: str | None = None) -> None:
        self.secrets = secrets
        self.fail_at = fail_at
        self.calls: list[tuple[str, int | None]] = []

    def read(self, path: str, *, version: int | None = None) -> mapping.ReadResult:
        self.calls.append((path, version))
        if path == self.fail_at:
            raise errors.VaultError(f"Vault denied {path}", reason="PermissionDenied",
                                    retryable=False)
        return mapping.ReadResult(path=path, data=self.secrets[path], version=version or 7)


SPEC: dict[str, Any] = {
    "data": [
        {"secretKey": "user", "remoteRef": {"path": "tenants/shop/db", "property": "user"}},
        {"secretKey": "pw", "remoteRef": {"path": "tenants/shop/db", "property": "pw"}},
        {"secretKey": "old", "remoteRef": {"path": "tenants/shop/db", "property": "pw",
                                           "version": 2}},
    ],
    "dataFrom": [{"path": "tenants/shop/api"}],
}
SECRETS: dict[str, dict[str, object]] = {
    "tenants/shop/db": {"user": "u", "pw": "p"},
    "tenants/shop/api": {"token": "t"},
}


def test_fetch_builds_all_data_reading_each_path_and_version_once() -> None:
    reader = MemoryReader(SECRETS)
    result = sync.fetch(reader, spec=SPEC, namespace="shop", store=STORE)
    assert result.data == {"user": b"u", "pw": b"p", "old": b"p", "token": b"t"}
    assert reader.calls == [("tenants/shop/db", None), ("tenants/shop/db", 2),
                            ("tenants/shop/api", None)]
    assert result.versions == (("tenants/shop/db", 7), ("tenants/shop/db", 2),
                               ("tenants/shop/api", 7))


def test_fetch_refuses_a_path_outside_the_prefix_before_reading_anything() -> None:
    reader = MemoryReader(SECRETS)
    spec = {"data": [*SPEC["data"], {"secretKey": "x",
                                     "remoteRef": {"path": "tenants/bank/db", "property": "pw"}}]}
    with pytest.raises(errors.VaultError) as info:
        sync.fetch(reader, spec=spec, namespace="shop", store=STORE)
    assert info.value.reason == "PathNotAllowed"
    assert reader.calls == []


def test_fetch_is_all_or_nothing_when_a_later_read_fails() -> None:
    reader = MemoryReader(SECRETS, fail_at="tenants/shop/api")
    with pytest.raises(errors.VaultError) as info:
        sync.fetch(reader, spec=SPEC, namespace="shop", store=STORE)
    assert info.value.reason == "PermissionDenied"


def test_fetch_refuses_versions_on_a_kv1_store() -> None:
    kv1 = store.parse_store(
        {"server": "https://vault.example", "kv": {"mount": "kv", "version": 1},
         "auth": {"token": {"secretRef": {"name": "t", "key": "token"}}}},
        kind=store.VAULT_STORE, store_namespace="shop")
    reader = MemoryReader(SECRETS)
    with pytest.raises(errors.VaultError) as info:
        sync.fetch(reader, spec=SPEC, namespace="shop", store=kv1)
    assert info.value.reason == "InvalidSpec"
    assert reader.calls == []


def test_fetch_result_repr_names_keys_not_values() -> None:
    result = sync.fetch(MemoryReader(SECRETS), spec=SPEC, namespace="shop", store=STORE)
    assert "token" in repr(result) and "b't'" not in repr(result)
