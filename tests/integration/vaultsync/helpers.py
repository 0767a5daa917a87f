"""Helpers for the Vault sync tests: objects to create, and conditions to wait for."""

from __future__ import annotations

import base64
from typing import Any

from sealer.kube import client
from tests.harness.waiting import wait_for
from tests.integration.controller_fixtures import ready_condition, secret_data
from tests.vaultserver import VaultTestServer

GROUP_VERSION = "sealops.dev/v1alpha1"
VAULT_STORES = client.Resource("sealops.dev", "v1alpha1", "VaultStore", "vaultstores", True)
CLUSTER_VAULT_STORES = client.Resource("sealops.dev", "v1alpha1", "ClusterVaultStore",
                                       "clustervaultstores", False)
VAULT_SECRETS = client.Resource("sealops.dev", "v1alpha1", "VaultSecret", "vaultsecrets", True)
SERVICE_ACCOUNTS = client.Resource("", "v1", "ServiceAccount", "serviceaccounts", True)


def allow_shop(vault: VaultTestServer) -> None:
    vault.set_policy("shop", {"secret/data/shop/*": ["read"], "kv/shop/*": ["read"]})


def put_secret(kube: Any, namespace: str, name: str, data: dict[str, str], *,
               labels: dict[str, str] | None = None) -> dict[str, Any]:
    body = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}}
    created: dict[str, Any] = kube.create(client.SECRETS, body, namespace=namespace)
    return created


def token_store(kube: Any, namespace: str, vault: VaultTestServer, token: str, *,
                name: str = "vault", **spec: Any) -> dict[str, Any]:
    """A VaultStore using a static token kept in the Secret `vault-token`."""
    if kube.get(client.SECRETS, "vault-token", namespace=namespace) is None:
        put_secret(kube, namespace, "vault-token", {"token": token})
    return create_store(kube, namespace, name, {
        "server": vault.url, "kv": {"mount": "secret", "version": 2},
        "auth": {"token": {"secretRef": {"name": "vault-token", "key": "token"}}}, **spec})


def create_store(kube: Any, namespace: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    created: dict[str, Any] = kube.create(VAULT_STORES, {
        "apiVersion": GROUP_VERSION, "kind": "VaultStore",
        "metadata": {"name": name, "namespace": namespace}, "spec": spec}, namespace=namespace)
    return created


def vault_secret(kube: Any, namespace: str, name: str, spec: dict[str, Any], *,
                 annotations: dict[str, str] | None = None) -> dict[str, Any]:
    created: dict[str, Any] = kube.create(VAULT_SECRETS, {
        "apiVersion": GROUP_VERSION, "kind": "VaultSecret",
        "metadata": {"name": name, "namespace": namespace, "annotations": annotations or {}},
        "spec": spec}, namespace=namespace)
    return created


def simple_spec(path: str = "shop/db", *, interval: str = "2s", **extra: Any) -> dict[str, Any]:
    return {"storeRef": {"name": "vault"}, "refreshInterval": interval,
            "dataFrom": [{"path": path}], **extra}


def get_secret(kube: Any, namespace: str, name: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = kube.get(client.SECRETS, name, namespace=namespace)
    return found


def data_of(kube: Any, namespace: str, name: str) -> dict[str, bytes] | None:
    found = get_secret(kube, namespace, name)
    return None if found is None else secret_data(found)


def wait_data(kube: Any, namespace: str, name: str, expected: dict[str, bytes], *,
              timeout: float = 30.0) -> dict[str, Any]:
    wait_for(lambda: data_of(kube, namespace, name) == expected, timeout=timeout,
             interval=0.1, what=f"Secret {name} to hold {sorted(expected)}")
    found = get_secret(kube, namespace, name)
    assert found is not None
    return found


def ready(kube: Any, namespace: str, name: str, *,
          res: client.Resource = VAULT_SECRETS) -> dict[str, Any] | None:
    return ready_condition(kube.get(res, name, namespace=namespace))


def wait_reason(kube: Any, namespace: str | None, name: str, reason: str, *,
                res: client.Resource = VAULT_SECRETS, timeout: float = 30.0) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        cond = ready_condition(kube.get(res, name, namespace=namespace))
        return cond if cond is not None and cond.get("reason") == reason else None

    try:
        found: dict[str, Any] = wait_for(check, timeout=timeout, what=f"{name} {reason}")
    except AssertionError:
        obj = kube.get(res, name, namespace=namespace) or {}
        raise AssertionError(f"{name}: wanted {reason}, status is {obj.get('status')}") from None
    return found


def events_of(kube: Any, namespace: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = kube.list(client.EVENTS, namespace=namespace)
    return items


def reads(vault: VaultTestServer, path: str, *, mount: str = "secret") -> int:
    """KV v2 reads of `path` recorded by the server so far."""
    return vault.count(f"/v1/{mount}/data/{path}", method="GET")


def logins(vault: VaultTestServer) -> int:
    """Logins through an auth method (kubernetes, approle)."""
    return sum(1 for r in vault.requests if r.path.endswith("/login"))


def lookups(vault: VaultTestServer) -> int:
    """Token look-ups: a static token's "login", or a check after a 403."""
    return vault.count("/v1/auth/token/lookup-self")
