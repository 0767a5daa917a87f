"""Envelope formats: how one Secret value is encrypted to a key generation.

Owns the v1 (kubeseal-compatible) and v2 (native, hybrid post-quantum) wire formats. Called by
`sealer.crypto.keyring`; knows only bytes. Every failure to open an envelope - wrong key, wrong
scope label, wrong item, a flipped bit, a truncation at any length, an unknown version or suite,
a lying length prefix - raises exactly `UnsealError(item)`, raised outside any `except` block so
that no cryptography exception (or its traceback frames) is chained to it.

v1 - byte-exact Bitnami Sealed Secrets `HybridEncrypt`::

    0       2                        2+k                                 end
    +-------+------------------------+-----------------------------------+
    | k u16 | RSA-OAEP ciphertext    | AES-256-GCM(value) || tag (16)    |
    |  BE   | (k = RSA modulus size) | nonce = 12 zero bytes, no AAD     |
    +-------+------------------------+-----------------------------------+

    RSA-OAEP: SHA-256, MGF1-SHA-256, OAEP label = scope label; it wraps a fresh 32-byte AES key
    (the zero nonce is safe only because every key encrypts exactly one value). `k` must equal
    the private key's size, which is checked before any RSA work. There is no PKCS#1 v1.5 path.

v2 - native (the default)::

    0    2    3       4                 12               12+n                       end
    +----+----+-------+-----------------+----------------+--------------------------+
    |"SO"| 02 | suite | key id (8)      | HPKE enc (n)   | AEAD ciphertext || tag  |
    +----+----+-------+-----------------+----------------+--------------------------+
    \\_______ header (12 bytes) ________/ \\_ RFC 9180 single-shot SealBase output __/

    suite 0x02 (PQ, default): KEM MLKEM768_X25519, HKDF-SHA256, AES-256-GCM     n = 1120
    suite 0x01 (X25519):      KEM DHKEM(X25519),   HKDF-SHA256, ChaCha20-Poly1305  n = 32

    HPKE info = "sealops.dev/envelope/v2\\0" || header (12)
                || uint16be(len(label)) || label || uint16be(len(item)) || item (UTF-8)

    Binding the header, the scope label and the item key into `info` means a value cannot be
    moved to another namespace, name or item key, and no header byte can be changed, without the
    AEAD tag failing. Both suites use the generation's one X25519 key (HPKE's suite id separates
    the two key schedules).

A v1 envelope starts with its length prefix (0x0100 or 0x0200 for RSA-2048/4096) and never with
"SO" (0x534F would be a 170,000-bit RSA key), so the two formats cannot be confused.
"""

from __future__ import annotations

import enum
import struct

from cryptography import exceptions as crypto_exceptions
from cryptography.hazmat.primitives import hashes, hpke
from cryptography.hazmat.primitives.asymmetric import padding, rsa, x25519
from cryptography.hazmat.primitives.ciphers import aead

from sealer import errors
from sealer.crypto import keys

__all__ = [
    "MAGIC",
    "MAX_VALUE_BYTES",
    "Suite",
    "decrypt_v1",
    "decrypt_v2",
    "encrypt_v1",
    "encrypt_v2",
    "envelope_key_id",
]

MAGIC = b"SO"
VERSION_2 = 0x02
HEADER_LEN = 4 + keys.KEY_ID_LEN
MAX_VALUE_BYTES = 1 << 20  # the apiserver/etcd limit for a whole Secret
SESSION_KEY_LEN = 32
TAG_LEN = 16
ZERO_NONCE = bytes(12)
_INFO_DOMAIN = b"sealops.dev/envelope/v2\x00"
# What the primitives raise for bad input; all of it becomes UnsealError.
_FAILURES = (crypto_exceptions.InvalidTag, ValueError, OverflowError, struct.error)


class Suite(enum.IntEnum):
    """The v2 suite byte."""

    X25519 = 1
    PQ = 2


_HPKE_SUITES = {
    Suite.X25519: hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305),
    Suite.PQ: hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM),
}
_ENC_LEN = {
    Suite.X25519: hpke.KEM.X25519.enc_length(),
    Suite.PQ: hpke.KEM.MLKEM768_X25519.enc_length(),
}


class _Reject(Exception):
    """A format check failed; turned into UnsealError by the public functions."""


# --- v1 -----------------------------------------------------------------------------------------


def encrypt_v1(value: bytes, *, rsa: rsa.RSAPublicKey, label: bytes) -> bytes:
    """Encrypt `value` exactly like kubeseal does (see the module docstring)."""
    _check_value(value)
    _check_bytes("label", label)
    session_key = aead.AESGCM.generate_key(bit_length=256)
    wrapped = rsa.encrypt(session_key, _oaep(label))
    sealed = aead.AESGCM(session_key).encrypt(ZERO_NONCE, value, None)
    return struct.pack(">H", len(wrapped)) + wrapped + sealed


def decrypt_v1(blob: bytes, *, rsa: rsa.RSAPrivateKey, label: bytes, item: str) -> bytes:
    """Open a v1 envelope; any failure raises `UnsealError(item)`."""
    _check_bytes("blob", blob)
    _check_bytes("label", label)
    try:
        return _open_v1(blob, rsa=rsa, label=label)
    except (_Reject, *_FAILURES):
        pass
    raise errors.UnsealError(item) from None


def _open_v1(blob: bytes, *, rsa: rsa.RSAPrivateKey, label: bytes) -> bytes:
    key_bytes = (rsa.key_size + 7) // 8
    if len(blob) < 2 + key_bytes + TAG_LEN:
        raise _Reject
    (wrapped_len,) = struct.unpack_from(">H", blob)
    if wrapped_len != key_bytes:  # a lying prefix is refused before any RSA work
        raise _Reject
    session_key = rsa.decrypt(blob[2 : 2 + key_bytes], _oaep(label))
    return _gcm_open(session_key, blob[2 + key_bytes :])


def _oaep(label: bytes) -> padding.OAEP:
    """kubeseal's padding: OAEP with SHA-256 and MGF1-SHA-256; the scope label as OAEP label."""
    return padding.OAEP(
        mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=label or None
    )


def _gcm_open(
    key: bytes, sealed: bytes, *, nonce: bytes = ZERO_NONCE, aad: bytes | None = None
) -> bytes:
    """AES-256-GCM open with the fixed 16-byte tag of the AEAD API (no truncated tags)."""
    if len(key) != SESSION_KEY_LEN or len(nonce) != len(ZERO_NONCE) or len(sealed) < TAG_LEN:
        raise _Reject
    return aead.AESGCM(key).decrypt(nonce, sealed, aad)


# --- v2 -----------------------------------------------------------------------------------------


def encrypt_v2(
    value: bytes,
    *,
    public: keys.PublicKeys,
    label: bytes,
    item: str,
    suite: Suite = Suite.PQ,
) -> bytes:
    """Encrypt `value` to `public`'s v2 keys, bound to the scope `label` and the `item` key."""
    _check_value(value)
    _check_bytes("label", label)
    if len(label) > 0xFFFF or len(item.encode("utf-8")) > 0xFFFF:
        raise ValueError("label and item key are limited to 65535 bytes")
    if public.x25519 is None or public.mlkem768 is None:
        raise errors.KeyMaterialError(
            f"key {public.key_id_hex} has no v2 public keys; use format v1 or a newer certificate"
        )
    suite = Suite(suite)
    header = MAGIC + bytes([VERSION_2, suite]) + public.key_id
    info = _info(header, label=label, item=item)
    recipient: hpke.MLKEM768X25519PublicKey | x25519.X25519PublicKey = public.x25519
    if suite is Suite.PQ:
        recipient = hpke.MLKEM768X25519PublicKey(public.mlkem768, public.x25519)
    return header + _HPKE_SUITES[suite].encrypt(value, recipient, info=info)


def decrypt_v2(blob: bytes, *, generation: keys.KeyGeneration, label: bytes, item: str) -> bytes:
    """Open a v2 envelope with `generation`; any failure raises `UnsealError(item)`."""
    _check_bytes("blob", blob)
    _check_bytes("label", label)
    try:
        return _open_v2(blob, generation=generation, label=label, item=item)
    except (_Reject, *_FAILURES):
        pass
    raise errors.UnsealError(item) from None


def _open_v2(blob: bytes, *, generation: keys.KeyGeneration, label: bytes, item: str) -> bytes:
    if len(blob) < HEADER_LEN or blob[:3] != MAGIC + bytes([VERSION_2]):
        raise _Reject
    suite = Suite(blob[3])  # ValueError for an unknown suite byte
    if blob[4:HEADER_LEN] != generation.key_id:
        raise _Reject
    if len(blob) < HEADER_LEN + _ENC_LEN[suite] + TAG_LEN:
        raise _Reject
    info = _info(blob[:HEADER_LEN], label=label, item=item)
    recipient: hpke.MLKEM768X25519PrivateKey | x25519.X25519PrivateKey = generation.x25519
    if suite is Suite.PQ:
        recipient = hpke.MLKEM768X25519PrivateKey(generation.mlkem768, generation.x25519)
    return _HPKE_SUITES[suite].decrypt(blob[HEADER_LEN:], recipient, info=info)


def envelope_key_id(blob: bytes) -> bytes | None:
    """The key id in a v2 header, or None when `blob` does not start with a v2 header (v1)."""
    if len(blob) < HEADER_LEN or blob[:3] != MAGIC + bytes([VERSION_2]):
        return None
    return bytes(blob[4:HEADER_LEN])


def _info(header: bytes, *, label: bytes, item: str) -> bytes:
    item_bytes = item.encode("utf-8")
    return b"".join(
        (
            _INFO_DOMAIN,
            header,
            struct.pack(">H", len(label)),
            label,
            struct.pack(">H", len(item_bytes)),
            item_bytes,
        )
    )


def _check_bytes(what: str, value: object) -> None:
    if not isinstance(value, bytes):
        raise TypeError(f"{what} must be bytes, not {type(value).__name__}")


def _check_value(value: bytes) -> None:
    _check_bytes("value", value)
    if len(value) > MAX_VALUE_BYTES:
        raise errors.PolicyError(
            f"value is {len(value)} bytes; the limit is {MAX_VALUE_BYTES} bytes"
        )
