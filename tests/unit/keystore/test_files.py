"""Key files: modes, atomic no-clobber writes, what `read_private` accepts, path-only errors."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from sealer import errors
from sealer.crypto import keys
from sealer.keystore import files
from tests.unit.keystore.conftest import VECTORS


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_write_generation_writes_public_0644_and_private_0600(
    generation: keys.KeyGeneration, tmp_path: Path
) -> None:
    old_umask = os.umask(0o077)
    try:
        public, private = files.write_generation(generation, out_dir=tmp_path / "keys")
    finally:
        os.umask(old_umask)
    assert (public.name, private.name) == ("public.pem", "private.pem")
    assert mode(private) == 0o600
    assert mode(public) == 0o644
    assert mode(tmp_path / "keys") == 0o700
    assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == ["private.pem", "public.pem"]


def test_written_files_read_back_as_the_same_generation(
    generation: keys.KeyGeneration, tmp_path: Path
) -> None:
    public, private = files.write_generation(generation, out_dir=tmp_path)
    assert files.read_public(public) == generation.public()
    ring = files.read_private([private])
    assert ring.key_ids == (generation.key_id,)
    assert files.read_private([tmp_path]).key_ids == (generation.key_id,)


def test_existing_key_files_are_never_overwritten(
    generation: keys.KeyGeneration, tmp_path: Path
) -> None:
    (tmp_path / "private.pem").write_bytes(b"precious")
    with pytest.raises(errors.KeyMaterialError, match="refusing to overwrite"):
        files.write_generation(generation, out_dir=tmp_path)
    assert (tmp_path / "private.pem").read_bytes() == b"precious"
    assert not (tmp_path / "public.pem").exists()


def test_kubeseal_tls_key_and_a_mounted_secret_directory_are_read(tmp_path: Path) -> None:
    mounted = tmp_path / "secret"
    mounted.mkdir()
    shutil.copy(VECTORS / "kubeseal" / "pub2048.key", mounted / "tls.key")
    shutil.copy(VECTORS / "kubeseal" / "pub2048.crt", mounted / "tls.crt")
    ring = files.read_private([mounted, VECTORS / "kubeseal" / "pub4096.key"])
    assert len(ring) == 2
    (with_cert,) = [k for k in ring if k.certificate is not None]
    assert ring.newest is with_cert  # a key of unknown age sorts last
    assert files.read_public(mounted / "tls.crt").key_id == with_cert.key_id


def test_symlinked_key_files_are_followed(generation: keys.KeyGeneration, tmp_path: Path) -> None:
    _, private = files.write_generation(generation, out_dir=tmp_path / "real")
    (tmp_path / "link.pem").symlink_to(private)
    assert files.read_private([tmp_path / "link.pem"]).key_ids == (generation.key_id,)


def test_errors_name_the_file_and_never_its_content(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_bytes(
        b"-----BEGIN RSA PRIVATE KEY-----\nc2VjcmV0LWNhbmFyeQ==\n-----END RSA PRIVATE KEY-----\n"
    )
    with pytest.raises(errors.KeyMaterialError) as excinfo:
        files.read_private([bad])
    assert str(bad) in str(excinfo.value)
    assert "c2VjcmV0" not in str(excinfo.value) and "secret-canary" not in str(excinfo.value)


@pytest.mark.parametrize("kind", ["missing", "directory", "fifo", "too-big", "empty-list"])
def test_unreadable_key_paths_are_key_material_errors(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    if kind == "directory":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "too-big":
        path.write_bytes(b"A" * (files.MAX_KEY_FILE_BYTES + 1))
    with pytest.raises(errors.KeyMaterialError) as excinfo:
        files.read_private([] if kind == "empty-list" else [path])
    if kind != "empty-list":
        assert str(path) in str(excinfo.value)


def test_a_fifo_is_not_read_as_a_public_key(tmp_path: Path) -> None:
    fifo = tmp_path / "public.pem"
    os.mkfifo(fifo)
    with pytest.raises(errors.KeyMaterialError, match="not a regular file"):
        files.read_public(fifo)
