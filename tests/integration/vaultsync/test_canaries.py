"""Malformed Vault payloads (HOSTILE-INPUTS V40) and the leak sweep (L51): canary values in Vault
and a canary token never reach the controller's log, Events, status or any annotation, also
when a template fails on the value itself."""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from controller import cli
from sealer.kube import client
from tests.integration.controller_fixtures import RunningController, StartController
from tests.integration.vaultsync import helpers
from tests.vaultserver import ManualClock, VaultTestServer

TAG = secrets.token_hex(6)
VALUE = f"val-canary-{TAG}"
TOKEN = f"tok-canary-{TAG}"
SECRET_ID = f"sid-canary-{TAG}"


def _forms(canary: str) -> list[str]:
    raw = canary.encode()
    return [canary, base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode(),
            binascii.hexlify(raw).decode(), urllib.parse.quote(canary)]


def _dup_body(value: str) -> bytes:
    meta = ('"metadata": {"created_time": "2024-01-01T00:00:00Z", "custom_metadata": null, '
            '"deletion_time": "", "destroyed": false, "version": 1}')
    return (f'{{"data": {{"data": {{"a": "{value}", "a": "{value}-2"}}, {meta}}}}}').encode()


@pytest.fixture
def canary_vault() -> Iterator[VaultTestServer]:
    """A Vault whose root token is itself a canary (the store's token)."""
    with VaultTestServer.start(root_token=TOKEN, clock=ManualClock()) as server:
        yield server


def test_malformed_payloads_are_refused_naming_the_key_but_never_the_value(
    kube: Any, namespace: str, start_controller: StartController, vault: VaultTestServer,
    shop_token: str,
) -> None:
    vault.kv2_put(path="shop/types", data={"count": 5, "name": VALUE})
    vault.kv2_put(path="shop/keys", data={"../x": VALUE})
    vault.kv2_put(path="shop/big", data={"blob": VALUE * (1 + (1 << 20) // len(VALUE))})
    vault.faults.force_response("secret/data/shop/dup", 200, body=_dup_body(VALUE))
    helpers.token_store(kube, namespace, vault, shop_token)
    start_controller(watch=namespace)
    expected = {"types": ("InvalidValue", "'count'"), "keys": ("InvalidKey", "'../x'"),
                "big": ("TooLarge", "'blob'"), "dup": ("InvalidPayload", "'a'")}
    for name in expected:
        helpers.vault_secret(kube, namespace, name, helpers.simple_spec(f"shop/{name}"))

    for name, (reason, key) in expected.items():
        cond = helpers.wait_reason(kube, namespace, name, reason)
        assert key in cond["message"], cond["message"]
        assert VALUE not in cond["message"]
        assert helpers.get_secret(kube, namespace, name) is None


def _sinks(kube: Any, namespace: str, ctl: RunningController) -> dict[str, str]:
    """Every place a leak would be visible, as text (Secret data excluded: it is the payload)."""
    annotations, managed = [], []
    for res in (client.SECRETS, client.CONFIGMAPS, client.EVENTS, helpers.VAULT_SECRETS,
                helpers.VAULT_STORES):
        for obj in kube.list(res, namespace=namespace):
            annotations.append(obj["metadata"].get("annotations") or {})
            managed.append(obj["metadata"].get("managedFields") or [])
    return {
        "controller log": ctl.log_text(),
        "events": json.dumps(kube.list(client.EVENTS, namespace=namespace)),
        "vault secrets": json.dumps(kube.list(helpers.VAULT_SECRETS, namespace=namespace)),
        "vault stores": json.dumps(kube.list(helpers.VAULT_STORES, namespace=namespace)),
        "annotations": json.dumps(annotations),
        "managed fields": json.dumps(managed),
        "metrics": ctl.get("/metrics")[1].decode(),
    }


def _drive_the_failure_matrix(kube: Any, namespace: str, vault: VaultTestServer) -> None:
    vault.kv2_put(path="shop/gone", data={"password": VALUE + "-gone"})
    vault.kv2_put(path="shop/denied", data={"password": VALUE + "-denied"})
    vault.faults.force_response("secret/data/shop/dup", 200, body=_dup_body(VALUE))
    vault.faults.force_status("secret/data/shop/limited", 429, retry_after=1, times=2)
    vault.kv2_put(path="shop/limited", data={"password": VALUE + "-limited"})
    vault.set_policy("shop", {"secret/data/shop/*": ["read"],
                              "secret/data/shop/denied": ["deny"]})
    # A template that fails next to the value (a typo beside a canary): the message names the
    # key; b64dec of a canary renders (filters never fail on a value, see sealer.templating).
    helpers.vault_secret(kube, namespace, "templ", helpers.simple_spec(target={"template": {
        "data": {"dsn": "{{ password|b64dec }}{{ pasword }}", "ok": "{{ user|upper }}"}}}))
    for name in ("gone", "denied", "dup", "limited"):
        spec = helpers.simple_spec(f"shop/{name}")
        if name == "denied":  # the root token may read anything; the AppRole token may not
            spec["storeRef"] = {"name": "approle"}
        helpers.vault_secret(kube, namespace, name, spec)
    helpers.wait_reason(kube, namespace, "gone", "Synced")
    vault.kv2_delete_version(path="shop/gone")
    helpers.wait_reason(kube, namespace, "gone", "VersionDeleted")
    helpers.wait_reason(kube, namespace, "denied", "PermissionDenied")
    helpers.wait_reason(kube, namespace, "dup", "InvalidPayload")
    helpers.wait_reason(kube, namespace, "limited", "Synced", timeout=40)
    assert "key 'dsn'" in helpers.wait_reason(kube, namespace, "templ", "TemplateError")["message"]
    vault.faults.sealed = True
    helpers.wait_reason(kube, namespace, "db", "VaultSealed")
    vault.faults.sealed = False
    helpers.wait_reason(kube, namespace, "db", "Synced", timeout=40)


def test_no_canary_reaches_the_log_events_status_or_annotations(
    kube: Any, namespace: str, start_controller: StartController,
    canary_vault: VaultTestServer, kubeconfig: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    vault = canary_vault
    helpers.allow_shop(vault)
    vault.kv2_put(path="shop/db", data={"password": VALUE, "user": VALUE + "-user"})
    vault.add_approle(role_id="shop-role", secret_id=SECRET_ID, policies=["shop"])
    helpers.put_secret(kube, namespace, "approle", {"secret-id": SECRET_ID})
    helpers.token_store(kube, namespace, vault, TOKEN)
    helpers.create_store(kube, namespace, "approle", {
        "server": vault.url, "auth": {"appRole": {
            "roleId": "shop-role", "secretRef": {"name": "approle", "key": "secret-id"}}}})
    ctl = start_controller(watch=namespace)
    helpers.vault_secret(kube, namespace, "db", helpers.simple_spec())
    helpers.vault_secret(kube, namespace, "via-approle", {
        "storeRef": {"name": "approle"}, "refreshInterval": "2s",
        "data": [{"secretKey": "pw", "remoteRef": {"path": "shop/db", "property": "password"}}]})
    helpers.wait_data(kube, namespace, "db", {"password": VALUE.encode(),
                                              "user": (VALUE + "-user").encode()})
    helpers.wait_data(kube, namespace, "via-approle", {"pw": VALUE.encode()})
    _drive_the_failure_matrix(kube, namespace, vault)
    sinks = _sinks(kube, namespace, ctl)
    sinks["sealops get/reconcile"] = _status_commands(kubeconfig, namespace, capsys)

    hits = [(sink, form) for sink, text in sinks.items()
            for canary in (VALUE, TOKEN, SECRET_ID) for form in _forms(canary) if form in text]
    assert hits == []
    # The metrics page is a real sink: it names the store and the outcomes seen.
    assert f'store="VaultStore/{namespace}/approle"' in sinks["metrics"]
    assert 'outcome="PermissionDenied"' in sinks["metrics"]
    # Positive control: the same search finds the canary where it belongs, in Secret data.
    secret = helpers.get_secret(kube, namespace, "db")
    assert secret is not None and any(form in json.dumps(secret["data"]) for form in _forms(VALUE))


def _status_commands(kubeconfig: Path, namespace: str,
                     capsys: pytest.CaptureFixture[str]) -> str:
    """What `sealops get` and `sealops reconcile --with-source` print for the same objects."""
    outputs = []
    for args, expected in ((["get", "all"], 0), (["reconcile", "vaultsecret", "db",
                                                  "--with-source"], 0),
                           (["reconcile", "vaultsecret", "denied", "--with-source"], 1),
                           (["reconcile", "vaultsecret", "dup"], 1)):
        code = cli.main(["--kubeconfig", str(kubeconfig), *args, "-n", namespace])
        captured = capsys.readouterr()
        assert code == expected, (args, captured)
        outputs.append(captured.out + captured.err)
    return "\n".join(outputs)
