"""A faithful Vault test server for sealops' tests (standard library only).

Built from the documented Vault HTTP API (/work/shared/VAULT-API.md), not from what sealops'
client sends, and checked against the real `hvac` client by
tests/integration/vault/test_server_*.py.

    server      VaultTestServer: start/stop, state helpers (KV, tokens, policies, roles)
    faults      Faults: sealed, uninitialized, forced statuses, delays, dropped connections
    clock       ManualClock: drive TTL expiry without sleeping
    wire        HTTP parsing and JSON answers        routes  dispatch, ACL, sys/health
    kv          KV v1 and v2 engines                 auth    token store, kubernetes, approle
    state       namespaces, mounts, tokens, policies  api    Call/Reply and Vault's envelope
"""

from __future__ import annotations

from tests.vaultserver.clock import ManualClock
from tests.vaultserver.faults import Faults
from tests.vaultserver.server import VaultTestServer
from tests.vaultserver.state import RecordedRequest, TokenReview

__all__ = ["Faults", "ManualClock", "RecordedRequest", "TokenReview", "VaultTestServer"]
