"""Fixtures for Vault sync on a real control plane: a Vault test server in this process whose
kubernetes auth asks the control plane's TokenReview API, and a controller per test."""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from sealer.kube import client
from tests.integration.vaultsync import helpers
from tests.vaultserver import ManualClock, VaultTestServer


@pytest.fixture
def clock() -> ManualClock:
    """The Vault server's clock: token TTLs and deletion times move only when told to."""
    return ManualClock()


@pytest.fixture
def vault(kube: Any, clock: ManualClock) -> Iterator[VaultTestServer]:
    with VaultTestServer.start(root_token=f"root-{secrets.token_hex(8)}",
                               clock=clock) as server:

        def review(jwt: str, audiences: Sequence[str]) -> dict[str, Any]:
            body: dict[str, Any] = {"apiVersion": "authentication.k8s.io/v1",
                                    "kind": "TokenReview", "spec": {"token": jwt}}
            if audiences:
                body["spec"]["audiences"] = list(audiences)
            answer = kube.request("POST", "/apis/authentication.k8s.io/v1/tokenreviews",
                                  body=body)
            return dict(answer.get("status") or {})

        server.set_tokenreview(review)
        yield server


@pytest.fixture
def shop_token(vault: VaultTestServer) -> str:
    """A token that may read secret/data/shop/* and kv/shop/*."""
    helpers.allow_shop(vault)
    return vault.create_token(policies=["shop"], ttl=3600)


@pytest.fixture
def other_namespace(kube: Any) -> Iterator[str]:
    name = f"t-{secrets.token_hex(4)}"
    kube.create(client.NAMESPACES, {"metadata": {"name": name}})
    try:
        yield name
    finally:
        kube.delete(client.NAMESPACES, name)


@pytest.fixture
def cluster_store_name(kube: Any) -> Iterator[str]:
    name = f"shared-{secrets.token_hex(4)}"
    try:
        yield name
    finally:
        kube.delete(helpers.CLUSTER_VAULT_STORES, name)
