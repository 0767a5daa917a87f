"""Key generations in a real browser: two generations the controller publishes (one restored
from three days ago, one it made at start because of --key-cutoff-time) and values sealed to
each, plus values sealed to a generation the cluster never had: each is counted for the key id
in its envelope header, and only the newest generation's age is claimed."""

from __future__ import annotations

import datetime
import re
import secrets
from pathlib import Path
from typing import Any

from controller.dashboard import kinds
from controller.keys import stored
from sealer.crypto import keys
from sealer.kube import client
from tests.harness.waiting import wait_for
from tests.integration.controller_fixtures import StartController, sealed_secret
from tests.integration.dashboard.conftest import Browser, StartDashboard, rows_of


def _cells(dom: str, key_id: str) -> list[str]:
    """The cells of the key generations row for `key_id`."""
    row = dom.split(f'data-key-id="{key_id}"', 1)[1].split("</tr>", 1)[0]
    return [" ".join(cell.split("</td>", 1)[0].split()) for cell in row.split("<td")[1:]]


def _strip(cell: str) -> str:
    text = cell.split(">", 1)[1]
    while "<" in text:
        head, _, rest = text.partition("<")
        text = head + rest.partition(">")[2]
    return text.strip()


def test_values_per_generation_and_the_newest_generations_age(
        kube: Any, kubeconfig: Path, namespace: str, start_controller: StartController,
        start_dashboard: StartDashboard, browser: Browser) -> None:
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    old = keys.generate(now=now - datetime.timedelta(days=3), rsa_bits=2048)
    stranger = keys.generate(now=now, rsa_bits=2048)
    key_ns = f"keys-{secrets.token_hex(3)}"
    kube.create(client.NAMESPACES, {"metadata": {"name": key_ns}})
    kube.create(client.SECRETS, stored.to_secret(old, namespace=key_ns), namespace=key_ns)
    ctl = start_controller(watch=namespace, key_namespace=key_ns, args=(
        "--key-cutoff-time", now.strftime("%Y-%m-%dT%H:%M:%SZ")))
    new = ctl.public()
    assert new.key_id != old.key_id

    for name, public, items in (("on-old", old.public(), 2), ("on-new", new, 1),
                                ("on-stranger", stranger.public(), 3)):
        kube.create(kinds.SEALED_SECRETS, sealed_secret(
            namespace=namespace, name=name, public=public,
            data={f"k{i}": b"v" for i in range(items)}), namespace=namespace)
    wait_for(lambda: all(
        any(c.get("type") == "Ready" and c.get("status") == "True" for c in
            ((kube.get(kinds.SEALED_SECRETS, n, namespace=namespace) or {}).get("status")
             or {}).get("conditions") or [])
        for n in ("on-old", "on-new")), timeout=120, what="both SealedSecrets unsealed")

    board = start_dashboard(kubeconfig=kubeconfig, args=(
        "-n", namespace, "--controller-namespace", key_ns, "--refresh", "0"))
    dom = browser.dom(f"{board.url}keys")
    newest, older, unknown = (
        [_strip(c) for c in _cells(dom, k)]
        for k in (new.key_id_hex, old.key_id_hex, stranger.key_id_hex))
    assert newest[1] == "newest (seals)" and newest[3:] == ["1", "1"], newest
    assert re.fullmatch(r"\d+[sm]", newest[2]), newest  # its certificate's NotBefore: now
    assert older[1:] == ["active (opens)", "unknown", "2", "1"], older
    assert unknown[1:] == ["not published", "unknown", "3", "1"], unknown
    assert dom.index(new.key_id_hex) < dom.index(old.key_id_hex) < dom.index(
        stranger.key_id_hex)
    assert f'class="status-failed" data-key-id="{stranger.key_id_hex}"' in dom

    secrets_rows = {r.name: r for r in rows_of(browser.dom(f"{board.url}secrets"))}
    assert old.key_id_hex in secrets_rows[f"{namespace}/on-old"].text
    assert new.key_id_hex in secrets_rows[f"{namespace}/on-new"].text
    browser.screenshot(f"{board.url}keys", "dashboard-key-generations.png")
