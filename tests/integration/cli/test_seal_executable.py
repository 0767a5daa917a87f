"""The installed `seal` executable, run as a subprocess: round trips, kubeseal vectors, imports.

Uses `.venv/bin/seal` next to the running interpreter when installed, else
`python -m sealer.cli`. No cluster is needed.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
KUBESEAL = ROOT / "tests" / "vectors" / "kubeseal"
INSTALLED = Path(sys.executable).parent / "seal"
SEAL = [str(INSTALLED)] if INSTALLED.exists() else [sys.executable, "-m", "sealer.cli"]
SECRET = """\
apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: prod
type: Opaque
stringData:
  password: hunter2
data:
  blob: AAEC/w==
"""


def seal(*args: str, cwd: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [*SEAL, *args], cwd=cwd, input=stdin, capture_output=True, timeout=60, check=False
    )


def test_keys_generate_then_secret_then_unseal_round_trips(tmp_path: Path) -> None:
    generated = seal("keys", "generate", "--out", "keys", cwd=tmp_path)
    assert generated.returncode == 0, generated.stderr
    sealed = seal("secret", "--cert", "keys/public.pem", cwd=tmp_path, stdin=SECRET.encode())
    assert sealed.returncode == 0, sealed.stderr
    assert b"hunter2" not in sealed.stdout
    (tmp_path / "sealed.yaml").write_bytes(sealed.stdout)
    opened = seal(
        "unseal", "sealed.yaml", "--key", "keys/private.pem", "--format", "json", cwd=tmp_path
    )
    assert opened.returncode == 0, opened.stderr
    data = json.loads(opened.stdout)["data"]
    assert base64.b64decode(data["password"]) == b"hunter2"
    assert base64.b64decode(data["blob"]) == b"\x00\x01\x02\xff"


def test_a_kubeseal_sealed_secret_unseals_with_its_tls_key(tmp_path: Path) -> None:
    if not (KUBESEAL / "pub4096.key").exists():
        pytest.skip("tests/vectors/kubeseal is missing")
    vectors = json.loads((KUBESEAL / "pub4096.vectors.json").read_text())
    wanted = [v for v in vectors if v["name"] == "api-pub" and v["scope"] == "namespace-wide"]
    assert wanted
    doc = {
        "apiVersion": "bitnami.com/v1alpha1",
        "kind": "SealedSecret",
        "metadata": {
            "name": "api-pub",
            "namespace": "team-a",
            "annotations": {"sealedsecrets.bitnami.com/namespace-wide": "true"},
        },
        "spec": {"encryptedData": {v["item"]: v["ciphertext_b64"] for v in wanted}},
    }
    (tmp_path / "sealed.json").write_text(json.dumps(doc))
    opened = seal(
        "unseal",
        "sealed.json",
        "--key",
        str(KUBESEAL / "pub4096.key"),
        "--format",
        "json",
        cwd=tmp_path,
    )
    assert opened.returncode == 0, opened.stderr
    data = json.loads(opened.stdout)["data"]
    assert {k: base64.b64decode(v) for k, v in data.items()} == {
        v["item"]: base64.b64decode(v["plaintext_b64"]) for v in wanted
    }


def test_a_failing_run_exits_non_zero_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(SECRET + "metadata: {}\n")
    result = seal("secret", "bad.yaml", "--cert", "missing.pem", "-w", "out.yaml", cwd=tmp_path)
    assert result.returncode == 3
    assert b"duplicate key 'metadata'" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]


def test_python_dash_m_runs_the_cli(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sealer.cli", "--version"],
        cwd=tmp_path,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout.startswith(b"seal, version ")


def test_importing_the_cli_and_running_offline_commands_never_loads_cluster_clients(
    tmp_path: Path,
) -> None:
    (tmp_path / "secret.yaml").write_text(SECRET)
    (tmp_path / "a.yaml").write_text("value")
    program = textwrap.dedent(
        """
        import sys
        import sealer.cli
        lean = {"yaml", "cryptography", "nacl"} & {m.split(".")[0] for m in sys.modules}
        assert not lean, f"importing sealer.cli loaded {lean}"
        from sealer.cli import app
        def run(*args):
            try:
                app.main(list(args), prog_name="seal", standalone_mode=False)
            except SystemExit:
                pass
        run("--help")
        run("keys", "generate", "--out", "k", "--rsa-bits", "2048")
        run("secret", "secret.yaml", "--cert", "k/public.pem", "-w", "sealed.yaml")
        run("unseal", "sealed.yaml", "--key", "k/private.pem", "-w", "plain.yaml")
        run("raw", "--cert", "k/public.pem", "--scope", "cluster-wide", "--from-file", "a.yaml")
        run("reencrypt", "sealed.yaml", "--key", "k/private.pem", "--cert", "k/public.pem")
        run("check", ".")
        loaded = {"kubernetes", "kopf", "hvac"} & {m.split(".")[0] for m in sys.modules}
        assert not loaded, f"offline commands loaded {loaded}"
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", program], cwd=tmp_path, capture_output=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.endswith(b"ok\n")
    assert (tmp_path / "sealed.yaml").exists() and (tmp_path / "plain.yaml").exists()
