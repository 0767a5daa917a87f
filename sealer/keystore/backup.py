"""Passphrase-encrypted backups of private key PEM (PyNaCl: Argon2id + SecretBox).

Owns the backup file format; called by the CLI's key backup/restore commands. Bytes in, bytes
out. Every failure to open a backup - wrong passphrase, any changed byte, a truncation, an
unknown version, out-of-range KDF parameters - raises one `BackupError` with one message.

Format (version 1), all integers big-endian::

    0          8     9              25          29          37
    +----------+-----+--------------+-----------+-----------+-----------------------------+
    |"SOKEYBAK"| 01  | salt (16)    | opslimit  | memlimit  | SecretBox: nonce (24)       |
    |  magic   | ver | Argon2id     | u32       | u64       |   || XSalsa20 ct || MAC (16)  |
    +----------+-----+--------------+-----------+-----------+-----------------------------+

    key = Argon2id(passphrase, salt, opslimit, memlimit) -> 32 bytes

The header is not MAC'd on its own, but it is bound all the same: magic and version are
checked exactly, and a changed salt or limit derives another key, so the MAC fails. Limits are
accepted only within [INTERACTIVE, SENSITIVE], so a hostile file cannot demand terabytes of
memory or hours of CPU.
"""

from __future__ import annotations

import struct

import nacl.exceptions
import nacl.secret
import nacl.utils
from nacl.pwhash import argon2id

from sealer import errors

__all__ = ["DEFAULT_MEM", "DEFAULT_OPS", "MAGIC", "decrypt_backup", "encrypt_backup"]

MAGIC = b"SOKEYBAK"
VERSION = 1
DEFAULT_OPS: int = argon2id.OPSLIMIT_MODERATE
DEFAULT_MEM: int = argon2id.MEMLIMIT_MODERATE
MIN_OPS: int = argon2id.OPSLIMIT_INTERACTIVE
MAX_OPS: int = argon2id.OPSLIMIT_SENSITIVE
MIN_MEM: int = argon2id.MEMLIMIT_INTERACTIVE
MAX_MEM: int = argon2id.MEMLIMIT_SENSITIVE
MAX_BACKUP_BYTES = 16 << 20
SALT_LEN: int = argon2id.SALTBYTES
_HEADER = struct.Struct(f">{len(MAGIC)}sB{SALT_LEN}sIQ")
_MESSAGE = "cannot open the key backup: wrong passphrase, or the file is damaged"


def encrypt_backup(
    private_pem: bytes, *, passphrase: bytes, ops: int = DEFAULT_OPS, mem: int = DEFAULT_MEM
) -> bytes:
    """Encrypt `private_pem` under `passphrase`; `ops`/`mem` are Argon2id limits (stored)."""
    if not isinstance(private_pem, bytes) or not isinstance(passphrase, bytes):
        raise TypeError("private_pem and passphrase must be bytes")
    if not passphrase:
        raise ValueError("the passphrase must not be empty")
    if not (MIN_OPS <= ops <= MAX_OPS and MIN_MEM <= mem <= MAX_MEM):
        raise ValueError(
            f"ops must be within {MIN_OPS}..{MAX_OPS}, mem within {MIN_MEM}..{MAX_MEM}"
        )
    salt = nacl.utils.random(SALT_LEN)
    header = _HEADER.pack(MAGIC, VERSION, salt, ops, mem)
    box = nacl.secret.SecretBox(_derive(passphrase, salt=salt, ops=ops, mem=mem))
    return header + bytes(box.encrypt(private_pem))


def decrypt_backup(blob: bytes, *, passphrase: bytes) -> bytes:
    """The private PEM inside `blob`; raises `BackupError` for any failure."""
    if not isinstance(blob, bytes) or not isinstance(passphrase, bytes):
        raise TypeError("blob and passphrase must be bytes")
    plaintext = _open(blob, passphrase=passphrase)
    if plaintext is None:
        raise errors.BackupError(_MESSAGE)
    return plaintext


def _open(blob: bytes, *, passphrase: bytes) -> bytes | None:
    minimum = _HEADER.size + nacl.secret.SecretBox.NONCE_SIZE + nacl.secret.SecretBox.MACBYTES
    if not minimum <= len(blob) <= MAX_BACKUP_BYTES or not passphrase:
        return None
    magic, version, salt, ops, mem = _HEADER.unpack_from(blob)
    if magic != MAGIC or version != VERSION:
        return None
    if not (MIN_OPS <= ops <= MAX_OPS and MIN_MEM <= mem <= MAX_MEM):
        return None
    box = nacl.secret.SecretBox(_derive(passphrase, salt=salt, ops=ops, mem=mem))
    try:
        return bytes(box.decrypt(blob[_HEADER.size :]))
    except nacl.exceptions.CryptoError:
        return None


def _derive(passphrase: bytes, *, salt: bytes, ops: int, mem: int) -> bytes:
    key = argon2id.kdf(nacl.secret.SecretBox.KEY_SIZE, passphrase, salt, opslimit=ops, memlimit=mem)
    return bytes(key)
