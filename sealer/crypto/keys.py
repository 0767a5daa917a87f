"""Key generations, public keys, key ids, certificates and their PEM forms.

Owns the key material model used by `envelope`, `keyring`, `sealer.keystore` and the
controller's key management. Pure bytes: no file I/O.

A key generation holds an RSA key with a kubeseal-style self-signed certificate (for v1
envelopes, byte-compatible with Bitnami Sealed Secrets) plus an X25519 and an ML-KEM-768 key
(for v2 envelopes). A kubeseal `tls.key` read on its own becomes a `LegacyKey` (RSA only).

Key id (8 bytes, derived from public keys, so it is never stored and cannot disagree with them):

    v2 generation:  SHA-256("sealops.dev/key-id/v2\\0" || uint32be(len(spki)) || spki
                            || x25519_raw (32) || mlkem768_raw (1184))[:8]
    RSA only (v1):  SHA-256("sealops.dev/key-id/v1\\0" || spki)[:8]

where `spki` is the DER SubjectPublicKeyInfo of the RSA key. A bare kubeseal certificate thus has
the v1 id of its RSA key; the same RSA key inside a v2 generation has the generation's v2 id.

PEM layouts (standard labels; ML-KEM-768 and X25519 use the SubjectPublicKeyInfo / PKCS#8
encodings that cryptography >= 46 reads and writes, so `openssl pkey` can inspect them):

    public.pem:   CERTIFICATE | PUBLIC KEY (X25519) | PUBLIC KEY (ML-KEM-768)
    private.pem:  RSA PRIVATE KEY (PKCS#1, like kubeseal's tls.key) | CERTIFICATE
                  | PRIVATE KEY (X25519, PKCS#8) | PRIVATE KEY (ML-KEM-768, PKCS#8 seed)

A private PEM may hold several generations back to back: each RSA key starts a group, the
X25519/ML-KEM keys after it belong to it, and certificates are matched to RSA keys by public key.

Never touch `Certificate.extensions` on kubeseal certificates: their KeyUsage is EncipherOnly
without KeyAgreement, which cryptography refuses to model (`ValueError` on access).
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import os
import struct

from cryptography import exceptions as crypto_exceptions
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import mlkem, rsa, x25519
from cryptography.x509 import oid

from sealer import errors
from sealer.crypto import _pem

__all__ = [
    "KEY_ID_LEN",
    "KeyGeneration",
    "LegacyKey",
    "PublicKeys",
    "check_certificate",
    "derive_key_id",
    "generate",
    "parse_private_pem",
    "parse_public_pem",
    "private_pem",
    "public_pem",
]

KEY_ID_LEN = 8
MIN_RSA_BITS = 2048
MAX_RSA_BITS = 16384
CERT_VALIDITY = datetime.timedelta(days=3650)  # kubeseal: 10 * 365 * 24h

_KEY_ID_V2_DOMAIN = b"sealops.dev/key-id/v2\x00"
_KEY_ID_V1_DOMAIN = b"sealops.dev/key-id/v1\x00"
# KeyUsage = EncipherOnly, DER exactly as Go's crypto/x509 writes it for kubeseal.
_KEY_USAGE_ENCIPHER_ONLY_DER = b"\x03\x02\x00\x01"
_PEM = serialization.Encoding.PEM


@dataclasses.dataclass(frozen=True)
class PublicKeys:
    """What a sealer needs: v1 uses `rsa`; v2 uses `x25519` and `mlkem768` (both or neither)."""

    key_id: bytes
    certificate: x509.Certificate | None
    rsa: rsa.RSAPublicKey | None
    x25519: x25519.X25519PublicKey | None
    mlkem768: mlkem.MLKEM768PublicKey | None

    def __post_init__(self) -> None:
        if len(self.key_id) != KEY_ID_LEN:
            raise ValueError(f"a key id is {KEY_ID_LEN} bytes")
        if (self.x25519 is None) != (self.mlkem768 is None):
            raise ValueError("x25519 and mlkem768 come together or not at all")

    @property
    def key_id_hex(self) -> str:
        return self.key_id.hex()

    @property
    def has_v2(self) -> bool:
        """True when the v2 (X25519 + ML-KEM-768) public keys are present."""
        return self.x25519 is not None and self.mlkem768 is not None

    def __repr__(self) -> str:
        return f"PublicKeys(key_id={self.key_id_hex}, v2={self.has_v2})"


@dataclasses.dataclass(frozen=True, repr=False, eq=False)
class KeyGeneration:
    """One generation of private keys; `key_id` is derived from the public halves."""

    key_id: bytes
    rsa: rsa.RSAPrivateKey
    certificate: x509.Certificate
    x25519: x25519.X25519PrivateKey
    mlkem768: mlkem.MLKEM768PrivateKey
    created_at: datetime.datetime

    def __post_init__(self) -> None:
        if self.certificate.public_key() != self.rsa.public_key():
            raise ValueError("the certificate does not belong to the RSA key")
        expected = derive_key_id(
            self.rsa.public_key(),
            x25519=self.x25519.public_key(),
            mlkem768=self.mlkem768.public_key(),
        )
        if self.key_id != expected:
            raise ValueError("key_id does not match the keys")

    @property
    def key_id_hex(self) -> str:
        return self.key_id.hex()

    def public(self) -> PublicKeys:
        return PublicKeys(
            key_id=self.key_id,
            certificate=self.certificate,
            rsa=self.rsa.public_key(),
            x25519=self.x25519.public_key(),
            mlkem768=self.mlkem768.public_key(),
        )

    def __repr__(self) -> str:
        return f"KeyGeneration(key_id={self.key_id_hex}, created_at={self.created_at.isoformat()})"


@dataclasses.dataclass(frozen=True, repr=False, eq=False)
class LegacyKey:
    """A kubeseal RSA key (v1 envelopes only); `key_id` is the v1 id of its RSA key."""

    key_id: bytes
    rsa: rsa.RSAPrivateKey
    certificate: x509.Certificate | None

    def __post_init__(self) -> None:
        if self.key_id != derive_key_id(self.rsa.public_key()):
            raise ValueError("key_id does not match the RSA key")
        if self.certificate is not None and self.certificate.public_key() != self.rsa.public_key():
            raise ValueError("the certificate does not belong to the RSA key")

    @property
    def key_id_hex(self) -> str:
        return self.key_id.hex()

    @property
    def created_at(self) -> datetime.datetime | None:
        """The certificate's NotBefore (kubeseal's notion of key age), if a certificate is known."""
        return None if self.certificate is None else self.certificate.not_valid_before_utc

    def public(self) -> PublicKeys:
        return PublicKeys(
            key_id=self.key_id,
            certificate=self.certificate,
            rsa=self.rsa.public_key(),
            x25519=None,
            mlkem768=None,
        )

    def __repr__(self) -> str:
        return f"LegacyKey(key_id={self.key_id_hex})"


def derive_key_id(
    rsa_key: rsa.RSAPublicKey,
    *,
    x25519: x25519.X25519PublicKey | None = None,
    mlkem768: mlkem.MLKEM768PublicKey | None = None,
) -> bytes:
    """The key id (see the module docstring): v2 with both extra keys, v1 (RSA only) without."""
    spki = rsa_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if x25519 is None and mlkem768 is None:
        return hashlib.sha256(_KEY_ID_V1_DOMAIN + spki).digest()[:KEY_ID_LEN]
    if x25519 is None or mlkem768 is None:
        raise ValueError("x25519 and mlkem768 come together or not at all")
    digest = hashlib.sha256(_KEY_ID_V2_DOMAIN)
    digest.update(struct.pack(">I", len(spki)) + spki)
    digest.update(x25519.public_bytes_raw())
    digest.update(mlkem768.public_bytes_raw())
    return digest.digest()[:KEY_ID_LEN]


def generate(*, now: datetime.datetime, rsa_bits: int = 4096) -> KeyGeneration:
    """A new key generation whose certificate is valid from `now` (whole seconds, UTC) for 10 years.

    `now` must be timezone-aware. `created_at` equals the certificate's NotBefore, so it survives
    a PEM round trip unchanged.
    """
    now = _utc_seconds(now)
    if not MIN_RSA_BITS <= rsa_bits <= MAX_RSA_BITS:
        raise ValueError(f"rsa_bits must be within {MIN_RSA_BITS}..{MAX_RSA_BITS}")
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=rsa_bits)
    return _assemble(
        rsa_key=rsa_key,
        certificate=_kubeseal_certificate(rsa_key, now=now),
        x25519_key=x25519.X25519PrivateKey.generate(),
        mlkem_key=mlkem.MLKEM768PrivateKey.generate(),
    )


def _assemble(
    *,
    rsa_key: rsa.RSAPrivateKey,
    certificate: x509.Certificate,
    x25519_key: x25519.X25519PrivateKey,
    mlkem_key: mlkem.MLKEM768PrivateKey,
) -> KeyGeneration:
    key_id = derive_key_id(
        rsa_key.public_key(), x25519=x25519_key.public_key(), mlkem768=mlkem_key.public_key()
    )
    return KeyGeneration(
        key_id=key_id,
        rsa=rsa_key,
        certificate=certificate,
        x25519=x25519_key,
        mlkem768=mlkem_key,
        created_at=certificate.not_valid_before_utc,
    )


def _kubeseal_certificate(key: rsa.RSAPrivateKey, *, now: datetime.datetime) -> x509.Certificate:
    """A certificate shaped exactly like kubeseal's `crypto.SignKey` output.

    Empty subject and issuer, a random serial below 2**128, validity now .. now + 3650 days,
    KeyUsage EncipherOnly (critical), BasicConstraints CA:TRUE (critical) and the RFC 5280
    SubjectKeyIdentifier Go adds to CA certificates, in that order, signed with SHA-256.
    """
    serial = int.from_bytes(os.urandom(16), "big") or 1
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([]))
        .issuer_name(x509.Name([]))
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(now)
        .not_valid_after(now + CERT_VALIDITY)
        # cryptography's KeyUsage refuses encipher_only without key_agreement; kubeseal sets it.
        .add_extension(
            x509.UnrecognizedExtension(oid.ExtensionOID.KEY_USAGE, _KEY_USAGE_ENCIPHER_ONLY_DER),
            critical=True,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    return builder.sign(key, hashes.SHA256())


def check_certificate(cert: x509.Certificate, *, now: datetime.datetime) -> None:
    """Refuse a certificate that must not be sealed to (hostile input C10).

    Raises `KeyMaterialError` for a non-RSA key, an RSA key shorter than 2048 (or longer than
    16384) bits, or a certificate not valid at `now` (timezone-aware). Does not read extensions.
    """
    now = _utc_seconds(now)
    _rsa_public_key(cert)
    if now < cert.not_valid_before_utc:
        raise errors.KeyMaterialError(
            f"certificate is not valid before {cert.not_valid_before_utc.isoformat()}"
        )
    if now > cert.not_valid_after_utc:
        raise errors.KeyMaterialError(
            f"certificate expired on {cert.not_valid_after_utc.isoformat()}"
        )


def _rsa_public_key(cert: x509.Certificate) -> rsa.RSAPublicKey:
    try:
        key = cert.public_key()
    except (ValueError, crypto_exceptions.UnsupportedAlgorithm):
        raise errors.KeyMaterialError("certificate has an unsupported public key") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise errors.KeyMaterialError(
            f"certificate key is {type(key).__name__.removeprefix('_')}, not RSA"
        )
    _check_rsa_bits(key.key_size)
    return key


def _check_rsa_bits(bits: int) -> None:
    if not MIN_RSA_BITS <= bits <= MAX_RSA_BITS:
        raise errors.KeyMaterialError(
            f"RSA key has {bits} bits; {MIN_RSA_BITS}..{MAX_RSA_BITS} are accepted"
        )


def _utc_seconds(now: datetime.datetime) -> datetime.datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(datetime.UTC).replace(microsecond=0)


# --- PEM ----------------------------------------------------------------------------------------


def public_pem(pub: PublicKeys) -> bytes:
    """The certificate PEM, followed by the X25519 and ML-KEM-768 SPKI PEMs when present."""
    if pub.certificate is None:
        raise ValueError("public_pem needs PublicKeys with a certificate")
    parts = [pub.certificate.public_bytes(_PEM)]
    if pub.x25519 is not None and pub.mlkem768 is not None:
        spki = serialization.PublicFormat.SubjectPublicKeyInfo
        parts.append(pub.x25519.public_bytes(_PEM, spki))
        parts.append(pub.mlkem768.public_bytes(_PEM, spki))
    return b"".join(parts)


def parse_public_pem(data: bytes) -> PublicKeys:
    """Parse `public_pem` output, or a bare kubeseal certificate (-> v1-only PublicKeys).

    Exactly one certificate (RSA, 2048..16384 bits) and either no or exactly two public keys
    (one X25519, one ML-KEM-768) are accepted; anything else, including trailing garbage and a
    low-order X25519 key, raises `KeyMaterialError`. Validity dates are checked separately by
    `check_certificate`, which needs the time.
    """
    blocks = _pem.split(data)
    certs = [b for b in blocks if b.label == "CERTIFICATE"]
    keys = [b for b in blocks if b.label == "PUBLIC KEY"]
    if len(certs) + len(keys) != len(blocks):
        raise errors.KeyMaterialError("public PEM may hold only CERTIFICATE and PUBLIC KEY blocks")
    if len(certs) != 1:
        raise errors.KeyMaterialError(f"public PEM must hold one certificate, found {len(certs)}")
    cert = _pem.load_certificate(certs[0].der)
    rsa_key = _rsa_public_key(cert)
    if not keys:
        return PublicKeys(derive_key_id(rsa_key), cert, rsa_key, None, None)
    x_key, m_key = _pem.v2_public_keys([_pem.load_public_key(b.der) for b in keys])
    key_id = derive_key_id(rsa_key, x25519=x_key, mlkem768=m_key)
    return PublicKeys(key_id, cert, rsa_key, x_key, m_key)


def private_pem(gen: KeyGeneration | LegacyKey) -> bytes:
    """RSA PKCS#1 (like kubeseal's tls.key), the certificate, then the v2 private keys (PKCS#8)."""
    none = serialization.NoEncryption()
    pkcs8 = serialization.PrivateFormat.PKCS8
    parts = [gen.rsa.private_bytes(_PEM, serialization.PrivateFormat.TraditionalOpenSSL, none)]
    if gen.certificate is not None:
        parts.append(gen.certificate.public_bytes(_PEM))
    if isinstance(gen, KeyGeneration):
        parts.append(gen.x25519.private_bytes(_PEM, pkcs8, none))
        parts.append(gen.mlkem768.private_bytes(_PEM, pkcs8, none))
    return b"".join(parts)


def parse_private_pem(
    data: bytes, *, certificate: bytes | None = None
) -> list[KeyGeneration | LegacyKey]:
    """Parse `private_pem` output (one or more generations) or a kubeseal `tls.key`.

    `certificate` may carry a separate certificate PEM (kubeseal's `tls.crt`). Raises
    `KeyMaterialError` for anything unexpected; the message never quotes the data.
    """
    blocks = _pem.split(data)
    if certificate is not None:
        blocks += _pem.split(certificate)
    groups = _pem.group(blocks)
    return [_from_group(g) for g in groups]


def _from_group(group: _pem.Group) -> KeyGeneration | LegacyKey:
    _check_rsa_bits(group.rsa.key_size)
    if group.x25519 is None and group.mlkem768 is None:
        key_id = derive_key_id(group.rsa.public_key())
        return LegacyKey(key_id=key_id, rsa=group.rsa, certificate=group.certificate)
    if group.x25519 is None or group.mlkem768 is None:
        raise errors.KeyMaterialError("a key generation needs both an X25519 and an ML-KEM-768 key")
    if group.certificate is None:
        raise errors.KeyMaterialError("a key generation needs the certificate of its RSA key")
    return _assemble(
        rsa_key=group.rsa,
        certificate=group.certificate,
        x25519_key=group.x25519,
        mlkem_key=group.mlkem768,
    )
