"""A total-time limit per Vault request: a Vault trickling its answer (headers included) one
byte at a time never trips a per-read timeout, yet the session gives up and frees its thread."""

from __future__ import annotations

import threading

import pytest

from sealer import errors
from tests.integration.vault import engine
from tests.vaultserver import VaultTestServer

pytestmark = pytest.mark.integration


def test_a_vault_dripping_one_byte_at_a_time_is_cut_off_as_a_timeout(
    vault: VaultTestServer,
) -> None:
    vault.kv2_put(path="shop/db", data={"password": "drip-canary-value"})
    # Each byte comes well within the 1 s read timeout; the answer as a whole would take
    # minutes, and without a total limit the read would wait for all of it and succeed.
    vault.faults.drip("secret/data/*", interval=0.4)
    with engine.session(engine.token_store(vault), engine.Credentials("root"),
                        timeout=1.0) as s:
        with pytest.raises(errors.VaultError) as info:
            s.read("shop/db")
        assert info.value.reason == "VaultUnavailable"
        assert "timed out" in str(info.value)
        assert "drip-canary-value" not in str(info.value)
        vault.faults.clear()
        assert dict(s.read("shop/db").data) == {"password": "drip-canary-value"}


def test_a_dripping_vault_does_not_keep_the_reading_thread(vault: VaultTestServer) -> None:
    vault.kv2_put(path="shop/db", data={"password": "x"})
    vault.faults.drip("secret/data/*", interval=0.4)
    outcome: list[str] = []
    with engine.session(engine.token_store(vault), engine.Credentials("root"),
                        timeout=1.0) as s:

        def read() -> None:
            try:
                s.read("shop/db")
            except errors.VaultError as exc:
                outcome.append(exc.reason)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        # A hang guard, not a budget: the drip alone would take minutes to finish.
        reader.join(timeout=60)
        assert not reader.is_alive()
    assert outcome == ["VaultUnavailable"]
