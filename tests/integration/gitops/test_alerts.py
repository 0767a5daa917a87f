"""Alerts against the real controller, control plane and git, delivering to a local HTTP
sink (issue 14 item 3): failures and Ready transitions arrive, other objects' do not, the
rate limit holds, and no payload carries the git password, the webhook address or any value."""

from __future__ import annotations

import base64
import http.server
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from controller.alerts import dispatch
from tests.harness.waiting import wait_for
from tests.integration.controller_fixtures import StartController
from tests.integration.gitops.conftest import SECRETS, GitOpsEnv, configmap, dump

ALERTS = dispatch.ALERTS


class Sink:
    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.raw: list[bytes] = []
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                sink.raw.append(body)
                sink.received.append(json.loads(body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook/secret-path-canary"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sink() -> Iterator[Sink]:
    running = Sink()
    yield running
    running.close()


def alert(gitops: GitOpsEnv, name: str, *, address: str, kind: str = "generic",
          sources: list[dict[str, str]], severity: str = "info") -> None:
    gitops.kube.create(SECRETS, {"metadata": {"name": f"{name}-address"},
                                 "data": {"address": base64.b64encode(address.encode()).decode()}},
                       namespace=gitops.namespace)
    gitops.kube.create(ALERTS, {
        "apiVersion": "sealops.dev/v1alpha1", "kind": "Alert", "metadata": {"name": name},
        "spec": {"type": kind, "secretRef": {"name": f"{name}-address"},
                 "eventSources": sources, "eventSeverity": severity}},
        namespace=gitops.namespace)

    def ready() -> bool:
        obj = gitops.kube.get(ALERTS, name, namespace=gitops.namespace) or {}
        return any(c["type"] == "Ready" and c["status"] == "True"
                   for c in (obj.get("status") or {}).get("conditions") or [])
    wait_for(ready, timeout=60, what=f"Alert {name} ready")


def test_failures_and_recoveries_of_chosen_gitsyncs_reach_the_webhooks_without_secrets(
        gitops: GitOpsEnv, start_controller: StartController, sink: Sink) -> None:
    ctl = start_controller(watch=gitops.namespace)
    slack = Sink()
    try:
        alert(gitops, "all", address=sink.url, sources=[{"kind": "GitSync", "name": "app"}])
        alert(gitops, "chat", address=slack.url, kind="slack", severity="error",
              sources=[{"kind": "GitSync", "name": "*"}])
        gitops.push({"app/a.yaml": dump(configmap("a")), "other/b.yaml": dump(configmap("b"))})
        gitops.credentials_secret()
        gitops.credentials_secret("wrong", password=gitops.password[::-1])
        gitops.create_gitsync("app", path="app", interval="1h", secretRef={"name": "wrong"})
        gitops.create_gitsync("other", path="other", interval="1h")  # not chosen by "all"
        gitops.wait_reason("FetchFailed", name="app")
        failed = wait_for(lambda: [m for m in sink.received if m["reason"] == "FetchFailed"],
                          timeout=60, what="the failure notification")
        assert failed[0]["severity"] == "error"
        assert failed[0]["involvedObject"] == {"kind": "GitSync", "namespace": gitops.namespace,
                                               "name": "app"}
        chat = wait_for(lambda: [m for m in slack.received if "FetchFailed" in m["text"]],
                        timeout=60, what="the Slack notification")
        assert chat[0]["text"].startswith(f"error: GitSync {gitops.namespace}/app FetchFailed")

        gitops.kube.patch(gitops.get_resource(), "app",
                          {"spec": {"secretRef": {"name": "git-creds"}}},
                          namespace=gitops.namespace)
        gitops.wait_ready(name="app")
        wait_for(lambda: [m for m in sink.received if m["reason"] == "Succeeded"],
                 timeout=60, what="the recovery notification")
        gitops.wait_ready(name="other")
        assert all(m["involvedObject"]["name"] == "app" for m in sink.received)
        # The Slack Alert takes errors only: no success reached it.
        assert all(m["text"].startswith("error:") for m in slack.received)

        sinks = {"payloads": b"\n".join(sink.raw + slack.raw).decode(),
                 "log": ctl.log_text(),
                 "alerts": json.dumps(gitops.kube.list(ALERTS, namespace=gitops.namespace))}
        for where, text in sinks.items():
            assert gitops.password not in text and gitops.password[::-1] not in text, where
            assert "secret-path-canary" not in text, where
    finally:
        slack.close()


def test_an_address_outside_the_policy_is_refused_and_nothing_is_sent(
        gitops: GitOpsEnv, start_controller: StartController) -> None:
    start_controller(watch=gitops.namespace)
    gitops.kube.create(SECRETS, {"metadata": {"name": "a-address"}, "data": {
        "address": base64.b64encode(b"http://169.254.169.254/latest").decode()}},
        namespace=gitops.namespace)
    gitops.kube.create(ALERTS, {
        "apiVersion": "sealops.dev/v1alpha1", "kind": "Alert", "metadata": {"name": "a"},
        "spec": {"type": "generic", "secretRef": {"name": "a-address"},
                 "eventSources": [{"kind": "GitSync", "name": "*"}]}},
        namespace=gitops.namespace)

    def refused() -> dict[str, Any] | None:
        obj = gitops.kube.get(ALERTS, "a", namespace=gitops.namespace) or {}
        return next((c for c in (obj.get("status") or {}).get("conditions") or []
                     if c["reason"] == "AddressRefused"), None)
    cond = wait_for(refused, timeout=60, what="the address refused")
    assert cond["status"] == "False" and "169.254" not in cond["message"]
