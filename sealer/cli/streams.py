"""Where `seal` reads and writes: input files or stdin, atomic output files, passphrases, certs.

Owns the CLI's I/O hygiene (hostile input L53): inputs are regular files or stdin, read with a
size cap checked before reading; outputs are built completely first and then written once,
either to stdout or through a 0600 temporary file in the target directory that is synced and
renamed into place (`os.replace`) and removed on any error; passphrases come from a file or a
hidden prompt, never from argv. Library modules are imported inside the functions (lazy).
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sealer import errors
from sealer.cli import context as cli_context

if TYPE_CHECKING:
    from sealer.crypto import keys

__all__ = [
    "MAX_CERT_BYTES",
    "MAX_INPUT_BYTES",
    "emit",
    "one_output",
    "read_file",
    "read_input",
    "read_passphrase",
    "read_public_keys",
    "warn",
    "write_atomic",
]

MAX_INPUT_BYTES = 4 << 20
MAX_CERT_BYTES = 1 << 20


def read_input(
    path: str | None, *, max_bytes: int = MAX_INPUT_BYTES, hint: str | None = None
) -> tuple[bytes, str]:
    """The bytes of `path`, or of stdin when `path` is None or `-`; and a name for messages.

    Reading stdin from a terminal prints `hint` first (kubeseal's "(tty detected: ...)"), so
    that a command waiting for input does not look hung.
    """
    if path is None or path == "-":
        if hint is not None and _is_tty(sys.stdin):
            click.echo(f"seal: (tty detected: {hint})", err=True)
        data = sys.stdin.buffer.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise errors.UsageError(f"stdin holds more than {max_bytes} bytes")
        return data, "<stdin>"
    return read_file(Path(path), max_bytes=max_bytes), path


def _is_tty(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty is not None and isatty())


def one_output(*given: tuple[str, str | None]) -> str | None:
    """The one output file among options that all name it (`-w`, `--output`); None: stdout.

    Two of them at once is refused even when they agree: one spelling per command line.
    """
    named = [(flag, value) for flag, value in given if value is not None]
    if len(named) > 1:
        flags = " and ".join(flag for flag, _value in named)
        raise errors.UsageError(f"{flags} both name the output file; give one of them")
    return named[0][1] if named else None


def read_file(path: Path, *, max_bytes: int = MAX_INPUT_BYTES) -> bytes:
    """A regular file's bytes, refusing before reading when it is larger than `max_bytes`."""
    from sealer import _files  # lazy, like every import of a command module

    return _files.read_regular(path, max_bytes=max_bytes, error=errors.UsageError)


def write_atomic(path: Path, data: bytes, *, mode: int = 0o644, overwrite: bool = True) -> None:
    """Replace `path` with `data` in one step; the temporary file is 0600 and never left behind."""
    path = Path(path)
    if not overwrite and (path.exists() or path.is_symlink()):
        raise errors.UsageError(f"{path} already exists; refusing to overwrite it")
    if path.exists() and not stat.S_ISREG(path.stat().st_mode):
        # A device or pipe (`-o /dev/null`, `-o /dev/stdout`): renaming over it would replace
        # the device node itself, so write through it instead.
        _write_through(path, data)
        return
    tmp = path.with_name(f".{path.name}.{os.urandom(6).hex()}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(tmp, flags, 0o600)
    except OSError as exc:
        raise errors.SealopsError(f"cannot write {path}: {exc.strerror}") from None
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
            os.fchmod(fd, mode)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, OSError):
            raise errors.SealopsError(f"cannot write {path}: {exc.strerror}") from None
        raise


def _write_through(path: Path, data: bytes) -> None:
    try:
        with path.open("wb") as out:
            out.write(data)
    except OSError as exc:
        raise errors.SealopsError(f"cannot write {path}: {exc.strerror}") from None


def emit(text: str, *, output: str | None, mode: int = 0o644) -> None:
    """`text` to stdout (`output` None or `-`) or atomically to the file `output`."""
    data = text.encode("utf-8")
    if output is None or output == "-":
        stream = sys.stdout.buffer
        stream.write(data)
        stream.flush()
    else:
        write_atomic(Path(output), data, mode=mode)


def read_passphrase(path: Path | None, *, confirm: bool) -> bytes:
    """A passphrase from `path` (one trailing newline dropped) or a hidden prompt on the tty."""
    if path is not None:
        passphrase = read_file(path, max_bytes=64 << 10)
        if passphrase.endswith(b"\r\n"):
            passphrase = passphrase[:-2]
        elif passphrase.endswith(b"\n"):
            passphrase = passphrase[:-1]
    else:
        text = click.prompt(
            "Passphrase", hide_input=True, confirmation_prompt=confirm, err=True, type=str
        )
        passphrase = text.encode("utf-8")
    if not passphrase:
        raise errors.UsageError("the passphrase is empty")
    return passphrase


def read_public_keys(ctx: click.Context, cert: Path | None) -> keys.PublicKeys:
    """Public keys from `--cert` (ours or a bare kubeseal certificate) or the context's hook.

    The certificate must be valid now (expired, not yet valid, non-RSA or short keys refused).
    """
    from sealer.crypto import keys  # lazy: keeps `seal --help` fast

    settings = cli_context.get(ctx)
    if cert is None:
        if settings.fetch_public_keys is None:
            raise errors.UsageError("no --cert given, and no cluster to fetch public keys from")
        public = settings.fetch_public_keys()
    else:
        try:
            public = keys.parse_public_pem(read_file(cert, max_bytes=MAX_CERT_BYTES))
        except errors.KeyMaterialError as exc:
            raise errors.KeyMaterialError(f"{cert}: {exc}") from None
    public.check_certificate(now=settings.now())
    return public


def warn(message: str) -> None:
    """A note for the user on stderr (never a value)."""
    click.echo(f"seal: {message}", err=True)
