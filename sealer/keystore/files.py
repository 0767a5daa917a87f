"""Key files on disk: reading public and private PEM files, writing a new key generation.

Owns every file access for key material of the library (the controller keeps its keys in
Secrets instead). Parsing is `sealer.crypto.keys`; this module adds paths, permissions, size
caps and atomic writes. Errors are `KeyMaterialError` naming the file, never its contents.

Layout written by `write_generation(gen, out_dir=d)`:

    d/             0700 when created here
    d/public.pem   0644  certificate + v2 public keys (what `seal` needs)
    d/private.pem  0600  RSA (PKCS#1) + certificate + v2 private keys

`read_private` accepts, per path: our private PEM, a kubeseal `tls.key`, or a directory holding
either `private.pem` (a restored backup) or `tls.key` (+ `tls.crt`, e.g. a mounted kubeseal key
Secret). Symlinks are followed (Secret volumes are symlink farms); only regular files are read.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Sequence
from pathlib import Path

from sealer import _files, errors
from sealer.crypto import keyring, keys

__all__ = ["MAX_KEY_FILE_BYTES", "read_private", "read_public", "write_generation"]

MAX_KEY_FILE_BYTES = 1 << 20
PUBLIC_NAME = "public.pem"
PRIVATE_NAME = "private.pem"
_KUBESEAL_KEY = "tls.key"
_KUBESEAL_CERT = "tls.crt"


def read_public(path: Path) -> keys.PublicKeys:
    """Parse a public PEM (ours, or a bare kubeseal certificate) from `path`."""
    data = _read(path)
    try:
        return keys.parse_public_pem(data)
    except errors.KeyMaterialError as exc:
        raise errors.KeyMaterialError(f"{path}: {exc}") from None


def read_private(paths: Sequence[Path]) -> keyring.Keyring:
    """A keyring from every key found in `paths` (files or directories, see the docstring)."""
    if not paths:
        raise errors.KeyMaterialError("no private key files given")
    found: list[keys.KeyGeneration | keys.LegacyKey] = []
    for path in paths:
        found += _read_private_one(Path(path))
    return keyring.Keyring(found)


def _read_private_one(path: Path) -> list[keys.KeyGeneration | keys.LegacyKey]:
    cert_path: Path | None = None
    if path.is_dir():
        if (path / PRIVATE_NAME).exists():
            path = path / PRIVATE_NAME
        elif (path / _KUBESEAL_KEY).exists():
            cert_path = path / _KUBESEAL_CERT if (path / _KUBESEAL_CERT).exists() else None
            path = path / _KUBESEAL_KEY
        else:
            raise errors.KeyMaterialError(f"{path}: holds neither {PRIVATE_NAME} nor tls.key")
    data = _read(path)
    certificate = None if cert_path is None else _read(cert_path)
    try:
        return keys.parse_private_pem(data, certificate=certificate)
    except errors.KeyMaterialError as exc:
        raise errors.KeyMaterialError(f"{path}: {exc}") from None


def _read(path: Path) -> bytes:
    """Read a small regular file without blocking on FIFOs or reading unbounded data."""
    return _files.read_regular(path, max_bytes=MAX_KEY_FILE_BYTES,
                               error=errors.KeyMaterialError, what="key file ")


def write_generation(gen: keys.KeyGeneration, *, out_dir: Path) -> tuple[Path, Path]:
    """Write `public.pem` (0644) and `private.pem` (0600) into `out_dir`; returns (public, private).

    Refuses to overwrite either file: losing a private key loses every value sealed to it. Each
    file is written to a temporary file in `out_dir` created with its final mode (O_EXCL), synced,
    then renamed into place with `os.replace`, so a crash never leaves a partial key file.
    """
    out_dir = Path(out_dir)
    public_path, private_path = out_dir / PUBLIC_NAME, out_dir / PRIVATE_NAME
    try:
        out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise errors.KeyMaterialError(f"cannot create {out_dir}: {exc.strerror}") from None
    for path in (private_path, public_path):
        if path.exists() or path.is_symlink():
            raise errors.KeyMaterialError(f"{path} already exists; refusing to overwrite it")
    _write_atomic(private_path, keys.private_pem(gen), mode=0o600)
    _write_atomic(public_path, keys.public_pem(gen.public()), mode=0o644)
    _fsync_dir(out_dir)
    return public_path, private_path


def _write_atomic(path: Path, data: bytes, *, mode: int) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(tmp, flags, mode)
        try:
            os.fchmod(fd, mode)  # the umask may have cleared bits of 0644
            with os.fdopen(os.dup(fd), "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise errors.KeyMaterialError(f"cannot write key file {path}: {exc.strerror}") from None


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
