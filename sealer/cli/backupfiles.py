"""What `seal keys backup|restore` and `sealops keys backup|restore` share: the options and
the backup file itself (passphrase, Argon2id strength, mode 0600, never overwritten).

A passphrase shorter than `MIN_PASSPHRASE_CHARS` is warned about on stderr, or refused when
the caller asks (`seal keys backup` does, unless `--allow-short-passphrase`); neither the
passphrase nor its length is ever printed.

Imports only click and the standard library at module level, like every command module.
"""

from __future__ import annotations

from pathlib import Path

import click

from sealer import errors
from sealer.cli import envpolicy, streams

MIN_PASSPHRASE_CHARS = 12

allow_short_option = click.option(
    "--allow-short-passphrase",
    cls=envpolicy.CommandLineOnly,
    is_flag=True,
    help=f"Accept a passphrase shorter than {MIN_PASSPHRASE_CHARS} characters (still warned "
    "about). The backup is only as strong as its passphrase.",
)
passphrase_option = click.option(
    "--passphrase-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read the passphrase from this file (one trailing newline is dropped); "
    "without it you are prompted.",
)
out_option = click.option(
    "--out",
    "out_file",
    cls=envpolicy.CommandLineOnly,
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Backup file to create (mode 0600; an existing file is never overwritten).",
)
strength_option = click.option(
    "--strength",
    type=click.Choice(["interactive", "moderate", "sensitive"]),
    default="moderate",
    show_default=True,
    help="Argon2id cost: interactive is fast (64 MiB), sensitive is slow (1 GiB of memory).",
)


def refuse_existing(out_file: Path) -> None:
    if out_file.exists() or out_file.is_symlink():
        raise errors.UsageError(f"{out_file} already exists; refusing to overwrite it")


def write(
    pem: bytes,
    *,
    out_file: Path,
    passphrase_file: Path | None,
    strength: str,
    refuse_short: bool = False,
) -> None:
    """Encrypt `pem` under a passphrase (asked twice unless read from a file) into `out_file`.

    A short passphrase is refused (`UsageError`, nothing written) when `refuse_short`, and
    warned about otherwise.
    """
    from sealer.keystore import backup as backups  # lazy: PyNaCl only when backing up

    passphrase = streams.read_passphrase(passphrase_file, confirm=True)
    check_strength(passphrase, refuse_short=refuse_short)
    ops, mem = {
        "interactive": (backups.MIN_OPS, backups.MIN_MEM),
        "moderate": (backups.DEFAULT_OPS, backups.DEFAULT_MEM),
        "sensitive": (backups.MAX_OPS, backups.MAX_MEM),
    }[strength]
    blob = backups.encrypt_backup(pem, passphrase=passphrase, ops=ops, mem=mem)
    streams.write_atomic(out_file, blob, mode=0o600, overwrite=False)


def check_strength(passphrase: bytes, *, refuse_short: bool) -> None:
    """Refuse or warn about a passphrase of fewer than `MIN_PASSPHRASE_CHARS` characters."""
    if len(passphrase.decode("utf-8", "replace")) >= MIN_PASSPHRASE_CHARS:
        return
    if refuse_short:
        raise errors.UsageError(
            f"the passphrase is shorter than {MIN_PASSPHRASE_CHARS} characters; choose a longer "
            "one (a few random words), or pass --allow-short-passphrase"
        )
    streams.warn(
        f"warning: the passphrase is shorter than {MIN_PASSPHRASE_CHARS} characters; anyone "
        "holding the backup file can guess a short passphrase offline"
    )


def read(backup_file: Path, *, passphrase_file: Path | None) -> bytes:
    """The private PEM inside a backup file; a wrong passphrase is a `BackupError`."""
    from sealer.keystore import backup as backups

    blob = streams.read_file(backup_file, max_bytes=backups.MAX_BACKUP_BYTES)
    passphrase = streams.read_passphrase(passphrase_file, confirm=False)
    return backups.decrypt_backup(blob, passphrase=passphrase)
