"""Errors that say what is wrong: kubeconfig files and contexts, server URLs, namespaces.

Both CLIs run as the installed executables (subprocesses) against the session's control plane
or against a port nobody listens on; each failure must exit 7 (cluster) with `Error: ` and name
the file, the context, the server URL or the namespace - never a token.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness import controlplane

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
TOKEN = "kubeconfig-canary-token-5e1f"


def seal_argv() -> list[str]:
    return [str(BIN / "seal")] if (BIN / "seal").exists() else [sys.executable, "-m",
                                                                 "sealer.cli"]


def sealops_argv() -> list[str]:
    return [str(BIN / "sealops")] if (BIN / "sealops").exists() else [sys.executable, "-m",
                                                                       "controller.cli"]


def run(argv: list[str], *, cwd: Path, stdin: bytes = b"") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    env["HOME"] = str(cwd)  # no ~/.kube/config of the machine
    return subprocess.run(argv, cwd=cwd, input=stdin.decode(), capture_output=True, text=True,
                          env=env, timeout=120, check=False)


def unreachable_kubeconfig(path: Path) -> tuple[Path, str]:
    server = f"https://127.0.0.1:{controlplane.free_port()}"
    path.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "gone",
        "clusters": [{"name": "gone", "cluster": {"server": server,
                                                  "insecure-skip-tls-verify": True}}],
        "users": [{"name": "u", "user": {"token": TOKEN}}],
        "contexts": [{"name": "gone", "context": {"cluster": "gone", "user": "u",
                                                   "namespace": "team"}}]}))
    return path, server


@pytest.mark.parametrize("tool", ["seal", "sealops"])
def test_a_missing_kubeconfig_file_is_named_by_both_clis(tool: str, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-kubeconfig"
    argv = ([*seal_argv(), "cert", "--kubeconfig", str(missing)] if tool == "seal" else
            [*sealops_argv(), "keys", "backup", "-n", "x", "--out", "b", "--kubeconfig",
             str(missing)])
    result = run(argv, cwd=tmp_path)
    assert result.returncode == 7, result.stderr
    assert result.stderr.startswith("Error: ")
    assert f"kubeconfig {missing}: no such file" in result.stderr


@pytest.mark.parametrize("tool", ["seal", "sealops"])
def test_an_unknown_context_is_named_with_the_contexts_there_are(
    tool: str, kubeconfig: Path, tmp_path: Path
) -> None:
    argv = ([*seal_argv(), "cert", "--kubeconfig", str(kubeconfig), "--context", "nope"]
            if tool == "seal" else
            [*sealops_argv(), "--kubeconfig", str(kubeconfig), "keys", "backup", "-n", "x",
             "--out", "b", "--context", "nope"])
    result = run(argv, cwd=tmp_path)
    assert result.returncode == 7, result.stderr
    assert f'kubeconfig context "nope" (--context) does not exist in {kubeconfig}' \
        in result.stderr
    assert "contexts: " in result.stderr


def test_an_unreachable_server_is_named_by_its_url_like_kubectl(tmp_path: Path) -> None:
    config, server = unreachable_kubeconfig(tmp_path / "kc")
    for argv in ([*seal_argv(), "cert", "--kubeconfig", str(config)],
                 [*sealops_argv(), "keys", "backup", "-n", "x", "--out", "b", "--kubeconfig",
                  str(config)]):
        result = run(argv, cwd=tmp_path)
        assert result.returncode == 7, result.stderr
        assert f"Error: Unable to connect to the server at {server}: Connection refused" \
            in result.stderr
        assert TOKEN not in result.stdout + result.stderr


def test_seal_secret_takes_the_namespace_of_the_context_offline(tmp_path: Path) -> None:
    config, _server = unreachable_kubeconfig(tmp_path / "kc")
    assert run([*seal_argv(), "keys", "generate", "--out", "k"], cwd=tmp_path).returncode == 0
    secret = b"apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {p: x}\n"
    result = run([*seal_argv(), "secret", "--cert", "k/public.pem", "--kubeconfig",
                  str(config), "-o", "json"], cwd=tmp_path, stdin=secret)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["metadata"]["namespace"] == "team"
    assert 'using \'team\' (the namespace of kubeconfig context "gone")' in result.stderr


def test_seal_secret_o_yaml_redirected_in_a_shell_fills_the_redirect_target(
    tmp_path: Path
) -> None:
    assert run([*seal_argv(), "keys", "generate", "--out", "k"], cwd=tmp_path).returncode == 0
    (tmp_path / "s.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: p}\nstringData: {a: b}\n")
    command = " ".join(seal_argv()) + " secret s.yaml --cert k/public.pem -o yaml > sealed.yaml"
    result = subprocess.run(["sh", "-c", command], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "sealed.yaml").read_text().startswith(
        "apiVersion: sealops.dev/v1alpha1\nkind: SealedSecret\n")
    assert not (tmp_path / "yaml").exists()
    refused = subprocess.run(["sh", "-c", command.replace("-o yaml > sealed.yaml",
                                                          "-o other.yaml")],
                             cwd=tmp_path, capture_output=True, text=True, timeout=120,
                             check=False)
    assert refused.returncode == 2
    assert "use -w other.yaml" in refused.stderr
    assert not (tmp_path / "other.yaml").exists()


def test_sealops_controller_in_a_namespace_that_does_not_exist_says_so(
    kubeconfig: Path, tmp_path: Path
) -> None:
    result = run([*sealops_argv(), "--kubeconfig", str(kubeconfig), "controller", "-n",
                  "no-such-namespace-4d2a", "--listen", "127.0.0.1:0"],
                 cwd=tmp_path)
    assert result.returncode == 7, result.stderr[-2000:]
    assert "Error: namespace no-such-namespace-4d2a (--namespace) does not exist" \
        in result.stderr


def test_seal_secret_on_a_terminal_prints_what_it_expects(tmp_path: Path) -> None:
    import pty

    parent, child = pty.openpty()
    try:
        proc = subprocess.Popen([*seal_argv(), "secret", "--cert", "missing.pem"], stdin=child,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
        os.close(child)
        os.write(parent, b"\x04")  # Ctrl-D: end of input on the terminal
        _out, err = proc.communicate(timeout=120)
    finally:
        os.close(parent)
    assert b"seal: (tty detected: expecting json/yaml k8s resource in stdin)" in err
    assert proc.returncode == 3  # nothing came: "<stdin>: no Secret found"
