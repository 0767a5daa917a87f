"""`sealops reconcile|suspend|resume|get gitsync` against a real controller and git server."""

from __future__ import annotations

from pathlib import Path

import pytest

from controller import cli
from tests.integration.controller_fixtures import StartController
from tests.integration.gitops.conftest import CM, GitOpsEnv, configmap, dump


def sealops(kubeconfig: Path, *args: str,
            capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(["--kubeconfig", str(kubeconfig), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_reconcile_applies_a_new_commit_now_and_reports_the_fetched_revision(
        gitops: GitOpsEnv, kubeconfig: Path, start_controller: StartController,
        capsys: pytest.CaptureFixture[str]) -> None:
    start_controller(watch=gitops.namespace)
    first = gitops.push({"a.yaml": dump(configmap("a"))})
    gitops.credentials_secret()
    gitops.create_gitsync(interval="1h")  # only a request can bring the next commit soon
    gitops.wait_ready(first)
    second = gitops.push({"b.yaml": dump(configmap("b"))})

    code, out, err = sealops(kubeconfig, "reconcile", "gitsync", "app", "-n", gitops.namespace,
                             "--with-source", "--timeout", "3m", capsys=capsys)
    assert (code, err) == (0, ""), err
    assert f"source revision main@sha1:{second} (applied: main@sha1:{second})" in out
    assert "✔ gitsync/app reconciled: Applied revision" in out
    assert gitops.get(CM, "b") is not None
    assert gitops.password not in out


def test_suspend_stops_reconciles_and_resume_applies_what_was_pushed_meanwhile(
        gitops: GitOpsEnv, kubeconfig: Path, start_controller: StartController,
        capsys: pytest.CaptureFixture[str]) -> None:
    start_controller(watch=gitops.namespace)
    first = gitops.push({"a.yaml": dump(configmap("a"))})
    gitops.credentials_secret()
    gitops.create_gitsync(interval="1h")
    gitops.wait_ready(first)
    ns = gitops.namespace

    code, out, _ = sealops(kubeconfig, "suspend", "gitsync", "app", "-n", ns, capsys=capsys)
    assert (code, out.strip()) == (0, "► gitsync/app suspended")
    assert gitops.gitsync()["spec"]["suspend"] is True
    code, out, _ = sealops(kubeconfig, "get", "gitsyncs", "-n", ns, capsys=capsys)
    header, row = (line.split() for line in out.splitlines())
    assert row[header.index("SUSPENDED")] == "true"
    assert row[header.index("REVISION")] == f"main@sha1:{first}"

    second = gitops.push({"b.yaml": dump(configmap("b"))})
    code, _, err = sealops(kubeconfig, "reconcile", "gitsync", "app", "-n", ns, capsys=capsys)
    assert code == 1 and f"GitSync {ns}/app is suspended; run `sealops resume" in err
    assert gitops.get(CM, "b") is None

    code, out, err = sealops(kubeconfig, "resume", "gitsync", "app", "-n", ns,
                             "--timeout", "3m", capsys=capsys)
    assert (code, err) == (0, ""), err
    assert gitops.gitsync()["spec"]["suspend"] is False
    assert gitops.gitsync()["status"]["lastAppliedRevision"] == f"main@sha1:{second}"
    assert gitops.get(CM, "b") is not None


def test_reconcile_of_a_failing_gitsync_exits_1_with_its_reason(
        gitops: GitOpsEnv, kubeconfig: Path, start_controller: StartController,
        capsys: pytest.CaptureFixture[str]) -> None:
    start_controller(watch=gitops.namespace)
    gitops.push({"a.yaml": dump(configmap("a"))})
    gitops.create_gitsync(interval="1h")  # its secretRef git-creds does not exist
    code, _, err = sealops(kubeconfig, "reconcile", "gitsync", "app", "-n", gitops.namespace,
                           "--timeout", "3m", capsys=capsys)
    assert code == 1
    assert "✗ gitsync/app not ready: " in err and "git-creds" in err
