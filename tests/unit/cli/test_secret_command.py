"""`seal secret`: sealing files and stdin, formats, kinds, scopes, merge-into, L53 hygiene."""

from __future__ import annotations

import base64
import datetime
import json
import stat
from pathlib import Path

import pytest

from sealer.cli import app, context
from sealer.crypto import envelope, keyring
from sealer.manifests import safeyaml, seal, secrets

from .conftest import SECRET_YAML, KeyFiles, Seal


def unsealed(text: str, key_files: KeyFiles) -> dict[str, bytes]:
    ring = keyring.Keyring([key_files.generation])
    doc = safeyaml.load_one(text.encode(), source="out")
    return {k: base64.b64decode(v) for k, v in seal.unseal(doc, keyring=ring)["data"].items()}


def envelopes(text: str) -> list[bytes]:
    doc = safeyaml.load_one(text.encode(), source="out")
    return [base64.b64decode(v) for v in doc["spec"]["encryptedData"].values()]


def files_in(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_a_secret_file_is_sealed_to_stdout(
    run: Seal, secret_file: Path, key_files: KeyFiles
) -> None:
    result = run(["secret", str(secret_file), "--cert", str(key_files.public)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("apiVersion: sealops.dev/v1alpha1\nkind: SealedSecret\n")
    assert unsealed(result.stdout, key_files) == {"password": b"hunter2", "user": b"admin"}
    assert "hunter2" not in result.output


def test_a_secret_is_read_from_stdin(run: Seal, key_files: KeyFiles) -> None:
    result = run(["secret", "--cert", str(key_files.public)], input=SECRET_YAML)
    assert result.exit_code == 0, result.stderr
    assert unsealed(result.stdout, key_files)["user"] == b"admin"
    dash = run(["secret", "-", "--cert", str(key_files.public)], input=SECRET_YAML)
    assert dash.exit_code == 0


def test_output_goes_to_a_0644_file_and_leaves_no_temp_file(
    run: Seal, secret_file: Path, key_files: KeyFiles
) -> None:
    result = run(["secret", str(secret_file), "--cert", str(key_files.public), "-w", "out.yaml"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    out = run.workdir / "out.yaml"
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    assert files_in(run.workdir) == ["out.yaml", "secret.yaml"]
    assert unsealed(out.read_text(), key_files)["password"] == b"hunter2"


def test_json_output(run: Seal, secret_file: Path, key_files: KeyFiles) -> None:
    result = run(["secret", str(secret_file), "--cert", str(key_files.public), "--format", "json"])
    assert json.loads(result.stdout)["kind"] == "SealedSecret"


def test_several_secrets_in_one_stream_are_all_sealed(run: Seal, key_files: KeyFiles) -> None:
    second = SECRET_YAML.replace("name: db", "name: other")
    result = run(["secret", "--cert", str(key_files.public)], input=SECRET_YAML + "---\n" + second)
    docs = safeyaml.load_documents(result.stdout.encode(), source="out")
    assert [d["metadata"]["name"] for d in docs] == ["db", "other"]


def test_the_bitnami_kind_gives_v1_envelopes(
    run: Seal, secret_file: Path, key_files: KeyFiles
) -> None:
    result = run(["secret", str(secret_file), "--cert", str(key_files.public), "--kind", "bitnami"])
    assert result.stdout.startswith("apiVersion: bitnami.com/v1alpha1\n")
    assert all(envelope.envelope_key_id(b) is None for b in envelopes(result.stdout))


def test_a_bare_kubeseal_certificate_gives_v1_envelopes(
    run: Seal, secret_file: Path, kubeseal_files: tuple[Path, Path]
) -> None:
    cert, _key = kubeseal_files
    result = run(["secret", str(secret_file), "--cert", str(cert)])
    assert result.exit_code == 0, result.stderr
    assert all(b[:2] == (256).to_bytes(2, "big") for b in envelopes(result.stdout))


@pytest.mark.parametrize(
    ("flags", "header"), [(["--v1"], None), (["--suite", "x25519"], b"SO\x02\x01")]
)
def test_envelope_flags(
    run: Seal, secret_file: Path, key_files: KeyFiles, flags: list[str], header: bytes | None
) -> None:
    result = run(["secret", str(secret_file), "--cert", str(key_files.public), *flags])
    for blob in envelopes(result.stdout):
        assert (blob[:4] if header else envelope.envelope_key_id(blob)) == header


def test_the_scope_flag_sets_the_annotations(
    run: Seal, secret_file: Path, key_files: KeyFiles
) -> None:
    result = run(
        ["secret", str(secret_file), "--cert", str(key_files.public), "--scope", "cluster-wide"]
    )
    doc = safeyaml.load_one(result.stdout.encode(), source="out")
    assert doc["metadata"]["annotations"] == {secrets.CLUSTER_WIDE_ANNOTATION: "true"}


def test_the_namespace_flag_fills_a_missing_namespace(run: Seal, key_files: KeyFiles) -> None:
    text = SECRET_YAML.replace("  namespace: prod\n", "")
    result = run(["secret", "--cert", str(key_files.public), "--namespace", "ops"], input=text)
    assert safeyaml.load_one(result.stdout.encode(), source="o")["metadata"]["namespace"] == "ops"


def test_a_conflicting_namespace_flag_is_a_usage_error(
    run: Seal, secret_file: Path, key_files: KeyFiles
) -> None:
    result = run(["secret", str(secret_file), "--cert", str(key_files.public), "--namespace", "x"])
    assert result.exit_code == 2
    assert result.stdout == ""


def test_options_come_from_seal_environment_variables(
    run: Seal, secret_file: Path, key_files: KeyFiles
) -> None:
    result = run.runner.invoke(
        app.main,
        ["secret", str(secret_file)],
        env={"SEAL_SECRET_CERT": str(key_files.public), "SEAL_SECRET_KIND": "bitnami"},
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("apiVersion: bitnami.com/v1alpha1")


# --- public keys ----------------------------------------------------------------------------------


def test_without_a_cert_or_a_fetch_hook_the_error_says_so(run: Seal, secret_file: Path) -> None:
    # `seal` plugs in the cluster fetcher itself; an embedder's context may have none.
    result = run(["secret", str(secret_file)], obj=context.CliContext())
    assert result.exit_code == 2
    assert "no --cert given, and no cluster to fetch public keys from" in result.stderr
    assert result.stdout == ""


def test_a_plugged_fetch_hook_supplies_the_public_keys(
    run: Seal, secret_file: Path, key_files: KeyFiles
) -> None:
    hook = context.CliContext(fetch_public_keys=key_files.generation.public)
    result = run(["secret", str(secret_file)], obj=hook)
    assert result.exit_code == 0, result.stderr
    assert unsealed(result.stdout, key_files)["user"] == b"admin"


def test_an_expired_certificate_is_refused_c10(
    run: Seal, secret_file: Path, key_files: KeyFiles
) -> None:
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=3700)
    result = run(
        ["secret", str(secret_file), "--cert", str(key_files.public), "-w", "out.yaml"],
        obj=context.CliContext(now=lambda: later),
    )
    assert result.exit_code == 4
    assert "expired" in result.stderr
    assert files_in(run.workdir) == ["secret.yaml"]


@pytest.mark.parametrize(
    "pem",
    [b"", b"not a pem", b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"],
)
def test_a_bad_certificate_file_is_refused(run: Seal, secret_file: Path, pem: bytes) -> None:
    (run.workdir / "bad.pem").write_bytes(pem)
    result = run(["secret", str(secret_file), "--cert", "bad.pem"])
    assert result.exit_code == 4
    assert result.stdout == ""


def test_a_cert_with_trailing_garbage_is_refused(
    run: Seal, secret_file: Path, key_files: KeyFiles
) -> None:
    (run.workdir / "bad.pem").write_bytes(key_files.public.read_bytes() + b"garbage\n")
    assert run(["secret", str(secret_file), "--cert", "bad.pem"]).exit_code == 4


# --- L53: nothing written on failure --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: [\n", "at secret.yaml:2"),
        (SECRET_YAML + "metadata: {}\n", "duplicate key 'metadata'"),
        (SECRET_YAML.replace("hunter2", "0123"), "stringData item 'password' is a YAML integer"),
        (SECRET_YAML.replace("name: db", "name: a/b"), "not a valid DNS-1123 subdomain"),
        (SECRET_YAML.replace("hunter2", "!!binary aGk="), "is not allowed"),
        ("kind: ConfigMap\n", "expected apiVersion v1, kind Secret"),
        ("", "no Secret found"),
    ],
)
def test_a_bad_input_writes_nothing_and_exits_non_zero(
    run: Seal, key_files: KeyFiles, text: str, message: str
) -> None:
    (run.workdir / "secret.yaml").write_text(text)
    (run.workdir / "out.yaml").write_text("previous\n")
    result = run(["secret", "secret.yaml", "--cert", str(key_files.public), "-w", "out.yaml"])
    assert result.exit_code == 3
    assert message in result.stderr
    assert result.stdout == ""
    assert (run.workdir / "out.yaml").read_text() == "previous\n"
    assert files_in(run.workdir) == ["out.yaml", "secret.yaml"]


def test_an_unwritable_output_is_an_error_without_leftovers(
    run: Seal, secret_file: Path, key_files: KeyFiles
) -> None:
    result = run(
        ["secret", str(secret_file), "--cert", str(key_files.public), "-w", "missing-dir/out.yaml"]
    )
    assert result.exit_code == 1
    assert "cannot write" in result.stderr
    assert files_in(run.workdir) == ["secret.yaml"]


def test_a_secret_without_data_needs_a_flag(run: Seal, key_files: KeyFiles) -> None:
    text = "apiVersion: v1\nkind: Secret\nmetadata: {name: a, namespace: b}\n"
    assert run(["secret", "--cert", str(key_files.public)], input=text).exit_code == 3
    result = run(["secret", "--cert", str(key_files.public), "--allow-empty-data"], input=text)
    assert result.exit_code == 0
    assert safeyaml.load_one(result.stdout.encode(), source="o")["spec"]["encryptedData"] == {}


def test_a_missing_input_file_is_a_usage_error(run: Seal, key_files: KeyFiles) -> None:
    result = run(["secret", "nope.yaml", "--cert", str(key_files.public)])
    assert result.exit_code == 2
    assert "cannot read nope.yaml" in result.stderr


# --- merge-into -----------------------------------------------------------------------------------


@pytest.fixture
def sealed_file(run: Seal, secret_file: Path, key_files: KeyFiles) -> Path:
    result = run(["secret", str(secret_file), "--cert", str(key_files.public), "-w", "sealed.yaml"])
    assert result.exit_code == 0
    return run.workdir / "sealed.yaml"


NEW_ITEM = (
    "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {user: root, token: t0k}\n"
)


def test_merge_into_adds_items_in_place(run: Seal, sealed_file: Path, key_files: KeyFiles) -> None:
    before = safeyaml.load_one(sealed_file.read_bytes(), source="s")
    result = run(
        ["secret", "--cert", str(key_files.public), "--merge-into", str(sealed_file)],
        input=NEW_ITEM,
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    after = safeyaml.load_one(sealed_file.read_bytes(), source="s")
    assert after["spec"]["encryptedData"]["password"] == before["spec"]["encryptedData"]["password"]
    assert after["spec"]["template"] == before["spec"]["template"]
    assert unsealed(sealed_file.read_text(), key_files) == {
        "password": b"hunter2",
        "token": b"t0k",
        "user": b"root",
    }


def test_merge_into_with_output_leaves_the_original(
    run: Seal, sealed_file: Path, key_files: KeyFiles
) -> None:
    original = sealed_file.read_bytes()
    result = run(
        ["secret", "--cert", str(key_files.public), "--merge-into", str(sealed_file), "-w", "-"],
        input=NEW_ITEM,
    )
    assert result.exit_code == 0
    assert "token" in result.stdout
    assert sealed_file.read_bytes() == original


def test_merge_into_another_object_is_refused(
    run: Seal, sealed_file: Path, key_files: KeyFiles
) -> None:
    original = sealed_file.read_bytes()
    result = run(
        ["secret", "--cert", str(key_files.public), "--merge-into", str(sealed_file)],
        input=NEW_ITEM.replace("name: db", "name: other"),
    )
    assert result.exit_code == 2
    assert sealed_file.read_bytes() == original


def test_merge_into_keeps_the_kind_and_scope_of_the_target(
    run: Seal, secret_file: Path, key_files: KeyFiles
) -> None:
    run(
        [
            "secret",
            str(secret_file),
            "--cert",
            str(key_files.public),
            "--kind",
            "bitnami",
            "--scope",
            "namespace-wide",
            "-w",
            "sealed.yaml",
        ]
    )
    result = run(
        ["secret", "--cert", str(key_files.public), "--merge-into", "sealed.yaml"], input=NEW_ITEM
    )
    assert result.exit_code == 0, result.stderr
    text = (run.workdir / "sealed.yaml").read_text()
    assert all(envelope.envelope_key_id(b) is None for b in envelopes(text))
    doc = safeyaml.load_one(text.encode(), source="s")
    assert secrets.parse_sealed_secret(doc).annotated_scope.value == "namespace-wide"
    assert unsealed(text, key_files)["token"] == b"t0k"
    mismatch = run(
        [
            "secret",
            "--cert",
            str(key_files.public),
            "--merge-into",
            "sealed.yaml",
            "--scope",
            "strict",
        ],
        input=NEW_ITEM,
    )
    assert mismatch.exit_code == 2


def test_merge_into_a_json_file_stays_json(
    run: Seal, secret_file: Path, key_files: KeyFiles
) -> None:
    run(
        [
            "secret",
            str(secret_file),
            "--cert",
            str(key_files.public),
            "--format",
            "json",
            "-w",
            "sealed.json",
        ]
    )
    result = run(
        ["secret", "--cert", str(key_files.public), "--merge-into", "sealed.json"], input=NEW_ITEM
    )
    assert result.exit_code == 0
    assert "token" in json.loads((run.workdir / "sealed.json").read_text())["spec"]["encryptedData"]
