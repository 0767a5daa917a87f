"""`seal reencrypt` is all or nothing (issue 10 item 10): read-only files, symlinks, temps.

The 500-file case whose 251st write fails for real is in
tests/integration/cli/test_reencrypt_write_failure.py (a subprocess under RLIMIT_FSIZE).
"""

from __future__ import annotations

import os
from pathlib import Path

import click.testing
import pytest

from sealer import errors
from sealer.cli import fileset

from .conftest import KeyFiles, Seal
from .test_files_commands import seal_file, unseal_with


def reencrypt(
    run: Seal, key_files: KeyFiles, new_key_files: KeyFiles, *names: str
) -> click.testing.Result:
    return run(["reencrypt", *names, "--key", str(key_files.private),
                "--cert", str(new_key_files.public)])


def test_a_read_only_file_is_refused_by_name_and_nothing_changes(
    run: Seal, key_files: KeyFiles, new_key_files: KeyFiles
) -> None:
    a = seal_file(run, key_files, "a.yaml")
    ro = seal_file(run, key_files, "ro.yaml")
    ro.chmod(0o444)
    before = {p: p.read_bytes() for p in (a, ro)}
    result = reencrypt(run, key_files, new_key_files, "a.yaml", "ro.yaml")
    assert result.exit_code == 2
    assert "ro.yaml is read-only; no file was changed" in result.stderr
    assert {p: p.read_bytes() for p in (a, ro)} == before


def test_force_replaces_a_read_only_file_and_keeps_its_mode(
    run: Seal, key_files: KeyFiles, new_key_files: KeyFiles
) -> None:
    ro = seal_file(run, key_files, "ro.yaml")
    ro.chmod(0o444)
    result = run(["reencrypt", "ro.yaml", "--force", "--key", str(key_files.private),
                  "--cert", str(new_key_files.public)])
    assert result.exit_code == 0, result.stderr
    assert ro.stat().st_mode & 0o777 == 0o444
    assert unseal_with(ro, new_key_files)["password"] == b"hunter2"


def test_a_symlink_is_followed_its_target_rewritten_and_said_so(
    run: Seal, key_files: KeyFiles, new_key_files: KeyFiles
) -> None:
    (run.workdir / "real").mkdir()
    target = seal_file(run, key_files, "real/s.yaml")
    (run.workdir / "link.yaml").symlink_to("real/s.yaml")
    result = reencrypt(run, key_files, new_key_files, "link.yaml", "real/s.yaml")
    assert result.exit_code == 0, result.stderr
    assert "link.yaml is a symbolic link: rewriting its target" in result.stderr
    assert "re-sealed 1 SealedSecret(s) in 1 file(s)" in result.stderr
    assert (run.workdir / "link.yaml").is_symlink()
    assert unseal_with(target, new_key_files)["password"] == b"hunter2"


def test_no_temporary_file_is_left_after_success(
    run: Seal, key_files: KeyFiles, new_key_files: KeyFiles
) -> None:
    names = [seal_file(run, key_files, f"s{i}.yaml").name for i in range(3)]
    assert reencrypt(run, key_files, new_key_files, *names).exit_code == 0
    assert sorted(p.name for p in run.workdir.iterdir()) == sorted(names)


def test_a_file_changed_after_inspection_aborts_everything(tmp_path: Path) -> None:
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("a\n")
    b.write_text("b\n")
    targets = fileset.inspect([a, b], force=False, warn=lambda _m: None)
    b.write_text("edited meanwhile\n")
    os.utime(b, ns=(0, 0))
    with pytest.raises(errors.SealopsError, match=r"b\.yaml changed while"):
        fileset.replace_all({t: b"new\n" for t in targets})
    assert a.read_text() == "a\n" and b.read_text() == "edited meanwhile\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.yaml", "b.yaml"]


def test_a_write_failure_before_the_renames_changes_nothing(tmp_path: Path) -> None:
    # Real failure as root: the temporary file's directory is gone when staging reaches it.
    (tmp_path / "d1").mkdir()
    (tmp_path / "d2").mkdir()
    a, b = tmp_path / "d1" / "a.yaml", tmp_path / "d2" / "b.yaml"
    a.write_text("a\n")
    b.write_text("b\n")
    targets = fileset.inspect([a, b], force=False, warn=lambda _m: None)
    b.unlink()
    (tmp_path / "d2").rmdir()
    with pytest.raises(errors.SealopsError, match=r"cannot write .*b\.yaml.*no file was changed"):
        fileset.replace_all({t: b"new\n" for t in targets})
    assert a.read_text() == "a\n"
    assert [p.name for p in (tmp_path / "d1").iterdir()] == ["a.yaml"]
