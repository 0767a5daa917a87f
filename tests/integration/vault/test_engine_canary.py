"""Leak hygiene (HOSTILE-INPUTS L1/V38/V40): canary tokens, JWTs and values never reach errors,
tracebacks or DEBUG logs, across the success and failure matrix of the Vault engine."""

from __future__ import annotations

import base64
import binascii
import logging
import secrets
import traceback
import urllib.parse
from collections.abc import Callable
from typing import Any

import pytest

from controller.vault import client, sync
from sealer import errors
from tests.integration.vault import engine
from tests.vaultserver import VaultTestServer

pytestmark = pytest.mark.integration

TAG = secrets.token_hex(6)
VALUE = f"val-canary-{TAG}"
JWT = f"jwt-canary-{TAG}"
META = f"meta-canary-{TAG}"
SPEC = {"dataFrom": [{"path": "shop/db"}]}


def _forms(canary: str) -> list[str]:
    raw = canary.encode()
    return [canary, base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode(),
            binascii.hexlify(raw).decode(), urllib.parse.quote(canary)]


def _seed(vault: VaultTestServer) -> str:
    """A token canary (the store's static token) and value canaries in Vault."""
    vault.set_policy("shop", {"secret/data/shop/*": ["read"]})
    token = vault.create_token(policies=["shop"], ttl=3600)
    vault.kv2_put(path="shop/db", data={"password": VALUE, "also": VALUE + "-2"},
                  custom_metadata={"note": META})
    return token


def _fetch(vault: VaultTestServer, token: str, **session_kw: Any) -> None:
    config = engine.token_store(vault)
    with engine.session(config, engine.Credentials(token), **session_kw) as s:
        sync.fetch(s, spec=SPEC, namespace="shop", store=config)


def _policy_change(vault: VaultTestServer, token: str) -> None:
    vault.set_policy("shop", {})
    _fetch(vault, token)


def _deleted(vault: VaultTestServer, token: str) -> None:
    vault.kv2_delete_version(path="shop/db")
    _fetch(vault, token)


def _destroyed(vault: VaultTestServer, token: str) -> None:
    vault.kv2_destroy_version(path="shop/db", versions=[1])
    _fetch(vault, token)


def _sealed(vault: VaultTestServer, token: str) -> None:
    vault.faults.sealed = True
    _fetch(vault, token)


def _rate_limited(vault: VaultTestServer, token: str) -> None:
    vault.faults.force_status("secret/*", 429, retry_after=3)
    _fetch(vault, token)


def _echoing_500(vault: VaultTestServer, token: str) -> None:
    vault.faults.force_status("secret/*", 500, errors=[f"boom {token} {VALUE}"])
    _fetch(vault, token)


def _timeout(vault: VaultTestServer, token: str) -> None:
    vault.faults.delay(5.0, "secret/*")
    _fetch(vault, token, timeout=0.2)


def _dropped(vault: VaultTestServer, token: str) -> None:
    vault.faults.drop_connections("secret/*")
    _fetch(vault, token)


def _non_string(vault: VaultTestServer, token: str) -> None:
    vault.kv2_put(path="shop/db", data={"password": VALUE, "port": 5432})
    _fetch(vault, token)


def _bad_key(vault: VaultTestServer, token: str) -> None:
    vault.kv2_put(path="shop/db", data={"password": VALUE, "../x": VALUE})
    _fetch(vault, token)


def _duplicate_json(vault: VaultTestServer, token: str) -> None:
    body = ('{"data": {"data": {"password": "' + VALUE + '", "password": "' + VALUE
            + '-b"}, "metadata": {"version": 1}}}')
    vault.faults.force_response("secret/data/*", 200, body=body.encode())
    _fetch(vault, token)


def _malformed_json(vault: VaultTestServer, token: str) -> None:
    vault.faults.force_response("secret/data/*", 200, body=f'{{"data": "{VALUE}'.encode())
    _fetch(vault, token)


def _bad_static_token(vault: VaultTestServer, token: str) -> None:
    vault.revoke_token(token)
    _fetch(vault, token)


def _login_echoes_the_jwt(vault: VaultTestServer, token: str) -> None:
    vault.add_kubernetes_role(role="shop", bound_service_account_names=["*"],
                              bound_service_account_namespaces=["*"])
    vault.faults.force_status("auth/kubernetes/login", 400, errors=[f"bad jwt {JWT}"])
    config = engine.kubernetes_store(vault)
    with engine.session(config, engine.Credentials(JWT)) as s:
        sync.fetch(s, spec=SPEC, namespace="shop", store=config)


def _login_refused_after_expiry(vault: VaultTestServer, token: str) -> None:
    engine.allow_shop(vault)
    vault.set_tokenreview(lambda jwt, aud: {
        "authenticated": jwt == JWT,
        "user": {"username": "system:serviceaccount:shop:sync"}})
    config = engine.kubernetes_store(vault)
    with engine.session(config, engine.Credentials(JWT)) as s:
        s.read("shop/db")
        vault.revoke_all_tokens()
        vault.set_tokenreview(lambda jwt, aud: {"authenticated": False})
        sync.fetch(s, spec=SPEC, namespace="shop", store=config)


SCENARIOS: list[Callable[[VaultTestServer, str], None]] = [
    _policy_change, _deleted, _destroyed, _sealed, _rate_limited, _echoing_500, _timeout,
    _dropped, _non_string, _bad_key, _duplicate_json, _malformed_json, _bad_static_token,
    _login_echoes_the_jwt, _login_refused_after_expiry,
]


def _engine_locals(err: BaseException) -> str:
    """What a locals-printing handler shows for the engine's frames (the tests' own frames
    hold the canaries on purpose)."""
    captured = traceback.TracebackException.from_exception(err, capture_locals=True)
    return "\n".join(f"{frame.name}: {frame.locals}" for frame in captured.stack
                     if "/controller/" in frame.filename)


def _assert_clean(text: str, canaries: list[str], where: str) -> None:
    for canary in canaries:
        for form in _forms(canary):
            assert form not in text, f"canary leaked into {where}"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__.strip("_"))
def test_no_canary_reaches_errors_tracebacks_or_debug_logs(
        vault: VaultTestServer, caplog: pytest.LogCaptureFixture,
        scenario: Callable[[VaultTestServer, str], None]) -> None:
    caplog.set_level(logging.DEBUG)
    token = _seed(vault)
    canaries = [token, VALUE, JWT, META]
    with pytest.raises(errors.VaultError) as info:
        scenario(vault, token)
    err = info.value
    assert err.__cause__ is None and err.__context__ is None
    _assert_clean(str(err), canaries, "str()")
    _assert_clean(repr(err), canaries, "repr()")
    _assert_clean("".join(traceback.format_exception(err)), canaries, "the traceback")
    _assert_clean(repr(vars(err)), canaries, "the exception's attributes")
    _assert_clean(_engine_locals(err), canaries, "a locals-printing traceback")
    _assert_clean(caplog.text, canaries, "the DEBUG log")


def test_a_successful_sync_logs_no_canary_at_debug(
        vault: VaultTestServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    token = _seed(vault)
    config = engine.token_store(vault)
    with engine.session(config, engine.Credentials(token)) as s:
        result = sync.fetch(s, spec=SPEC, namespace="shop", store=config)
        session_repr = repr(s)
    assert result.data["password"] == VALUE.encode()
    for text, where in [(caplog.text, "the DEBUG log"), (repr(result), "repr(FetchResult)"),
                        (session_repr, "repr(VaultSession)")]:
        _assert_clean(text, [token, VALUE, META], where)


def test_traceback_frames_hold_no_hvac_exception_with_response_text(
        vault: VaultTestServer) -> None:
    token = _seed(vault)
    vault.kv2_delete_version(path="shop/db")
    with pytest.raises(errors.VaultError) as info:
        _fetch(vault, token)
    frames = traceback.extract_tb(info.value.__traceback__)
    assert all("hvac" not in frame.filename for frame in frames)
    assert client.VaultSession.__module__ == "controller.vault.client"
