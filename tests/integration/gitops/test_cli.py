"""`sealops sync|diff|build` against the real control plane (and the controller for secrets)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from controller import cli
from controller.gitops import oneshot
from tests.integration.controller_fixtures import ROOT, StartController, sealed_secret
from tests.integration.gitops.conftest import (
    CM,
    DEPLOYMENTS,
    SECRETS,
    USERNAME,
    GitOpsEnv,
    configmap,
    deployment,
    dump,
)

CANARY = "canary-cli-4d3c2b1a"


def sealops(kubeconfig: Path, *args: str, capsys: pytest.CaptureFixture[str]
            ) -> tuple[int, str, str]:
    code = cli.main(["--kubeconfig", str(kubeconfig), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def test_sync_prunes_with_its_configmap_inventory_and_a_rerun_changes_nothing(
        kube: Any, namespace: str, kubeconfig: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "shop"
    write(repo, {"a.yaml": dump(configmap("a")), "b.yaml": dump(configmap("b"), deployment("web"))})
    code, out, _ = sealops(kubeconfig, "sync", str(repo), "-n", namespace, "--prune",
                           capsys=capsys)
    assert code == 0
    assert f"ConfigMap {namespace}/a created" in out and "3 created" in out
    stored = kube.get(CM, oneshot.configmap_name("shop"), namespace=namespace)
    assert f"{namespace}_web_apps_Deployment" in stored["data"]["entries"]

    code, out, _ = sealops(kubeconfig, "sync", str(repo), "-n", namespace, "--prune",
                           capsys=capsys)
    assert (code, out.strip()) == (0, f"dir:{repo}: 0 created, 0 configured, 3 unchanged, "
                                      "0 pruned")

    (repo / "b.yaml").write_text(dump(deployment("web")))
    code, out, _ = sealops(kubeconfig, "sync", str(repo), "-n", namespace, "--prune",
                           "--dry-run", capsys=capsys)
    assert code == 0 and f"ConfigMap {namespace}/b would be pruned" in out
    assert kube.get(CM, "b", namespace=namespace) is not None
    code, out, _ = sealops(kubeconfig, "sync", str(repo), "-n", namespace, "--prune",
                           capsys=capsys)
    assert code == 0 and f"ConfigMap {namespace}/b pruned" in out
    assert kube.get(CM, "b", namespace=namespace) is None


def test_diff_exits_1_for_pending_changes_like_kubectl_and_never_prints_secret_values(
        kube: Any, namespace: str, kubeconfig: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "app"
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"},
              "stringData": {"password": CANARY}}
    write(repo, {"app.yaml": dump(configmap("cfg", {"mode": "a"}), secret)})
    flags = ("-n", namespace, "--allow-plaintext-secrets")
    code, out, err = sealops(kubeconfig, "diff", str(repo), *flags, capsys=capsys)
    assert code == 1
    assert f"+++ git: ConfigMap {namespace}/cfg" in out and "password: '*** (changed)'" in out
    assert CANARY not in out + err
    assert kube.get(CM, "cfg", namespace=namespace) is None  # a diff writes nothing

    assert sealops(kubeconfig, "sync", str(repo), *flags, capsys=capsys)[0] == 0
    code, out, err = sealops(kubeconfig, "diff", str(repo), *flags, capsys=capsys)
    assert (code, out, err) == (0, "", "")

    kube.patch(CM, "cfg", {"data": {"mode": "b"}}, namespace=namespace)
    kube.patch(SECRETS, "db", {"stringData": {"password": CANARY + "-edited"}},
               namespace=namespace)
    code, out, err = sealops(kubeconfig, "diff", str(repo), *flags, capsys=capsys)
    assert code == 1
    assert "-  mode: b\n+  mode: a" in out
    assert f"git: Secret {namespace}/db" in out and "password: '*** (changed)'" in out
    assert CANARY not in out + err


def test_diff_and_sync_refuse_a_plaintext_secret_by_default(
        namespace: str, kubeconfig: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"},
              "data": {"password": "Y2FuYXJ5"}, "stringData": {"token": CANARY}}
    write(tmp_path / "app", {"s.yaml": dump(secret)})
    for command in ("diff", "sync", "build"):
        code, out, err = sealops(kubeconfig, command, str(tmp_path / "app"), "-n", namespace,
                                 capsys=capsys)
        assert code == 6, command  # PolicyError's code, as `seal check` refusing plaintext
        assert "PolicyViolation" in err or "plaintext Secret in Git" in err
        assert CANARY not in out + err and "Y2FuYXJ5" not in out + err


def test_sync_waits_for_the_controller_to_materialize_sealed_secrets(
        kube: Any, namespace: str, kubeconfig: Path, tmp_path: Path,
        start_controller: StartController, capsys: pytest.CaptureFixture[str]) -> None:
    ctl = start_controller(watch=namespace)
    good = sealed_secret(namespace=namespace, name="db", public=ctl.public(),
                         data={"password": b"pw"})
    write(tmp_path / "app", {"s.yaml": dump(good),
                             "web.yaml": dump(deployment("web", secret="db"))})
    code, out, _ = sealops(kubeconfig, "sync", str(tmp_path / "app"), "-n", namespace,
                           capsys=capsys)
    assert code == 0, out
    assert kube.get(SECRETS, "db", namespace=namespace) is not None
    assert kube.get(DEPLOYMENTS, "web", namespace=namespace) is not None

    bad = sealed_secret(namespace=namespace, name="db", public=ctl.public(),
                        data={"password": b"pw"})
    bad["spec"]["encryptedData"]["password"] = good["spec"]["encryptedData"]["password"][:-8] + \
        "AAAAAAA="
    write(tmp_path / "app", {"s.yaml": dump(bad), "web2.yaml": dump(deployment("web2"))})
    code, _, err = sealops(kubeconfig, "sync", str(tmp_path / "app"), "-n", namespace,
                           "--timeout", "1m", capsys=capsys)
    assert code == 7  # the secrets stage: a cluster-side failure
    assert f"SecretsFailed: secrets failed: SealedSecret {namespace}/db is not ready: " \
           "UnsealFailed" in err
    assert kube.get(DEPLOYMENTS, "web2", namespace=namespace) is None


def test_the_installed_executable_syncs_a_git_url_with_credentials_from_the_environment(
        gitops: GitOpsEnv, kubeconfig: Path) -> None:
    sha = gitops.push({"deploy/app.yaml": dump(configmap("from-git"))})
    env = {**os.environ, "SEALOPS_GIT_USERNAME": USERNAME,
           "SEALOPS_GIT_PASSWORD": gitops.password}
    argv = [str(Path(sys.executable).parent / "sealops"), "--kubeconfig", str(kubeconfig),
            "sync", gitops.url, "--path", "deploy", "-n", gitops.namespace, "--name", "app"]
    result = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(
        f"main@sha1:{sha}: 1 created, 0 configured, 0 unchanged, 0 pruned")
    assert gitops.get(CM, "from-git") is not None
    assert gitops.password not in result.stdout + result.stderr

    env["SEALOPS_GIT_PASSWORD"] = "wrong-" + gitops.password
    result = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT,
                            timeout=120, check=False)
    assert result.returncode == 7
    assert "FetchFailed" in result.stderr and gitops.password not in result.stderr
    assert subprocess.run([*argv[:3], "diff", "--no-such-flag"], capture_output=True,
                          timeout=60, check=False).returncode == 2
