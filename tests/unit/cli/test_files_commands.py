"""`seal reencrypt` and `seal check`: many files, all or nothing, scope proof, findings."""

from __future__ import annotations

import base64
from pathlib import Path

from sealer.cli import context
from sealer.crypto import keyring, scope
from sealer.manifests import safeyaml, seal, secrets

from .conftest import SECRET_YAML, KeyFiles, Seal


def seal_file(
    run: Seal, key_files: KeyFiles, path: str, *flags: str, text: str = SECRET_YAML
) -> Path:
    (run.workdir / "in.yaml").write_text(text)
    result = run(["secret", "in.yaml", "--cert", str(key_files.public), "-w", path, *flags])
    assert result.exit_code == 0, result.stderr
    (run.workdir / "in.yaml").unlink()
    return run.workdir / path


def unseal_with(path: Path, key_files: KeyFiles) -> dict[str, bytes]:
    ring = keyring.Keyring([key_files.generation])
    docs = safeyaml.load_documents(path.read_bytes(), source=str(path))
    (doc,) = [d for d in docs if d["kind"] == "SealedSecret"]
    return {k: base64.b64decode(v) for k, v in seal.unseal(doc, keyring=ring)["data"].items()}


# --- reencrypt ------------------------------------------------------------------------------------


def test_reencrypt_reseals_to_the_new_key_and_keeps_other_documents(
    run: Seal, key_files: KeyFiles, new_key_files: KeyFiles
) -> None:
    sealed = seal_file(run, key_files, "a.yaml")
    text = "# config first\nkind: ConfigMap\nmetadata: {name: c}\n---\n" + sealed.read_text()
    sealed.write_text(text)
    result = run(
        [
            "reencrypt",
            "a.yaml",
            "--key",
            str(key_files.private),
            "--cert",
            str(new_key_files.public),
        ]
    )
    assert result.exit_code == 0, result.stderr
    new_text = sealed.read_text()
    assert new_text.startswith("# config first\nkind: ConfigMap\nmetadata: {name: c}\n---\n")
    assert unseal_with(sealed, new_key_files) == {"password": b"hunter2", "user": b"admin"}
    assert "re-sealed 1 SealedSecret(s) in 1 file(s)" in result.stderr


def test_reencrypt_keeps_the_scope_proven_by_the_old_ciphertext_s14(
    run: Seal, key_files: KeyFiles, new_key_files: KeyFiles
) -> None:
    sealed = seal_file(run, key_files, "a.yaml")  # strict
    doc = safeyaml.load_one(sealed.read_bytes(), source="a")
    lie = secrets.scope_annotations({}, scope.Scope.CLUSTER_WIDE)
    doc["metadata"]["annotations"] = lie
    doc["spec"]["template"]["metadata"]["annotations"] = lie
    sealed.write_text(safeyaml.dump([doc]))
    result = run(
        [
            "reencrypt",
            "a.yaml",
            "--key",
            str(key_files.private),
            "--cert",
            str(new_key_files.public),
        ]
    )
    assert result.exit_code == 0, result.stderr
    after = safeyaml.load_one(sealed.read_bytes(), source="a")
    assert "annotations" not in after["metadata"]
    assert secrets.parse_sealed_secret(after).annotated_scope is scope.Scope.STRICT
    assert "annotations" not in after["spec"]["template"]["metadata"]


def test_reencrypt_writes_no_file_when_any_file_fails(
    run: Seal, key_files: KeyFiles, new_key_files: KeyFiles
) -> None:
    good = seal_file(run, key_files, "good.yaml")
    bad = seal_file(run, new_key_files, "bad.yaml")
    before = {p: p.read_bytes() for p in (good, bad)}
    result = run(
        [
            "reencrypt",
            "good.yaml",
            "bad.yaml",
            "--key",
            str(key_files.private),
            "--cert",
            str(new_key_files.public),
        ]
    )
    assert result.exit_code == 5
    assert "bad.yaml: failed; no file was written" in result.stderr
    assert {p: p.read_bytes() for p in (good, bad)} == before
    assert sorted(p.name for p in run.workdir.iterdir()) == ["bad.yaml", "good.yaml"]


def test_reencrypt_shows_progress_for_many_files(
    run: Seal, key_files: KeyFiles, new_key_files: KeyFiles
) -> None:
    names = [seal_file(run, key_files, f"s{i}.yaml").name for i in range(6)]
    result = run(
        ["reencrypt", *names, "--key", str(key_files.private), "--cert", str(new_key_files.public)]
    )
    assert result.exit_code == 0, result.stderr
    assert "re-encrypting" in result.stderr
    few = run(
        [
            "reencrypt",
            names[0],
            "--key",
            str(new_key_files.private),
            "--cert",
            str(key_files.public),
        ]
    )
    assert "re-encrypting" not in few.stderr


# --- check ----------------------------------------------------------------------------------------


def test_check_passes_a_clean_tree(run: Seal, key_files: KeyFiles) -> None:
    seal_file(run, key_files, "sealed.yaml")
    (run.workdir / "cm.yaml").write_text("kind: ConfigMap\ndata: {a: b}\n")
    result = run(["check"])
    assert result.exit_code == 0
    assert result.stdout == ""


def test_check_reports_plaintext_with_file_and_line(run: Seal) -> None:
    (run.workdir / "deploy").mkdir()
    (run.workdir / "deploy" / "s.yaml").write_text(SECRET_YAML)
    result = run(["check", "deploy"])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "deploy/s.yaml:8: Secret prod/db item 'password': plaintext Secret value; seal it with "
        "`seal secret` (or `seal check --fix --cert CERT`)",
        "deploy/s.yaml:9: Secret prod/db item 'user': plaintext Secret value; seal it with "
        "`seal secret` (or `seal check --fix --cert CERT`)",
    ]
    assert "hunter2" not in result.output


def test_check_fix_needs_a_certificate(run: Seal) -> None:
    (run.workdir / "s.yaml").write_text(SECRET_YAML)
    result = run(["check", "--fix"], obj=context.CliContext())  # no cluster to fetch from
    assert result.exit_code == 2
    assert (run.workdir / "s.yaml").read_text() == SECRET_YAML


def test_check_fix_seals_in_place(run: Seal, key_files: KeyFiles) -> None:
    path = run.workdir / "s.yaml"
    path.write_text("# keep this\n" + SECRET_YAML + "---\nkind: ConfigMap\n")
    result = run(["check", "--fix", "--cert", str(key_files.public)])
    assert result.exit_code == 0, result.stderr
    assert "s.yaml: sealed 1 Secret(s) in place" in result.stderr
    text = path.read_text()
    assert text.startswith("# keep this\napiVersion: sealops.dev/v1alpha1\n")
    assert text.endswith("---\nkind: ConfigMap\n")
    assert "hunter2" not in text
    assert unseal_with(path, key_files)["password"] == b"hunter2"
    assert run(["check"]).exit_code == 0


def test_check_fix_leaves_unfixable_findings_and_fails(run: Seal, key_files: KeyFiles) -> None:
    (run.workdir / "bad.yaml").write_text(
        "apiVersion: sealops.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: s}\n"
        "spec:\n  encryptedData:\n    k: '!!'\n"
    )
    result = run(["check", "--fix", "--cert", str(key_files.public)])
    assert result.exit_code == 1
    assert result.stdout.startswith("bad.yaml:6: SealedSecret s item 'k': sealed value is not")


def test_check_of_a_missing_path_is_a_usage_error(run: Seal) -> None:
    assert run(["check", "nope"]).exit_code == 2
