"""Canary sweep (HOSTILE-INPUTS L51): the git password and a plaintext value from a refused
Secret (or a literal in a SealedSecret's template.data) in Git never reach the controller log,
Events, GitSync status or annotations, applied objects' metadata, CLI output, or the metrics
page."""

from __future__ import annotations

import base64
import json
import secrets
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

from controller import cli
from controller.apply import plan
from tests.integration.controller_fixtures import StartController
from tests.integration.gitops.conftest import (
    CM,
    GITSYNCS,
    USERNAME,
    GitOpsEnv,
    configmap,
    dump,
)


def forms(canary: str) -> set[str]:
    raw = canary.encode()
    return {canary, base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode(),
            raw.hex(), urllib.parse.quote(canary, safe=""),
            base64.b64encode(f"{USERNAME}:{canary}".encode()).decode()}


def test_no_sink_ever_holds_the_git_password_or_a_plaintext_secret_from_git(
        gitops: GitOpsEnv, start_controller: StartController, kubeconfig: Path,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    ctl = start_controller(watch=gitops.namespace)
    plaintext = f"canary-plain-{secrets.token_hex(8)}"
    refused = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "leaky"},
               "stringData": {"password": plaintext}}
    rejected = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "rejected"},
                "data": {"password": plaintext + "%%not-base64"}}
    templated = {"apiVersion": "sealops.dev/v1alpha1", "kind": "SealedSecret",
                 "metadata": {"name": "templated"},
                 "spec": {"encryptedData": {"password": "AgA="},
                          "template": {"data": {"copy": plaintext + "-tmpl"}}}}
    sha = gitops.push({"refused/s.yaml": dump(refused, configmap("r")),
                       "templated/s.yaml": dump(templated),
                       "rejected/s.yaml": dump(rejected),
                       "ok/cm.yaml": dump(configmap("ok"))})
    gitops.credentials_secret()
    gitops.credentials_secret("wrong-creds", password=gitops.password[::-1])
    gitops.create_gitsync("refused", path="refused", interval="10m")
    gitops.create_gitsync("templated", path="templated", interval="10m")
    gitops.create_gitsync("rejected", path="rejected", interval="10m",
                          allowPlaintextSecrets=True)
    gitops.create_gitsync("wrong", path="ok", interval="10m",
                          secretRef={"name": "wrong-creds"})
    gitops.create_gitsync("ok", path="ok", interval="10m")
    gitops.wait_reason("PolicyViolation", name="refused")
    gitops.wait_reason("PolicyViolation", name="templated")
    gitops.wait_reason("ApplyFailed", name="rejected")
    gitops.wait_reason("FetchFailed", name="wrong")
    gitops.wait_ready(sha, name="ok")

    monkeypatch.setenv("SEALOPS_GIT_USERNAME", USERNAME)
    monkeypatch.setenv("SEALOPS_GIT_PASSWORD", gitops.password)
    outputs = []
    for args, expected in (
            (["sync", gitops.url, "--path", "refused"], 6),  # PolicyViolation
            (["sync", gitops.url, "--path", "templated"], 6),  # a plaintext template: policy
            (["diff", gitops.url, "--path", "rejected", "--allow-plaintext-secrets"], 7),
            (["sync", gitops.url, "--path", "rejected", "--allow-plaintext-secrets"], 7),
            (["build", gitops.url, "--path", "refused"], 6)):
        code = cli.main(["--kubeconfig", str(kubeconfig), *args, "-n", gitops.namespace])
        captured = capsys.readouterr()
        outputs.append(captured.out + captured.err)
        assert code == expected, (args, captured)
    # The status commands print conditions and revisions of the same failing GitSyncs.
    for args, expected in ((["get", "gitsyncs"], 0), (["reconcile", "gitsync", "ok",
                                                        "--with-source"], 0),
                           (["reconcile", "gitsync", "wrong", "--with-source"], 1),
                           (["reconcile", "gitsync", "rejected"], 1)):
        code = cli.main(["--kubeconfig", str(kubeconfig), *args, "-n", gitops.namespace])
        captured = capsys.readouterr()
        outputs.append(captured.out + captured.err)
        assert code == expected, (args, captured)

    sinks: dict[str, str] = {
        "controller log": ctl.log_text(),
        "events": json.dumps(gitops.events()),
        "gitsyncs": json.dumps(gitops.kube.list(GITSYNCS, namespace=gitops.namespace)),
        "applied metadata": json.dumps([o["metadata"] for o in gitops.kube.list(
            CM, namespace=gitops.namespace,
            label_selector=f"{plan.SYNC_LABEL}")]),
        "cli": "\n".join(outputs),
        "metrics": ctl.get("/metrics")[1].decode(),
    }
    assert "ApplyFailed" in sinks["gitsyncs"] and "FetchFailed" in sinks["gitsyncs"]
    assert f'sealops_condition{{kind="GitSync",name="wrong",namespace="{gitops.namespace}",' \
        'status="False",type="Ready"} 1.0' in sinks["metrics"]
    assert "plaintext Secret in Git" in sinks["gitsyncs"]
    assert "spec.template.data key 'copy': the template is plaintext in Git" in sinks["gitsyncs"]
    for canary in (gitops.password, plaintext, gitops.password[::-1]):
        for form in forms(canary):
            for sink, text in sinks.items():
                assert form not in text, f"canary form found in {sink}"
    _no_kopf_state(gitops.kube.list(GITSYNCS, namespace=gitops.namespace))


def _no_kopf_state(items: list[dict[str, Any]]) -> None:
    for item in items:
        annotations = item["metadata"].get("annotations") or {}
        assert not [k for k in annotations if "kopf" in k]
        assert not item["metadata"].get("finalizers")
