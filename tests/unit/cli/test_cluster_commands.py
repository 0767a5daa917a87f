"""`seal cert`, `seal verify` and `seal reencrypt` without --key, against the controller's own
request logic in-process (the cluster runs in tests/integration/sealcluster)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from sealer import errors
from sealer.cli import context
from sealer.crypto import envelope, keys
from sealer.kube import controller as controllers
from sealer.manifests import safeyaml

from .conftest import KeyFiles, Seal
from .controller_double import InProcessTransport, endpoints_for
from .test_leaks import assert_clean, make_canary

URL = ["--controller-url", "http://controller.invalid:8080"]


def secret_text(*, name: str = "db", value: str = "hunter2", annotations: str = "") -> str:
    return (
        f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: prod\n"
        f"{annotations}stringData:\n  password: {value}\n  user: admin\n"
    )


def seal_file(run: Seal, key_files: KeyFiles, path: str, **kwargs: str) -> Path:
    (run.workdir / "plain.yaml").write_text(secret_text(**kwargs))
    result = run(["secret", "plain.yaml", "--cert", str(key_files.public), "-w", path])
    assert result.exit_code == 0, result.stderr
    return run.workdir / path


def with_controller(transport: Any) -> context.CliContext:
    return context.CliContext(connect_controller=lambda: controllers.ControllerClient(transport))


def key_ids(path: Path) -> set[str]:
    doc = safeyaml.load_one(path.read_bytes(), source=str(path))
    found = set()
    for value in doc["spec"]["encryptedData"].values():
        key_id = envelope.envelope_key_id(base64.b64decode(value))
        assert key_id is not None
        found.add(key_id.hex())
    return found


def tamper(path: Path, item: str = "user") -> None:
    doc = safeyaml.load_one(path.read_bytes(), source=str(path))
    blob = bytearray(base64.b64decode(doc["spec"]["encryptedData"][item]))
    blob[-1] ^= 1
    doc["spec"]["encryptedData"][item] = base64.b64encode(bytes(blob)).decode()
    path.write_text(safeyaml.dump([doc]))


@pytest.fixture
def transport(key_files: KeyFiles, new_key_files: KeyFiles) -> InProcessTransport:
    """A controller holding both generations; the newer one seals."""
    return InProcessTransport(endpoints_for(key_files.generation, new_key_files.generation))


# --- help ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["cert", "verify", "reencrypt"])
def test_cluster_commands_document_how_the_cluster_is_reached(run: Seal, command: str) -> None:
    result = run([command, "--help"])
    assert result.exit_code == 0
    assert result.stdout.startswith(f"Usage: seal {command}")
    text = " ".join(result.stdout.split()).replace("- ", "-")  # undo click's line wrapping
    for wanted in ("--controller-namespace", "--kubeconfig", "--context", "Examples:",
                   "sealops-system"):
        assert wanted in text
    if command != "cert":
        assert "Service sealops-controller, port 8080" in text


def test_the_top_level_help_lists_cert_and_verify(run: Seal) -> None:
    result = run(["--help"])
    assert "  cert " in result.stdout and "  verify " in result.stdout


# --- verify -------------------------------------------------------------------------------------


def test_verify_exits_0_when_the_controller_opens_the_file(
    run: Seal, key_files: KeyFiles, transport: InProcessTransport
) -> None:
    seal_file(run, key_files, "sealed.yaml")
    result = run(["verify", "sealed.yaml", *URL], obj=with_controller(transport))
    assert (result.exit_code, result.stdout) == (0, "prod/db: ok\n")
    assert transport.requests == [("POST", "/v1/verify")]
    assert transport.closed


def test_verify_exits_1_for_a_tampered_copy(
    run: Seal, key_files: KeyFiles, transport: InProcessTransport
) -> None:
    tamper(seal_file(run, key_files, "sealed.yaml"))
    result = run(["verify", "sealed.yaml"], obj=with_controller(transport))
    assert (result.exit_code, result.stdout) == (1, "prod/db: cannot be opened\n")


def test_verify_exits_1_for_keys_the_controller_does_not_hold(
    run: Seal, key_files: KeyFiles, new_key_files: KeyFiles
) -> None:
    seal_file(run, key_files, "sealed.yaml")
    only_new = InProcessTransport(endpoints_for(new_key_files.generation))
    assert run(["verify", "sealed.yaml"], obj=with_controller(only_new)).exit_code == 1


def test_verify_refuses_a_file_without_sealed_secrets(
    run: Seal, transport: InProcessTransport
) -> None:
    (run.workdir / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
    result = run(["verify", "cm.yaml"], obj=with_controller(transport))
    assert result.exit_code == errors.ManifestError.exit_code
    assert "no SealedSecret found" in result.stderr
    assert transport.requests == []


def test_verify_without_a_cluster_configuration_is_a_cluster_error(
    run: Seal, key_files: KeyFiles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seal_file(run, key_files, "sealed.yaml")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    result = run(["verify", "sealed.yaml"])
    assert result.exit_code == errors.ClusterError.exit_code
    assert "no kubeconfig found" in result.stderr and "not running in a cluster" in result.stderr


# --- reencrypt without --key --------------------------------------------------------------------


def test_reencrypt_without_key_asks_the_controller_for_its_newest_key(
    run: Seal, key_files: KeyFiles, new_key_files: KeyFiles, transport: InProcessTransport
) -> None:
    path = seal_file(run, key_files, "sealed.yaml")
    (run.workdir / "other.yaml").write_text("kind: ConfigMap\n")
    result = run(["reencrypt", "sealed.yaml", "other.yaml"], obj=with_controller(transport))
    assert result.exit_code == 0, result.stderr
    assert key_ids(path) == {new_key_files.generation.key_id_hex}
    assert (run.workdir / "other.yaml").read_text() == "kind: ConfigMap\n"
    assert transport.requests == [("POST", "/v1/rotate")]
    assert "re-sealed 1 SealedSecret(s) in 1 file(s)" in result.stderr


def test_reencrypt_without_key_keeps_the_proven_scope_when_annotations_lie_s14(
    run: Seal, key_files: KeyFiles, transport: InProcessTransport
) -> None:
    path = seal_file(run, key_files, "sealed.yaml")
    doc = safeyaml.load_one(path.read_bytes(), source="s")
    doc["metadata"]["annotations"] = {"sealedsecrets.bitnami.com/cluster-wide": "true"}
    path.write_text(safeyaml.dump([doc]))
    assert run(["reencrypt", "sealed.yaml"], obj=with_controller(transport)).exit_code == 0
    rotated = safeyaml.load_one(path.read_bytes(), source="s")
    assert "sealedsecrets.bitnami.com/cluster-wide" not in (
        rotated["metadata"].get("annotations") or {})
    rotated["metadata"]["name"] = "elsewhere"
    (run.workdir / "moved.yaml").write_text(safeyaml.dump([rotated]))
    assert run(["verify", "moved.yaml"], obj=with_controller(transport)).exit_code == 1
    assert run(["verify", "sealed.yaml"], obj=with_controller(transport)).exit_code == 0


def test_reencrypt_without_key_writes_nothing_if_one_file_cannot_be_opened(
    run: Seal, key_files: KeyFiles, transport: InProcessTransport
) -> None:
    good = seal_file(run, key_files, "a.yaml")
    bad = seal_file(run, key_files, "b.yaml", name="other")
    tamper(bad)
    before = {p: p.read_bytes() for p in (good, bad)}
    result = run(["reencrypt", "a.yaml", "b.yaml"], obj=with_controller(transport))
    assert result.exit_code == errors.UnsealError.exit_code
    assert "b.yaml: failed; no file was written" in result.stderr
    assert "SealedSecret prod/other cannot be opened by the controller's keys" in result.stderr
    assert {p: p.read_bytes() for p in (good, bad)} == before


class AnswersWith:
    """A transport whose controller answers every rotate with `answer` (a hostile proxy)."""

    endpoint = "a lying controller"

    def __init__(self, answer: bytes) -> None:
        self.answer = answer

    def request(self, method: str, path: str, *, body: bytes | None = None
                ) -> controllers.Response:
        return controllers.Response(status=200, content_type="application/json",
                                    body=self.answer)

    def close(self) -> None:
        pass


@pytest.mark.parametrize(
    "answer",
    [
        b'{"apiVersion": "sealops.dev/v1alpha1", "kind": "SealedSecret", "metadata": '
        b'{"name": "evil", "namespace": "prod"}, "spec": {"encryptedData": {"password": "AA==",'
        b' "user": "AA=="}}}',
        b'{"apiVersion": "sealops.dev/v1alpha1", "kind": "SealedSecret", "metadata": '
        b'{"name": "db", "namespace": "prod"}, "spec": {"encryptedData": {"password": "AA=="}}}',
        b'{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}}',
        b"[1, 2]",
        b"not json",
    ],
    ids=["renamed", "items-dropped", "a-secret", "a-list", "not-json"],
)
def test_reencrypt_refuses_an_answer_that_is_not_the_same_sealed_secret(
    run: Seal, key_files: KeyFiles, answer: bytes
) -> None:
    path = seal_file(run, key_files, "sealed.yaml")
    before = path.read_bytes()
    result = run(["reencrypt", "sealed.yaml"], obj=with_controller(AnswersWith(answer)))
    assert result.exit_code == errors.ClusterError.exit_code
    assert path.read_bytes() == before


@pytest.mark.parametrize("flags", [["--cert", "x.pem"], ["--suite", "x25519"], ["--v1"]])
def test_reencrypt_without_key_refuses_local_sealing_options(
    run: Seal, key_files: KeyFiles, transport: InProcessTransport, flags: list[str]
) -> None:
    seal_file(run, key_files, "sealed.yaml")
    result = run(["reencrypt", "sealed.yaml", *flags], obj=with_controller(transport))
    assert result.exit_code == 2
    assert "need --key" in result.stderr
    assert transport.requests == []


# --- cert ---------------------------------------------------------------------------------------


def test_cert_from_the_controller_url_prints_its_public_pem(
    run: Seal, key_files: KeyFiles, new_key_files: KeyFiles, transport: InProcessTransport
) -> None:
    result = run(["cert", *URL], obj=with_controller(transport))
    assert result.exit_code == 0, result.stderr
    assert keys.parse_public_pem(result.stdout.encode()) == new_key_files.generation.public()
    assert f"key {new_key_files.generation.key_id_hex} from http://controller.invalid:8080" \
        in result.stderr
    written = run(["cert", *URL, "-o", "public.pem"], obj=with_controller(transport))
    assert written.exit_code == 0 and written.stdout == ""
    assert (run.workdir / "public.pem").read_text() == result.stdout


# --- canaries -----------------------------------------------------------------------------------


def test_no_canary_reaches_the_output_of_verify_reencrypt_or_cert(
    run: Seal, key_files: KeyFiles, transport: InProcessTransport,
    caplog: pytest.LogCaptureFixture
) -> None:
    canary = make_canary()
    outputs = []
    path = seal_file(run, key_files, "sealed.yaml", value=canary)
    seal_file(run, key_files, "bad.yaml", name="bad", value=canary)
    tamper(run.workdir / "bad.yaml", item="password")
    hooks = with_controller(transport)
    for args in (["verify", "sealed.yaml"], ["verify", "bad.yaml"],
                 ["reencrypt", "sealed.yaml", "bad.yaml"], ["reencrypt", "sealed.yaml"],
                 ["cert", *URL]):
        outputs.append(run(args, obj=hooks).output)
    outputs.append(run(["reencrypt", "sealed.yaml"],
                       obj=with_controller(AnswersWith(path.read_bytes()))).output)
    files = "\n".join(p.read_text(errors="replace") for p in run.workdir.iterdir()
                      if p.name != "plain.yaml")
    assert_clean(canary, *outputs, caplog.text, files)


def test_reencrypt_with_key_refuses_a_controller_url(
    run: Seal, key_files: KeyFiles, transport: InProcessTransport
) -> None:
    seal_file(run, key_files, "sealed.yaml")
    result = run(["reencrypt", "sealed.yaml", "--key", str(key_files.private), *URL],
                 obj=with_controller(transport))
    assert result.exit_code == 2
    assert "--controller-url is for re-sealing by the controller" in result.stderr
