"""`sealops dashboard` against the real control plane, a real controller and the Vault test
server, loaded by a real headless Chromium: pages render, a failing GitSync is red with its
reason, screenshots are kept, and no canary value ever reaches a served page or JSON."""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from controller.dashboard import kinds
from sealer.kube import client
from tests.harness.controlplane import free_port
from tests.harness.waiting import wait_for
from tests.integration.controller_fixtures import (
    StartController,
    ready_condition,
    sealed_secret,
)
from tests.integration.dashboard.conftest import (
    ROOT,
    Browser,
    StartDashboard,
    count_colour,
    limited_kubeconfig,
    problems_of,
    rows_of,
)
from tests.integration.gitops.conftest import GitOpsEnv, configmap, dump
from tests.integration.vaultsync import helpers as vault_helpers
from tests.vaultserver import ManualClock, VaultTestServer

TAG = secrets.token_hex(6)
SEALED = f"sealed-canary-{TAG}"
TEMPLATE = f"template-canary-{TAG}"
ANNOTATION = f"annotation-canary-{TAG}"
VAULT_VALUE = f"vault-canary-{TAG}"
VAULT_TOKEN = f"vault-token-canary-{TAG}"
URL_PASSWORD = f"url-canary-{TAG}"
CANARIES = (SEALED, TEMPLATE, ANNOTATION, VAULT_VALUE, VAULT_TOKEN, URL_PASSWORD)
PAGES = ("/", "/gitsyncs", "/secrets", "/stores", "/keys", "/events")
FAILED_RED = (0xCF, 0x22, 0x2E)  # --failed in controller/dashboard/static/dashboard.css


def forms(canary: str) -> set[str]:
    raw = canary.encode()
    return {canary, base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode(),
            raw.hex(), urllib.parse.quote(canary, safe="")}


@pytest.fixture
def canary_vault() -> Iterator[VaultTestServer]:
    """A Vault whose root token is itself a canary (the store reads with it)."""
    with VaultTestServer.start(root_token=VAULT_TOKEN, clock=ManualClock()) as server:
        yield server


def _wait_ready(kube: Any, res: client.Resource, namespace: str, name: str,
                status: str) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        cond = ready_condition(kube.get(res, name, namespace=namespace))
        return cond if cond is not None and cond["status"] == status else None
    found: dict[str, Any] = wait_for(check, timeout=120, what=f"{res.kind} {name} {status}")
    return found


def _populate(kube: Any, namespace: str, ctl: Any, vault: VaultTestServer,
              git: GitOpsEnv) -> dict[str, Any]:
    """A Ready SealedSecret, VaultSecret and GitSync, a GitSync that cannot fetch and one
    whose URL holds a password: what the pages must show (and must not)."""
    template_data = {"static": base64.b64encode(TEMPLATE.encode()).decode()}
    sealed = sealed_secret(namespace=namespace, name="db", data={"password": SEALED.encode()},
                           public=ctl.public(),
                           template={"type": "Opaque", "data": template_data})
    sealed["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = \
        json.dumps({"spec": {"template": {"data": {"plain": ANNOTATION}}}})
    kube.create(kinds.SEALED_SECRETS, sealed, namespace=namespace)
    vault.kv2_put(path="shop/db", data={"password": VAULT_VALUE})
    vault_helpers.token_store(kube, namespace, vault, VAULT_TOKEN)
    vault_helpers.vault_secret(kube, namespace, "db-vault",
                               vault_helpers.simple_spec("shop/db", interval="1h"))
    for name, url in (("broken", f"http://127.0.0.1:{free_port()}/missing.git"),
                      ("leaky", f"https://deploy:{URL_PASSWORD}@127.0.0.1:1/app.git")):
        kube.create(kinds.GITSYNCS, {
            "apiVersion": "sealops.dev/v1alpha1", "kind": "GitSync",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"url": url, "interval": "10m"}}, namespace=namespace)
    sha = git.push({"apps/cm.yaml": dump(configmap("settings"), configmap("features"))})
    git.credentials_secret()
    git.create_gitsync("shop", path="apps", interval="10m")
    broken = _wait_ready(kube, kinds.GITSYNCS, namespace, "broken", "False")
    git.wait_ready(sha, name="shop")
    _wait_ready(kube, kinds.GITSYNCS, namespace, "leaky", "False")
    _wait_ready(kube, kinds.SEALED_SECRETS, namespace, "db", "True")
    _wait_ready(kube, kinds.VAULT_SECRETS, namespace, "db-vault", "True")
    return {"broken": broken, "ciphertext": sealed["spec"]["encryptedData"]["password"],
            "sha": sha}


def test_the_dashboard_in_a_real_browser_shows_the_cluster_state_and_never_a_secret_value(
        kube: Any, kubeconfig: Path, namespace: str, start_controller: StartController,
        canary_vault: VaultTestServer, gitops: GitOpsEnv, start_dashboard: StartDashboard,
        browser: Browser) -> None:
    ctl = start_controller(watch=namespace)
    made = _populate(kube, namespace, ctl, canary_vault, gitops)
    board = start_dashboard(kubeconfig=kubeconfig, args=(
        "-n", namespace, "--controller-namespace", ctl.key_namespace, "--refresh", "30"))

    doms = {page: browser.dom(board.url.rstrip("/") + page) for page in PAGES}
    doms["/gitsyncs/broken"] = browser.dom(f"{board.url}gitsyncs/{namespace}/broken")
    for page, dom in doms.items():
        assert "sealops" in dom and "</table>" in dom, page
        assert f"namespace {namespace}" in dom, page

    broken = made["broken"]
    for page in ("/", "/gitsyncs"):
        (row,) = [r for r in rows_of(doms[page])
                  if r.kind == "GitSync" and r.name == f"{namespace}/broken"]
        assert row.css == "status-failed", (page, row)
        assert broken["reason"] in row.text and broken["reason"] == "FetchFailed"
    (healthy,) = [r for r in rows_of(doms["/gitsyncs"]) if r.name == f"{namespace}/shop"]
    assert healthy.css == "status-ok" and made["sha"] in healthy.text
    # The run timeline mirrors status.history: bars when the controller records runs (and the
    # CRD keeps them), "no history" when it does not; either way what the API holds is shown.
    history = (kube.get(kinds.GITSYNCS, "shop", namespace=namespace)["status"]
               .get("history") or [])
    shop_row = doms["/gitsyncs"].split(f'data-name="{namespace}/shop"', 1)[1].split("</tr>")[0]
    assert shop_row.count('<rect class="run-') == min(len(history), 10)
    assert ("no history" in shop_row) is (not history)
    (detail,) = rows_of(doms["/gitsyncs/broken"])
    assert "status-failed" in detail.css and broken["message"][:60] in detail.text

    by_name = {(r.kind, r.name): r for r in rows_of(doms["/secrets"]) + rows_of(doms["/stores"])}
    sealed_row = by_name[("SealedSecret", f"{namespace}/db")]
    assert sealed_row.css == "status-ok" and "password" in sealed_row.text
    key_id = ctl.public().key_id_hex
    assert key_id in sealed_row.text
    assert by_name[("VaultSecret", f"{namespace}/db-vault")].css == "status-ok"
    assert by_name[("VaultStore", f"{namespace}/vault")].css == "status-ok"

    (generation,) = [line for line in doms["/keys"].split("<tr") if f'"{key_id}"' in line]
    assert "newest" in generation and "<td>1</td><td>1</td>" in generation
    events = [r for r in rows_of(doms["/events"])
              if r.kind == "Event" and r.name == f"GitSync {namespace}/broken"]
    assert any(r.css == "event-warning" and "FetchFailed" in r.text for r in events), events

    shots = {page: browser.screenshot(board.url.rstrip("/") + page,
                                      f"dashboard{page.replace('/', '-') or '-'}.png")
             for page in ("/", "/gitsyncs", "/secrets", "/keys")}
    browser.screenshot(f"{board.url}gitsyncs/{namespace}/shop", "dashboard-gitsync-shop.png")
    # Red is drawn, not just a class name: the failure colour fills the failing rows' borders
    # and Ready badges, and appears nowhere on a page where nothing fails.
    assert count_colour(shots["/gitsyncs"], FAILED_RED) > 500
    assert count_colour(shots["/keys"], FAILED_RED) == 0
    if os.environ.get("SEALOPS_UPDATE_SCREENSHOT"):
        shutil.copy(shots["/"], ROOT / "docs" / "dashboard.png")

    status, api_json, headers = board.get("/api/snapshot.json")
    assert status == 200 and json.loads(api_json)["namespace"] == namespace
    served = {page: board.get(page)[1] for page in (*PAGES, f"/gitsyncs/{namespace}/leaky")}
    served["/api/snapshot.json"] = api_json
    sinks = {**{f"dom {p}": d for p, d in doms.items()},
             **{f"http {p}": b for p, b in served.items()},
             "dashboard log": board.log.read_text(errors="replace")}
    for sink, text in sinks.items():
        for canary in (*CANARIES, gitops.password):
            for form in forms(canary):
                assert form not in text, f"{sink} holds canary {canary} as {form!r}"
        assert made["ciphertext"][:40] not in text, f"{sink} shows ciphertext"
    assert "https://127.0.0.1:1/app.git" in served["/gitsyncs"]
    csp = headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script" not in csp


def test_a_user_sees_only_what_they_may_read_and_forbidden_kinds_say_not_permitted(
        kube: Any, kubeconfig: Path, namespace: str, crds: None, tmp_path: Path,
        start_dashboard: StartDashboard, browser: Browser) -> None:
    kube.create(kinds.GITSYNCS, {
        "apiVersion": "sealops.dev/v1alpha1", "kind": "GitSync",
        "metadata": {"name": "visible", "namespace": namespace},
        "spec": {"url": "https://git.example/app.git"}}, namespace=namespace)
    limited = limited_kubeconfig(
        kube, kubeconfig, namespace=namespace, out=tmp_path / "viewer.kubeconfig",
        rules=[{"apiGroups": ["sealops.dev"], "resources": ["gitsyncs"],
                "verbs": ["get", "list"]}])
    board = start_dashboard(kubeconfig=limited, args=("--refresh", "0"))

    gitsyncs = browser.dom(f"{board.url}gitsyncs")
    assert f"namespace {namespace}" in gitsyncs  # the context's namespace is the default
    (row,) = rows_of(gitsyncs)
    assert (row.name, row.css) == (f"{namespace}/visible", "status-unknown")
    secrets_dom = browser.dom(f"{board.url}secrets")
    assert problems_of(secrets_dom) == ["SealedSecrets: not permitted",
                                        "VaultSecrets: not permitted"]
    assert "not permitted" in " ".join(problems_of(browser.dom(f"{board.url}keys")))
    overview = browser.dom(board.url)
    assert "Events: not permitted" in problems_of(overview)
    shot = browser.screenshot(board.url, "dashboard-limited-user.png")
    assert count_colour(shot, FAILED_RED) == 0  # nothing fails, nothing is red

    assert board.get("/", headers={"Host": "attacker.example"})[0] == 421
    assert board.get("/", method="POST")[0] == 405
    assert board.get("/gitsyncs/other/none")[0] == 404
    assert board.proc.poll() is None
    board.stop()  # SIGTERM: the server closes and the command exits cleanly
    assert board.proc.returncode == 0, board.log.read_text(errors="replace")[-2000:]
