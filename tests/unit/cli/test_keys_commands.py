"""`seal keys generate|backup|restore`: files, modes, passphrases from a file or a prompt."""

from __future__ import annotations

import stat
from pathlib import Path

from sealer.crypto import keys

from .conftest import KeyFiles, Seal


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def key_ids(path: Path) -> list[bytes]:
    return [k.key_id for k in keys.parse_private_pem(path.read_bytes())]


def test_generate_writes_a_public_and_a_private_file(run: Seal) -> None:
    result = run(["keys", "generate", "--out", "k", "--rsa-bits", "2048"])
    assert result.exit_code == 0, result.stderr
    assert mode(run.workdir / "k" / "public.pem") == 0o644
    assert mode(run.workdir / "k" / "private.pem") == 0o600
    (generation,) = keys.parse_private_pem((run.workdir / "k" / "private.pem").read_bytes())
    assert generation.key_id_hex in result.stderr
    assert result.stdout == ""
    public = keys.parse_public_pem((run.workdir / "k" / "public.pem").read_bytes())
    assert public.key_id == generation.key_id and public.has_v2


def test_generate_never_overwrites_existing_keys(run: Seal) -> None:
    assert run(["keys", "generate", "--out", "k", "--rsa-bits", "2048"]).exit_code == 0
    before = (run.workdir / "k" / "private.pem").read_bytes()
    result = run(["keys", "generate", "--out", "k", "--rsa-bits", "2048"])
    assert result.exit_code == 4
    assert "refusing to overwrite" in result.stderr
    assert (run.workdir / "k" / "private.pem").read_bytes() == before


def test_generate_mentions_the_suite_in_its_hint(run: Seal) -> None:
    result = run(["keys", "generate", "--out", "k", "--rsa-bits", "2048", "--suite", "x25519"])
    assert "--suite x25519" in result.stderr


def test_backup_and_restore_with_a_passphrase_file(run: Seal, key_files: KeyFiles) -> None:
    (run.workdir / "pass").write_bytes(b"correct horse\n")
    result = run(
        [
            "keys",
            "backup",
            "--key",
            str(key_files.private),
            "--out",
            "keys.bak",
            "--passphrase-file",
            "pass",
            "--strength",
            "interactive",
        ]
    )
    assert result.exit_code == 0, result.stderr
    backup = run.workdir / "keys.bak"
    assert mode(backup) == 0o600
    assert b"PRIVATE KEY" not in backup.read_bytes()
    restored = run(["keys", "restore", "keys.bak", "--out", "r", "--passphrase-file", "pass"])
    assert restored.exit_code == 0, restored.stderr
    assert key_ids(run.workdir / "r" / "private.pem") == [key_files.generation.key_id]
    assert mode(run.workdir / "r" / "private.pem") == 0o600
    assert (run.workdir / "r" / "public.pem").read_bytes() == key_files.public.read_bytes()


def test_backup_and_restore_with_a_hidden_prompt(run: Seal, key_files: KeyFiles) -> None:
    result = run(
        [
            "keys",
            "backup",
            "--key",
            str(key_files.private),
            "--out",
            "keys.bak",
            "--strength",
            "interactive",
        ],
        input="pw-1 long enough\npw-1 long enough\n",
    )
    assert result.exit_code == 0, result.stderr
    assert "pw-1" not in result.output
    restored = run(["keys", "restore", "keys.bak", "--out", "r"], input="pw-1 long enough\n")
    assert restored.exit_code == 0, restored.stderr


def test_restore_with_the_wrong_passphrase_writes_nothing(run: Seal, key_files: KeyFiles) -> None:
    (run.workdir / "pass").write_text("right, and long enough")
    (run.workdir / "wrong").write_text("wrong")
    run(
        [
            "keys",
            "backup",
            "--key",
            str(key_files.private),
            "--out",
            "keys.bak",
            "--passphrase-file",
            "pass",
            "--strength",
            "interactive",
        ]
    )
    result = run(["keys", "restore", "keys.bak", "--out", "r", "--passphrase-file", "wrong"])
    assert result.exit_code == 4
    assert "wrong passphrase" in result.stderr
    assert not (run.workdir / "r").exists()


def test_backup_never_overwrites_and_refuses_an_empty_passphrase(
    run: Seal, key_files: KeyFiles
) -> None:
    (run.workdir / "empty").write_text("\n")
    result = run(
        [
            "keys",
            "backup",
            "--key",
            str(key_files.private),
            "--out",
            "keys.bak",
            "--passphrase-file",
            "empty",
        ]
    )
    assert result.exit_code == 2
    assert "empty" in result.stderr
    assert not (run.workdir / "keys.bak").exists()
    (run.workdir / "keys.bak").write_text("old")
    again = run(
        [
            "keys",
            "backup",
            "--key",
            str(key_files.private),
            "--out",
            "keys.bak",
            "--passphrase-file",
            "empty",
        ]
    )
    assert again.exit_code == 2
    assert (run.workdir / "keys.bak").read_text() == "old"


def test_no_passphrase_option_takes_a_value_on_the_command_line(run: Seal) -> None:
    for command in (["keys", "backup"], ["keys", "restore"]):
        help_text = run([*command, "--help"]).stdout
        assert "--passphrase " not in help_text
        assert "--passphrase-file" in help_text
