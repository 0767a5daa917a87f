"""`seal raw` and `seal unseal`."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from sealer import errors
from sealer.crypto import envelope, keyring, scope
from sealer.manifests import safeyaml, secrets

from .conftest import KUBESEAL, KeyFiles, Seal


def open_raw(text: str, key_files: KeyFiles, *, label: bytes, item: str) -> bytes:
    ring = keyring.Keyring([key_files.generation])
    value, _key_id = ring.decrypt(text, label=label, item=item)
    return value


# --- raw ------------------------------------------------------------------------------------------


def test_raw_seals_stdin_and_prints_no_trailing_newline(run: Seal, key_files: KeyFiles) -> None:
    result = run(
        [
            "raw",
            "--cert",
            str(key_files.public),
            "--namespace",
            "prod",
            "--name",
            "db",
            "--item",
            "password",
        ],
        input=b"s3cret\n",
    )
    assert result.exit_code == 0, result.stderr
    assert not result.stdout.endswith("\n")
    value = open_raw(result.stdout, key_files, label=b"prod/db", item="password")
    assert value == b"s3cret\n"  # bytes exactly as given


def test_raw_reads_a_file_and_takes_the_item_from_its_name(run: Seal, key_files: KeyFiles) -> None:
    (run.workdir / "tls.key").write_bytes(bytes(range(256)))
    result = run(
        [
            "raw",
            "--cert",
            str(key_files.public),
            "--namespace",
            "prod",
            "--scope",
            "namespace-wide",
            "--from-file",
            "tls.key",
        ]
    )
    assert result.exit_code == 0, result.stderr
    assert open_raw(result.stdout, key_files, label=b"prod", item="tls.key") == bytes(range(256))


def test_raw_cluster_wide_needs_no_names(run: Seal, key_files: KeyFiles) -> None:
    result = run(
        ["raw", "--cert", str(key_files.public), "--scope", "cluster-wide", "--item", "k"],
        input=b"v",
    )
    assert open_raw(result.stdout, key_files, label=b"", item="k") == b"v"


def test_raw_v2_needs_an_item(run: Seal, key_files: KeyFiles) -> None:
    result = run(
        ["raw", "--cert", str(key_files.public), "--namespace", "p", "--name", "n"], input=b"v"
    )
    assert result.exit_code == 2
    assert "--item is required" in result.stderr
    v1 = run(
        ["raw", "--cert", str(key_files.public), "--namespace", "p", "--name", "n", "--v1"],
        input=b"v",
    )
    assert v1.exit_code == 0
    assert envelope.envelope_key_id(base64.b64decode(v1.stdout)) is None


@pytest.mark.parametrize(
    "flags",
    [
        # (strict without --namespace takes the kubeconfig context's: test_kubeseal_habits)
        ["--namespace", "prod", "--item", "k"],  # strict without a name
        ["--namespace", "prod", "--name", "a/b", "--item", "k"],
        ["--namespace", "Prod", "--name", "db", "--item", "k"],
        ["--namespace", "prod", "--name", "db", "--item", "../x"],
    ],
)
def test_raw_refuses_incomplete_or_hostile_names(
    run: Seal, key_files: KeyFiles, flags: list[str]
) -> None:
    result = run(["raw", "--cert", str(key_files.public), *flags], input=b"v")
    assert result.exit_code == errors.ManifestError.exit_code
    assert result.stdout == ""


# --- unseal ---------------------------------------------------------------------------------------


def sealed_text(run: Seal, key_files: KeyFiles, *extra: str) -> str:
    result = run(["secret", "secret.yaml", "--cert", str(key_files.public), *extra])
    assert result.exit_code == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("kind", ["sealops", "bitnami"])
def test_unseal_opens_either_kind(
    run: Seal, secret_file: Path, key_files: KeyFiles, kind: str
) -> None:
    (run.workdir / "sealed.yaml").write_text(sealed_text(run, key_files, "--kind", kind))
    result = run(["unseal", "sealed.yaml", "--key", str(key_files.private)])
    assert result.exit_code == 0, result.stderr
    doc = safeyaml.load_one(result.stdout.encode(), source="o")
    assert doc["kind"] == "Secret"
    assert doc["metadata"] == {"name": "db", "namespace": "prod", "labels": {"app": "db"}}
    assert base64.b64decode(doc["data"]["password"]) == b"hunter2"


def test_unseal_writes_a_0600_file(run: Seal, secret_file: Path, key_files: KeyFiles) -> None:
    (run.workdir / "sealed.yaml").write_text(sealed_text(run, key_files))
    result = run(["unseal", "sealed.yaml", "--key", str(key_files.private), "-w", "plain.yaml"])
    assert result.exit_code == 0
    assert (run.workdir / "plain.yaml").stat().st_mode & 0o777 == 0o600


def test_unseal_with_the_wrong_key_fails_uniformly(
    run: Seal, secret_file: Path, key_files: KeyFiles, new_key_files: KeyFiles
) -> None:
    (run.workdir / "sealed.yaml").write_text(sealed_text(run, key_files, "--v1"))
    result = run(["unseal", "sealed.yaml", "--key", str(new_key_files.private)])
    assert result.exit_code == errors.UnsealError.exit_code
    assert result.stderr.strip().endswith(str(errors.UnsealError("password")))
    assert result.stdout == ""


def test_unseal_names_an_unknown_key_id(
    run: Seal, secret_file: Path, key_files: KeyFiles, new_key_files: KeyFiles
) -> None:
    (run.workdir / "sealed.yaml").write_text(sealed_text(run, key_files))
    result = run(["unseal", "sealed.yaml", "--key", str(new_key_files.private)])
    assert result.exit_code == 5
    assert key_files.generation.key_id_hex in result.stderr


def test_unseal_accepts_several_keys(
    run: Seal, secret_file: Path, key_files: KeyFiles, new_key_files: KeyFiles
) -> None:
    (run.workdir / "sealed.yaml").write_text(sealed_text(run, key_files, "--v1"))
    result = run(
        [
            "unseal",
            "sealed.yaml",
            "--key",
            str(new_key_files.private),
            "--key",
            str(key_files.private),
        ]
    )
    assert result.exit_code == 0, result.stderr


def test_unseal_refuses_a_copy_with_a_widened_scope_annotation_s13(
    run: Seal, secret_file: Path, key_files: KeyFiles
) -> None:
    doc = safeyaml.load_one(sealed_text(run, key_files).encode(), source="s")
    doc["metadata"]["namespace"] = "attacker"
    doc["metadata"]["annotations"] = secrets.scope_annotations({}, scope.Scope.CLUSTER_WIDE)
    (run.workdir / "sealed.yaml").write_text(safeyaml.dump([doc]))
    result = run(["unseal", "sealed.yaml", "--key", str(key_files.private)])
    assert result.exit_code == 5
    assert result.stdout == ""


def test_unseal_opens_kubeseal_output(run: Seal, kubeseal_files: tuple[Path, Path]) -> None:
    vectors = [
        v
        for v in json.loads((KUBESEAL / "pub2048.vectors.json").read_text())
        if v["name"] == "db-pub2"
    ]
    doc = {
        "apiVersion": "bitnami.com/v1alpha1",
        "kind": "SealedSecret",
        "metadata": {"name": "db-pub2", "namespace": "default"},
        "spec": {"encryptedData": {v["item"]: v["ciphertext_b64"] for v in vectors}},
    }
    (run.workdir / "sealed.json").write_text(json.dumps(doc))
    _cert, key = kubeseal_files
    result = run(["unseal", "sealed.json", "--key", str(key), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)["data"]
    assert {k: base64.b64decode(v) for k, v in data.items()} == {
        v["item"]: base64.b64decode(v["plaintext_b64"]) for v in vectors
    }


def test_unseal_without_a_key_is_a_usage_error(run: Seal, secret_file: Path) -> None:
    assert run(["unseal", "secret.yaml"]).exit_code == 2


def test_unseal_of_v2_with_only_a_kubeseal_key_says_which_generation_to_restore(
    run: Seal, secret_file: Path, key_files: KeyFiles, kubeseal_files: tuple[Path, Path]
) -> None:
    # issue 10 item 11: the old message said "re-seal it with the current certificate", which
    # is no help to someone recovering a cluster from Git
    (run.workdir / "sealed.yaml").write_text(sealed_text(run, key_files))
    _cert, tls_key = kubeseal_files
    result = run(["unseal", "sealed.yaml", "--key", str(tls_key)])
    assert result.exit_code == 5
    kid = key_files.generation.key_id_hex
    assert f"only sealops key generation {kid} opens" in result.stderr
    assert "kubeseal keys only (tls.key), which open v1 envelopes" in result.stderr
    assert "seal keys restore" in result.stderr
    assert "re-seal" not in result.stderr
    assert result.stdout == ""


def test_unseal_of_v2_with_another_generation_names_the_missing_one(
    run: Seal, secret_file: Path, key_files: KeyFiles, new_key_files: KeyFiles
) -> None:
    (run.workdir / "sealed.yaml").write_text(sealed_text(run, key_files))
    result = run(["unseal", "sealed.yaml", "--key", str(new_key_files.private)])
    assert result.exit_code == 5
    assert key_files.generation.key_id_hex in result.stderr
    assert "other sealops key generations" in result.stderr and "re-seal" not in result.stderr
