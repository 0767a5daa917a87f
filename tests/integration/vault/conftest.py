"""Fixtures for the Vault server/engine tests: a fresh test server per test, on a manual clock."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import hvac
import pytest
import requests

from tests.vaultserver import ManualClock, VaultTestServer


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def vault(clock: ManualClock) -> Iterator[VaultTestServer]:
    with VaultTestServer.start(root_token="root", clock=clock) as server:
        yield server


@pytest.fixture
def hvac_root(vault: VaultTestServer) -> Iterator[Any]:
    """The real hvac client, authenticated with the root token."""
    client = hvac.Client(url=vault.url, token="root")
    try:
        yield client
    finally:
        client.adapter.close()


@pytest.fixture
def http() -> Iterator[requests.Session]:
    """Raw HTTP, for status codes and headers exactly as sent."""
    with requests.Session() as session:
        yield session
