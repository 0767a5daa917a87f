"""Helpers for the engine tests: stores pointing at a VaultTestServer, and sessions on them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from controller.vault import client, store
from tests.vaultserver import ManualClock, VaultTestServer


def token_store(vault: VaultTestServer, **spec: Any) -> store.StoreConfig:
    return store.parse_store(
        {"server": vault.url, "auth": {"token": {"secretRef": {"name": "t", "key": "token"}}},
         **spec}, kind=store.VAULT_STORE, store_namespace="shop")


def kubernetes_store(vault: VaultTestServer, **spec: Any) -> store.StoreConfig:
    return store.parse_store(
        {"server": vault.url, "auth": {"kubernetes": {
            "role": "shop", "serviceAccountRef": {"name": "sync"}}}, **spec},
        kind=store.VAULT_STORE, store_namespace="shop")


def approle_store(vault: VaultTestServer, **spec: Any) -> store.StoreConfig:
    return store.parse_store(
        {"server": vault.url, "auth": {"appRole": {
            "roleId": "rid", "secretRef": {"name": "approle", "key": "secret-id"}}}, **spec},
        kind=store.VAULT_STORE, store_namespace="shop")


class Credentials:
    """A credentials callable that counts how often the session asks."""

    def __init__(self, value: str) -> None:
        self.value = value
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        return self.value


def accept_sync_sa(jwt: str, audiences: Any) -> dict[str, Any]:
    """TokenReview stand-in: the JWT "jwt-sync" is shop/sync, everything else is refused."""
    if jwt != "jwt-sync":
        return {"authenticated": False}
    return {"authenticated": True, "user": {"username": "system:serviceaccount:shop:sync"}}


def allow_shop(vault: VaultTestServer, *, token_ttl: int = 3600, token_max_ttl: int = 0) -> None:
    """A kubernetes role `shop` for shop/sync with read access to secret/data/shop/*."""
    vault.set_policy("shop", {"secret/data/shop/*": ["read"], "kv/shop/*": ["read"]})
    vault.add_kubernetes_role(role="shop", bound_service_account_names=["sync"],
                              bound_service_account_namespaces=["shop"], policies=["shop"],
                              token_ttl=token_ttl, token_max_ttl=token_max_ttl)
    vault.set_tokenreview(accept_sync_sa)


@contextmanager
def session(config: store.StoreConfig, credentials: Callable[[], str], *,
            now: ManualClock | None = None, timeout: float = 5.0,
            ca_pem: str | None = None) -> Iterator[client.VaultSession]:
    kwargs: dict[str, Any] = {"credentials": credentials, "timeout": timeout, "ca_pem": ca_pem}
    if now is not None:
        kwargs["now"] = now
    vault_session = client.VaultSession(config, **kwargs)
    try:
        yield vault_session
    finally:
        vault_session.close()
