"""Strict PEM reading for `sealer.crypto.keys`: splitting text into blocks, loading blocks.

A key or certificate file must consist of PEM blocks and whitespace only: anything else
(explanatory text, trailing garbage, RFC 1421 headers, non-ASCII bytes) is refused, so that what
we parse is exactly what the file says. Error messages describe the structure, never content.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography import exceptions as crypto_exceptions
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import mlkem, rsa, x25519

from sealer import errors

if TYPE_CHECKING:
    from cryptography import x509  # imported when a certificate is loaded (~20 ms)

MAX_PEM_BYTES = 1 << 20

_BLOCK = re.compile(
    rb"-----BEGIN ([A-Z0-9 ]{1,64})-----\r?\n"
    rb"((?:[A-Za-z0-9+/=]{1,76}\r?\n)*)"
    rb"-----END \1-----[ \t]*(?:\r?\n|\Z)"
)
_WHITESPACE = re.compile(rb"[ \t\r\n]*")


@dataclass(frozen=True)
class Block:
    """One PEM block: its label and its decoded DER body."""

    label: str
    der: bytes


def split(data: bytes) -> list[Block]:
    """Split `data` into PEM blocks; raise `KeyMaterialError` on anything that is not one."""
    if not isinstance(data, bytes):
        raise TypeError(f"PEM data must be bytes, not {type(data).__name__}")
    if len(data) > MAX_PEM_BYTES:
        raise errors.KeyMaterialError(
            f"PEM data is {len(data)} bytes; the limit is {MAX_PEM_BYTES}"
        )
    blocks: list[Block] = []
    pos = _skip_whitespace(data, 0)
    while pos < len(data):
        match = _BLOCK.match(data, pos)
        if match is None:
            raise errors.KeyMaterialError(
                f"PEM data has unexpected content at byte {pos} (only PEM blocks are allowed)"
            )
        blocks.append(_block(match))
        pos = _skip_whitespace(data, match.end())
    if not blocks:
        raise errors.KeyMaterialError("PEM data contains no PEM block")
    return blocks


def _skip_whitespace(data: bytes, pos: int) -> int:
    match = _WHITESPACE.match(data, pos)
    assert match is not None  # the pattern matches the empty string
    return match.end()


def _block(match: re.Match[bytes]) -> Block:
    label = match.group(1).decode("ascii")
    body = match.group(2).replace(b"\r", b"").replace(b"\n", b"")
    try:
        der = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise errors.KeyMaterialError(f"PEM block {label!r} is not valid base64") from None
    if not der:
        raise errors.KeyMaterialError(f"PEM block {label!r} is empty")
    return Block(label=label, der=der)


# --- loading blocks -----------------------------------------------------------------------------


def load_certificate(der: bytes) -> x509.Certificate:
    from cryptography import x509

    try:
        return x509.load_der_x509_certificate(der)
    except (ValueError, x509.InvalidVersion):  # InvalidVersion is not a ValueError
        raise errors.KeyMaterialError("CERTIFICATE block is not an X.509 certificate") from None


def load_public_key(der: bytes) -> object:
    try:
        return serialization.load_der_public_key(der)
    except (ValueError, crypto_exceptions.UnsupportedAlgorithm):
        raise errors.KeyMaterialError("PUBLIC KEY block is not a supported public key") from None


def load_private_key(block: Block) -> object:
    if block.label not in _PRIVATE_LABELS:
        raise errors.KeyMaterialError(f"unexpected PEM block {block.label!r} in a private key file")
    try:
        key = serialization.load_der_private_key(block.der, password=None)
    except TypeError:  # cryptography: "password was not given but private key is encrypted"
        raise errors.KeyMaterialError("encrypted private keys are not supported") from None
    except (ValueError, crypto_exceptions.UnsupportedAlgorithm):
        raise errors.KeyMaterialError(f"{block.label} block is not a supported key") from None
    if block.label == "RSA PRIVATE KEY" and not isinstance(key, rsa.RSAPrivateKey):
        raise errors.KeyMaterialError("RSA PRIVATE KEY block does not hold an RSA key")
    return key


def v2_public_keys(
    found: list[object],
) -> tuple[x25519.X25519PublicKey, mlkem.MLKEM768PublicKey]:
    x_keys = [k for k in found if isinstance(k, x25519.X25519PublicKey)]
    m_keys = [k for k in found if isinstance(k, mlkem.MLKEM768PublicKey)]
    if len(found) != 2 or len(x_keys) != 1 or len(m_keys) != 1:
        raise errors.KeyMaterialError(
            "public PEM must hold one X25519 and one ML-KEM-768 public key after the certificate"
        )
    _check_x25519_public(x_keys[0])
    return x_keys[0], m_keys[0]


# The u-coordinates of the points of order 1, 2, 4 and 8 on Curve25519 and its twist, and their
# non-canonical encodings (u + p), little-endian, bit 255 cleared (X25519 ignores it; RFC 7748
# section 5). The same list as libsodium's `has_small_order`; Wycheproof's LowOrderPublic
# vectors are exactly these 7 values with bit 255 clear or set.
_LOW_ORDER_POINTS = frozenset(
    bytes.fromhex(point)
    for point in (
        "0000000000000000000000000000000000000000000000000000000000000000",  # 0
        "0100000000000000000000000000000000000000000000000000000000000000",  # 1
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",  # order 8
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",  # order 8
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # p - 1
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # p (= 0)
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # p + 1 (= 1)
    )
)


def _check_x25519_public(key: x25519.X25519PublicKey) -> None:
    """Refuse low-order points: every clamped scalar maps them to the all-zero shared secret.

    A comparison against the known points, not a trial key exchange: generating a private key
    loads OpenSSL's Python backend (several ms of `seal secret`) for no stronger check.
    """
    raw = bytearray(key.public_bytes_raw())
    raw[31] &= 0x7F
    if bytes(raw) in _LOW_ORDER_POINTS:
        raise errors.KeyMaterialError("X25519 public key is a low-order point")


_PRIVATE_LABELS = frozenset({"RSA PRIVATE KEY", "PRIVATE KEY"})


@dataclass
class Group:
    """One RSA private key with what follows it in a private PEM (and its certificate)."""

    rsa: rsa.RSAPrivateKey
    certificate: x509.Certificate | None = None
    x25519: x25519.X25519PrivateKey | None = None
    mlkem768: mlkem.MLKEM768PrivateKey | None = None


def group(blocks: list[Block]) -> list[Group]:
    """Group private PEM blocks: each RSA key starts a group; certificates match by public key."""
    groups: list[Group] = []
    certs: list[x509.Certificate] = []
    for block in blocks:
        if block.label == "CERTIFICATE":
            certs.append(load_certificate(block.der))
            continue
        key = load_private_key(block)
        if isinstance(key, rsa.RSAPrivateKey):
            groups.append(Group(rsa=key))
        else:
            _attach(groups[-1] if groups else None, key)
    if not groups:
        raise errors.KeyMaterialError("no RSA private key found")
    for cert in certs:
        _attach_certificate(groups, cert)
    return groups


def _attach(current: Group | None, key: object) -> None:
    if current is None:
        raise errors.KeyMaterialError("a private key file must start with an RSA private key")
    if isinstance(key, x25519.X25519PrivateKey) and current.x25519 is None:
        current.x25519 = key
    elif isinstance(key, mlkem.MLKEM768PrivateKey) and current.mlkem768 is None:
        current.mlkem768 = key
    else:
        raise errors.KeyMaterialError(
            f"unexpected or repeated {type(key).__name__.removeprefix('_')} in a key generation"
        )


def _attach_certificate(groups: list[Group], cert: x509.Certificate) -> None:
    cert_key = cert.public_key()
    for candidate in groups:
        if candidate.rsa.public_key() == cert_key:
            if candidate.certificate is not None:
                raise errors.KeyMaterialError("two certificates for the same RSA key")
            candidate.certificate = cert
            return
    raise errors.KeyMaterialError("a certificate matches none of the RSA private keys")
