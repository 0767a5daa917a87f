"""Passphrase-encrypted key backups: round trip, wrong passphrase, tamper, bounded KDF."""

from __future__ import annotations

import struct

import pytest
from nacl.pwhash import argon2id

from sealer import errors
from sealer.crypto import keys
from sealer.keystore import backup

FAST = {"ops": argon2id.OPSLIMIT_INTERACTIVE, "mem": argon2id.MEMLIMIT_INTERACTIVE}
PASSPHRASE = b"correct horse battery staple"
MESSAGE = "cannot open the key backup: wrong passphrase, or the file is damaged"


@pytest.fixture(scope="module")
def private_pem(generation: keys.KeyGeneration) -> bytes:
    return keys.private_pem(generation)


@pytest.fixture(scope="module")
def blob(private_pem: bytes) -> bytes:
    return backup.encrypt_backup(private_pem, passphrase=PASSPHRASE, **FAST)


def test_backup_round_trips_to_the_same_private_pem(
    blob: bytes, private_pem: bytes, generation: keys.KeyGeneration
) -> None:
    opened = backup.decrypt_backup(blob, passphrase=PASSPHRASE)
    assert opened == private_pem
    assert keys.parse_private_pem(opened)[0].key_id == generation.key_id


def test_backup_header_is_self_describing(blob: bytes, private_pem: bytes) -> None:
    magic, version, _salt, ops, mem = struct.unpack_from(">8sB16sIQ", blob)
    assert (magic, version, ops, mem) == (b"SOKEYBAK", 1, FAST["ops"], FAST["mem"])
    assert len(blob) == 37 + 24 + len(private_pem) + 16
    assert b"PRIVATE KEY" not in blob


def test_wrong_passphrase_gives_the_one_backup_error(blob: bytes) -> None:
    with pytest.raises(errors.BackupError) as excinfo:
        backup.decrypt_backup(blob, passphrase=b"wrong")
    assert str(excinfo.value) == MESSAGE
    assert excinfo.value.__context__ is None


@pytest.mark.parametrize(
    "position",
    [0, 8, 9, 24, 28, 30, 40, 60, -1],
    ids=["magic", "version", "salt", "salt-end", "ops", "mem", "nonce", "ciphertext", "mac"],
)
def test_any_changed_byte_gives_the_same_backup_error(blob: bytes, position: int) -> None:
    tampered = bytearray(blob)
    tampered[position] ^= 0x01
    with pytest.raises(errors.BackupError) as excinfo:
        backup.decrypt_backup(bytes(tampered), passphrase=PASSPHRASE)
    assert str(excinfo.value) == MESSAGE


def test_truncated_backups_give_the_same_backup_error(blob: bytes) -> None:
    for length in (0, 8, 36, 37, 60, 77, len(blob) - 1):
        with pytest.raises(errors.BackupError) as excinfo:
            backup.decrypt_backup(blob[:length], passphrase=PASSPHRASE)
        assert str(excinfo.value) == MESSAGE


def test_hostile_kdf_limits_are_refused_without_running_the_kdf(blob: bytes) -> None:
    huge_memory = blob[:29] + struct.pack(">Q", 1 << 40) + blob[37:]
    huge_ops = blob[:25] + struct.pack(">I", 2**32 - 1) + blob[29:]
    for hostile in (huge_memory, huge_ops):
        with pytest.raises(errors.BackupError):
            backup.decrypt_backup(hostile, passphrase=PASSPHRASE)


def test_empty_passphrase_and_weak_limits_are_refused_when_encrypting(private_pem: bytes) -> None:
    with pytest.raises(ValueError):
        backup.encrypt_backup(private_pem, passphrase=b"", **FAST)
    with pytest.raises(ValueError):
        backup.encrypt_backup(private_pem, passphrase=PASSPHRASE, ops=1, mem=8192)


def test_two_backups_of_the_same_keys_differ(private_pem: bytes, blob: bytes) -> None:
    again = backup.encrypt_backup(private_pem, passphrase=PASSPHRASE, **FAST)
    assert again[9:25] != blob[9:25]  # fresh salt
    assert again[37:61] != blob[37:61]  # fresh nonce
