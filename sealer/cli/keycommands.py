"""`seal keys generate|backup|restore`: key generations on disk and passphrase backups.

Glue only: generation and PEM forms are `sealer.crypto.keys`, files and backups are
`sealer.keystore`. Passphrases come from `--passphrase-file` or a hidden prompt, never argv.
"""

from __future__ import annotations

from pathlib import Path

import click

from sealer import errors
from sealer.cli import backupfiles, envpolicy, streams
from sealer.cli import context as cli_context

__all__ = ["keys_group"]



@click.group(
    "keys",
    cls=envpolicy.Group,
    epilog="""\b
Examples:
  seal keys generate --out keys/
  seal keys backup --key keys/private.pem --out keys.backup
  seal keys restore keys.backup --out restored/
""",
)
def keys_group() -> None:
    """Create key generations and back them up (for clusters you run yourself)."""


@keys_group.command("generate")
@click.option(
    "--out",
    "out_dir",
    cls=envpolicy.CommandLineOnly,
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for public.pem (0644) and private.pem (0600); existing files are kept.",
)
@click.option(
    "--suite",
    type=click.Choice(["pq", "x25519"]),
    default="pq",
    show_default=True,
    help="The suite you intend to seal with. A generation always holds the keys of both "
    "suites (RSA for v1, X25519 and ML-KEM-768 for v2); this only shapes the hint printed.",
)
@click.option(
    "--rsa-bits",
    type=click.Choice(["2048", "3072", "4096"]),
    default="4096",
    show_default=True,
    help="RSA key size for v1 envelopes (kubeseal's default is 4096).",
)
@click.pass_context
def generate(ctx: click.Context, out_dir: Path, suite: str, rsa_bits: str) -> None:
    """Generate a new key generation into a directory."""
    from sealer.crypto import keys  # lazy import
    from sealer.keystore import files

    generation = keys.generate(now=cli_context.get(ctx).now(), rsa_bits=int(rsa_bits))
    public_path, private_path = files.write_generation(generation, out_dir=out_dir)
    click.echo(f"key {generation.key_id_hex}: wrote {public_path} and {private_path}", err=True)
    hint = "" if suite == "pq" else f" --suite {suite}"
    click.echo(f"seal with: seal secret FILE --cert {public_path}{hint}", err=True)
    click.echo("keep private.pem secret and back it up: seal keys backup", err=True)


@keys_group.command("backup")
@click.option(
    "--key",
    "key_path",
    required=True,
    type=click.Path(path_type=Path),
    help="Private key file (private.pem or a kubeseal tls.key) or directory.",
)
@backupfiles.out_option
@backupfiles.passphrase_option
@backupfiles.strength_option
@backupfiles.allow_short_option
def backup(
    key_path: Path,
    out_file: Path,
    passphrase_file: Path | None,
    strength: str,
    allow_short_passphrase: bool,
) -> None:
    """Encrypt private keys into a backup file under a passphrase (Argon2id).

    Passphrases shorter than 12 characters are refused unless --allow-short-passphrase.
    """
    from sealer.crypto import keys  # lazy import
    from sealer.keystore import files

    backupfiles.refuse_existing(out_file)
    keyring = files.read_private([key_path])
    pem = b"".join(keys.private_pem(key) for key in keyring)
    backupfiles.write(pem, out_file=out_file, passphrase_file=passphrase_file,
                      strength=strength, refuse_short=not allow_short_passphrase)
    click.echo(f"backed up {len(keyring)} key(s) to {out_file}", err=True)


@keys_group.command("restore")
@click.argument("backup_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out",
    "out_dir",
    cls=envpolicy.CommandLineOnly,
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for private.pem (0600) and public.pem (0644); existing files are kept.",
)
@backupfiles.passphrase_option
def restore(backup_file: Path, out_dir: Path, passphrase_file: Path | None) -> None:
    """Decrypt a backup file into private.pem and public.pem."""
    from sealer.crypto import keyring as keyrings  # lazy import
    from sealer.crypto import keys

    pem = backupfiles.read(backup_file, passphrase_file=passphrase_file)
    keyring = keyrings.Keyring(keys.parse_private_pem(pem))
    private_path, public_path = out_dir / "private.pem", out_dir / "public.pem"
    newest = keyring.public()
    for path in (private_path, public_path):
        if path.exists() or path.is_symlink():
            raise errors.UsageError(f"{path} already exists; refusing to overwrite it")
    try:
        out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise errors.SealopsError(f"cannot create {out_dir}: {exc.strerror}") from None
    streams.write_atomic(private_path, pem, mode=0o600, overwrite=False)
    if newest.certificate is not None:
        streams.write_atomic(public_path, keys.public_pem(newest), mode=0o644, overwrite=False)
    click.echo(f"restored {len(keyring)} key(s) into {out_dir}", err=True)
