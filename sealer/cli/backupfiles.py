"""What `seal keys backup|restore` and `sealops keys backup|restore` share: the options and
the backup file itself (passphrase, Argon2id strength, mode 0600, never overwritten).

Imports only click and the standard library at module level, like every command module.
"""

from __future__ import annotations

from pathlib import Path

import click

from sealer import errors
from sealer.cli import streams

passphrase_option = click.option(
    "--passphrase-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read the passphrase from this file (one trailing newline is dropped); "
    "without it you are prompted.",
)
out_option = click.option(
    "--out",
    "out_file",
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


def write(pem: bytes, *, out_file: Path, passphrase_file: Path | None, strength: str) -> None:
    """Encrypt `pem` under a passphrase (asked twice unless read from a file) into `out_file`."""
    from sealer.keystore import backup as backups  # lazy: PyNaCl only when backing up

    passphrase = streams.read_passphrase(passphrase_file, confirm=True)
    ops, mem = {
        "interactive": (backups.MIN_OPS, backups.MIN_MEM),
        "moderate": (backups.DEFAULT_OPS, backups.DEFAULT_MEM),
        "sensitive": (backups.MAX_OPS, backups.MAX_MEM),
    }[strength]
    blob = backups.encrypt_backup(pem, passphrase=passphrase, ops=ops, mem=mem)
    streams.write_atomic(out_file, blob, mode=0o600, overwrite=False)


def read(backup_file: Path, *, passphrase_file: Path | None) -> bytes:
    """The private PEM inside a backup file; a wrong passphrase is a `BackupError`."""
    from sealer.keystore import backup as backups

    blob = streams.read_file(backup_file, max_bytes=backups.MAX_BACKUP_BYTES)
    passphrase = streams.read_passphrase(passphrase_file, confirm=False)
    return backups.decrypt_backup(blob, passphrase=passphrase)
