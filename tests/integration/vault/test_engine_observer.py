"""What a VaultSession reports to its observer (the controller's Vault metrics), against the
Vault test server with real hvac: every request's status code, logins and renewals with their
outcome, and nothing that names a token or a value."""

from __future__ import annotations

import pytest

from controller import metrics
from controller.vault import client
from sealer import errors
from tests.integration.vault import engine
from tests.vaultserver import ManualClock, VaultTestServer

pytestmark = pytest.mark.integration


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def request(self, code: str) -> None:
        self.events.append(("request", code))

    def login(self, outcome: str) -> None:
        self.events.append(("login", outcome))

    def renewal(self, outcome: str) -> None:
        self.events.append(("renewal", outcome))


def test_requests_logins_and_renewals_are_reported_with_codes_and_outcomes(
        vault: VaultTestServer, clock: ManualClock) -> None:
    engine.allow_shop(vault, token_ttl=300)
    vault.kv2_put(path="shop/db", data={"k": "canary-observer-value"})
    vault.faults.force_status("auth/token/renew-self", 500, times=1)
    seen = Recorder()
    session = client.VaultSession(engine.kubernetes_store(vault),
                                  credentials=engine.Credentials("jwt-sync"), now=clock,
                                  observer=seen)
    try:
        session.read("shop/db")
        with pytest.raises(errors.VaultError):
            session.read("shop/none")
        clock.advance(210)
        session.read("shop/db")  # the renewal fails (500); the live token still reads
        clock.advance(31)
        session.read("shop/db")  # renewed
    finally:
        session.close()
    assert seen.events[:3] == [("request", "200"), ("login", "Succeeded"), ("request", "200")]
    assert ("request", "404") in seen.events
    assert [e for e in seen.events if e[0] == "renewal"] == [
        ("renewal", "VaultUnavailable"), ("renewal", "Succeeded")]
    assert seen.events.count(("request", "500")) == 1
    assert seen.events[-1] == ("request", "204")  # revoke-self on close
    assert "canary-observer-value" not in repr(seen.events)


def test_a_failed_login_and_an_unreachable_vault_are_reported(vault: VaultTestServer) -> None:
    seen = Recorder()
    config = engine.kubernetes_store(vault)  # no role "shop" configured: the login is refused
    session = client.VaultSession(config, credentials=engine.Credentials("jwt-sync"),
                                  observer=seen)
    with pytest.raises(errors.VaultError):
        session.read("shop/db")
    session.close()
    assert seen.events[0][0] == "request" and seen.events[0][1].startswith("4")
    assert seen.events[1][0] == "login" and seen.events[1][1] != "Succeeded"

    unreachable = engine.token_store(vault, server="http://127.0.0.1:9")
    m = metrics.Metrics(process=False)
    gone = client.VaultSession(unreachable, credentials=engine.Credentials("root"),
                               observer=m.vault_observer("VaultStore/shop/vault"), timeout=2)
    with pytest.raises(errors.VaultError):
        gone.read("shop/db")
    gone.close()
    text = m.render().decode()
    assert 'sealops_vault_requests_total{code="error",store="VaultStore/shop/vault"} 1.0' in text
    assert 'outcome="VaultUnavailable",store="VaultStore/shop/vault"} 1.0' in text
