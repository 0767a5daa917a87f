"""Receivers against the real controller, control plane and git (issue 14 item 2).

A real `git push` into the bare repository that the test git server serves runs its
post-receive hook, which POSTs a GitHub-style push event to the Receiver; the GitSync (with a
one-hour interval) applies the new commit long before its interval. Forged, replayed and
oversized requests are refused with a 4xx, and the GitSync is not asked to reconcile.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import http.client
import json
import secrets
import sys
import time
import urllib.parse
import uuid
from pathlib import Path
from typing import Any

import pytest

from controller.gitops import reconciler
from controller.receivers import service
from tests.harness.waiting import wait_for
from tests.integration.controller_fixtures import RunningController, StartController
from tests.integration.gitops.conftest import CM, SECRETS, GitOpsEnv, configmap, dump

RECEIVERS = service.RECEIVERS

HOOK = """#!{python}
# post-receive: POST a GitHub-style push event for each updated ref to the Receiver.
import hashlib, hmac, json, sys, time, urllib.request, uuid
token = open({token_file!r}, "rb").read()
for line in sys.stdin:
    old, new, ref = line.split()
    body = json.dumps({{"ref": ref, "before": old, "after": new}}).encode()
    sig = "sha256=" + hmac.new(token, body, hashlib.sha256).hexdigest()
    req = urllib.request.Request({url!r}, data=body, method="POST", headers={{
        "Content-Type": "application/json", "X-GitHub-Event": "push",
        "X-GitHub-Delivery": str(uuid.uuid4()), "X-Hub-Signature-256": sig}})
    sent = time.time()
    with urllib.request.urlopen(req, timeout=30) as resp:
        status = resp.status
    with open({log!r}, "a") as out:
        out.write(json.dumps({{"status": status, "sent": sent, "after": new}}) + "\\n")
"""


def make_receiver(gitops: GitOpsEnv, *, kind: str, name: str = "hook",
                  token: str | None = None) -> tuple[str, str]:
    """A Receiver of `kind` for the GitSync `app`; (token, webhook path)."""
    token = token or f"canary-token-{secrets.token_hex(12)}"
    gitops.kube.create(SECRETS, {
        "metadata": {"name": f"{name}-token"},
        "data": {"token": base64.b64encode(token.encode()).decode()}},
        namespace=gitops.namespace)
    gitops.kube.create(RECEIVERS, {
        "apiVersion": "sealops.dev/v1alpha1", "kind": "Receiver",
        "metadata": {"name": name},
        "spec": {"type": kind, "secretRef": {"name": f"{name}-token"},
                 "resources": [{"kind": "GitSync", "name": "app"}]}},
        namespace=gitops.namespace)
    obj = wait_for(lambda: (gitops.kube.get(RECEIVERS, name, namespace=gitops.namespace)
                            or {}).get("status", {}).get("webhookPath"), timeout=60,
                   what="the Receiver's webhookPath")
    expected = "/hook/" + hashlib.sha256(
        token.encode() + name.encode() + gitops.namespace.encode()).hexdigest()
    assert obj == expected
    return token, expected


def post(ctl: RunningController, path: str, body: bytes, headers: dict[str, str], *,
         length: int | None = None) -> int:
    parts = urllib.parse.urlsplit(ctl.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.putrequest("POST", path)
        for key, value in headers.items():
            conn.putheader(key, value)
        conn.putheader("Content-Length", str(len(body) if length is None else length))
        conn.endheaders()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            conn.send(body)  # may be refused before the body is read
        return conn.getresponse().status
    finally:
        conn.close()


def github_headers(token: str, body: bytes, delivery: str | None = None) -> dict[str, str]:
    sig = "sha256=" + hmac.new(token.encode(), body, hashlib.sha256).hexdigest()
    return {"X-GitHub-Event": "push", "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
            "X-Hub-Signature-256": sig}


def requested(gitops: GitOpsEnv) -> str | None:
    annotations = gitops.gitsync()["metadata"].get("annotations") or {}
    return annotations.get(reconciler.REQUESTED_AT)


def test_a_git_push_applies_the_commit_through_the_receiver_long_before_the_interval(
        gitops: GitOpsEnv, start_controller: StartController, tmp_path: Path) -> None:
    ctl = start_controller(watch=gitops.namespace)
    first = gitops.push({"a.yaml": dump(configmap("a"))})
    gitops.credentials_secret()
    gitops.create_gitsync(interval="1h")
    gitops.wait_ready(first)
    token, path = make_receiver(gitops, kind="github")
    token_file = tmp_path / "hook-token"
    token_file.write_text(token)
    log = tmp_path / "hook.log"
    hook = gitops.work.bare / "hooks" / "post-receive"
    hook.write_text(HOOK.format(python=sys.executable, token_file=str(token_file),
                                url=ctl.url + path, log=str(log)))
    hook.chmod(0o755)

    pushed = time.time()
    second = gitops.push({"b.yaml": dump(configmap("b"))})
    obj = gitops.wait_ready(second, timeout=120)  # a hang guard: the interval is one hour
    applied = time.time()
    delivered = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(d["status"], d["after"]) for d in delivered] == [(200, second)]
    assert gitops.get(CM, "b") is not None
    assert obj["status"]["lastHandledReconcileAt"] == requested(gitops)
    print(f"\nreceiver latency: push->applied {applied - pushed:.2f} s, "
          f"hook POST->applied {applied - delivered[0]['sent']:.2f} s")

    sinks = {"log": ctl.log_text(), "events": json.dumps(gitops.events()),
             "receiver": json.dumps(gitops.kube.get(RECEIVERS, "hook",
                                                    namespace=gitops.namespace)),
             "gitsync": json.dumps(gitops.gitsync())}
    for where, text in sinks.items():
        assert token not in text, where
        assert base64.b64encode(token.encode()).decode() not in text, where


def test_forged_replayed_and_oversized_requests_are_refused_without_triggering(
        gitops: GitOpsEnv, start_controller: StartController) -> None:
    ctl = start_controller(watch=gitops.namespace)
    gitops.push({"a.yaml": dump(configmap("a"))})
    gitops.credentials_secret()
    gitops.create_gitsync(interval="1h")
    gitops.wait_ready()
    token, path = make_receiver(gitops, kind="github")
    body = json.dumps({"ref": "refs/heads/main", "after": "0" * 40}).encode()

    forged = github_headers("not-the-token", body)
    assert post(ctl, path, body, forged) == 401
    assert post(ctl, path, body, {"X-GitHub-Event": "push"}) == 401
    assert post(ctl, path, b"x" * 100, github_headers(token, b"x" * 100),
                length=(1 << 20) + 1) == 413
    big = b"{" + b" " * (2 << 20) + b"}"
    assert post(ctl, path, big, github_headers(token, big)) == 413
    assert post(ctl, "/hook/" + "0" * 64, body, github_headers(token, body)) == 404
    assert requested(gitops) is None  # nothing was triggered

    delivery = str(uuid.uuid4())
    assert post(ctl, path, body, github_headers(token, body, delivery)) == 200
    first = wait_for(lambda: requested(gitops), what="the reconcile request")
    assert post(ctl, path, body, github_headers(token, body, delivery)) == 409
    assert post(ctl, path, body, github_headers(token, body)) == 409  # new id, same body
    assert requested(gitops) == first


@pytest.mark.parametrize("kind", ["gitlab", "generic-hmac"])
def test_gitlab_and_generic_hmac_receivers_authenticate_and_refuse_replays(
        gitops: GitOpsEnv, start_controller: StartController, kind: str) -> None:
    ctl = start_controller(watch=gitops.namespace)
    gitops.push({"a.yaml": dump(configmap("a"))})
    gitops.credentials_secret()
    gitops.create_gitsync(interval="1h")
    gitops.wait_ready()
    token, path = make_receiver(gitops, kind=kind)
    body = b'{"ref": "refs/heads/main"}'

    def headers(*, secret: str = token, stamp: int | None = None,
                nonce: str | None = None) -> dict[str, str]:
        if kind == "gitlab":
            return {"X-Gitlab-Token": secret, "X-Gitlab-Event": "Push Hook",
                    "X-Gitlab-Event-UUID": nonce or str(uuid.uuid4())}
        when = str(int(time.time()) if stamp is None else stamp)
        once = nonce or secrets.token_hex(16)
        sig = hmac.new(secret.encode(), f"{when}.{once}.".encode() + body,
                       hashlib.sha256).hexdigest()
        return {"X-Timestamp": when, "X-Nonce": once, "X-Signature": f"sha256={sig}"}

    assert post(ctl, path, body, headers(secret="wrong-token-value")) == 401
    if kind == "generic-hmac":
        assert post(ctl, path, body, headers(stamp=int(time.time()) - 3600)) == 401
    assert requested(gitops) is None
    nonce = secrets.token_hex(16)
    assert post(ctl, path, body, headers(nonce=nonce)) == 200
    first = wait_for(lambda: requested(gitops), what="the reconcile request")
    assert post(ctl, path, body, headers(nonce=nonce)) == 409
    assert requested(gitops) == first


def test_a_receiver_may_not_trigger_gitsyncs_in_another_namespace(
        gitops: GitOpsEnv, start_controller: StartController) -> None:
    start_controller(watch=gitops.namespace)
    gitops.kube.create(RECEIVERS, {
        "apiVersion": "sealops.dev/v1alpha1", "kind": "Receiver", "metadata": {"name": "x"},
        "spec": {"type": "github", "secretRef": {"name": "none"},
                 "resources": [{"kind": "GitSync", "name": "app", "namespace": "kube-system"}]}},
        namespace=gitops.namespace)

    def refused() -> dict[str, Any] | None:
        obj = gitops.kube.get(RECEIVERS, "x", namespace=gitops.namespace) or {}
        conds = (obj.get("status") or {}).get("conditions") or []
        return next((c for c in conds if c["reason"] == "PolicyViolation"), None)
    cond = wait_for(refused, timeout=60, what="the Receiver refused")
    assert cond["status"] == "False" and "another namespace" in cond["message"]
    assert not (gitops.kube.get(RECEIVERS, "x", namespace=gitops.namespace)
                .get("status") or {}).get("webhookPath")
