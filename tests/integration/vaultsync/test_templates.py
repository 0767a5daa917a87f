"""VaultSecret `spec.target.template.data` against the Vault test server and a real controller:
templates over Vault keys, re-rendered when Vault changes; a template error keeps the Secret."""

from __future__ import annotations

import json
from typing import Any

from tests.integration.controller_fixtures import StartController
from tests.integration.vaultsync import helpers
from tests.vaultserver import VaultTestServer

TEMPLATES = {"dsn": "postgres://{{ user }}:{{ password }}@db/shop",
             "auth": "{{ (user ~ ':' ~ password)|b64enc }}", "password": None}


def test_a_template_renders_vault_keys_and_follows_a_vault_change(
    kube: Any, namespace: str, start_controller: StartController, vault: VaultTestServer,
    shop_token: str,
) -> None:
    vault.kv2_put(path="shop/db", data={"user": "shop", "password": "pw-1"})
    helpers.token_store(kube, namespace, vault, shop_token)
    start_controller(watch=namespace)
    helpers.vault_secret(kube, namespace, "db", helpers.simple_spec(
        target={"template": {"data": TEMPLATES}}))

    helpers.wait_data(kube, namespace, "db", {
        "user": b"shop", "dsn": b"postgres://shop:pw-1@db/shop", "auth": b"c2hvcDpwdy0x"})
    vault.kv2_put(path="shop/db", data={"user": "shop", "password": "pw-2"})
    helpers.wait_data(kube, namespace, "db", {
        "user": b"shop", "dsn": b"postgres://shop:pw-2@db/shop", "auth": b"c2hvcDpwdy0y"},
        timeout=60)
    assert helpers.wait_reason(kube, namespace, "db", "Synced")["status"] == "True"


def test_a_template_error_names_the_key_and_keeps_the_last_secret(
    kube: Any, namespace: str, start_controller: StartController, vault: VaultTestServer,
    shop_token: str,
) -> None:
    canary = "vault-canary-5b1d77e0"
    vault.kv2_put(path="shop/db", data={"user": "shop", "password": canary})
    helpers.token_store(kube, namespace, vault, shop_token)
    ctl = start_controller(watch=namespace)
    helpers.vault_secret(kube, namespace, "db", helpers.simple_spec(
        target={"template": {"data": {"dsn": "{{ user }}:{{ password }}"}}}))
    good = helpers.wait_data(kube, namespace, "db", {
        "user": b"shop", "password": canary.encode(), "dsn": f"shop:{canary}".encode()})

    live = kube.get(helpers.VAULT_SECRETS, "db", namespace=namespace)
    live["spec"]["target"]["template"]["data"] = {"dsn": "{{ password|toJson }}{{ pasword }}"}
    kube.replace(helpers.VAULT_SECRETS, live, namespace=namespace)

    cond = helpers.wait_reason(kube, namespace, "db", "TemplateError", timeout=60)
    assert cond["status"] == "False"
    assert cond["message"] == (
        f"VaultSecret {namespace}/db spec.target.template.data key 'dsn': the template reads "
        "item 'pasword', which does not exist (use default to allow a missing item)")
    after = helpers.get_secret(kube, namespace, "db")
    assert after is not None
    assert after["metadata"]["resourceVersion"] == good["metadata"]["resourceVersion"]
    sinks = json.dumps([ctl.log_text(), helpers.events_of(kube, namespace),
                        kube.list(helpers.VAULT_SECRETS, namespace=namespace)])
    assert canary not in sinks
