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
import struct
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import mlkem, rsa, x25519

from sealer import errors
from sealer.crypto import _certs, _der, _pem

if TYPE_CHECKING:
    # Imported where used: `cryptography.x509` alone costs ~20 ms, and sealing needs only the
    # RSA key and the validity window of a certificate (read by `_der`).
    from cryptography import x509

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
MIN_RSA_BITS = _certs.MIN_RSA_BITS
MAX_RSA_BITS = _certs.MAX_RSA_BITS
CERT_VALIDITY = _certs.CERT_VALIDITY

_KEY_ID_V2_DOMAIN = b"sealops.dev/key-id/v2\x00"
_KEY_ID_V1_DOMAIN = b"sealops.dev/key-id/v1\x00"
_PEM = serialization.Encoding.PEM


# Aliases: inside PublicKeys the attribute names `rsa` and `x25519` shadow the modules.
_RSAPublic = rsa.RSAPublicKey
_X25519Public = x25519.X25519PublicKey
_MLKEMPublic = mlkem.MLKEM768PublicKey


class PublicKeys:
    """What a sealer needs: v1 uses `rsa`; v2 uses `x25519` and `mlkem768` (both or neither).

    Immutable. Keys read by `parse_public_pem` keep their certificate as DER plus its validity
    window and build the `cryptography.x509.Certificate` only when `certificate` is first read:
    sealing never needs it, and loading it imports `cryptography.x509` (see `_der`).
    """

    __slots__ = ("_certificate", "_certificate_der", "_validity", "key_id", "mlkem768", "rsa",
                 "x25519")

    key_id: bytes
    rsa: _RSAPublic | None
    x25519: _X25519Public | None
    mlkem768: _MLKEMPublic | None
    _certificate: x509.Certificate | None
    _certificate_der: bytes | None
    _validity: tuple[datetime.datetime, datetime.datetime] | None

    def __init__(
        self,
        key_id: bytes,
        certificate: x509.Certificate | None,
        rsa: _RSAPublic | None,
        x25519: _X25519Public | None,
        mlkem768: _MLKEMPublic | None,
    ) -> None:
        if len(key_id) != KEY_ID_LEN:
            raise ValueError(f"a key id is {KEY_ID_LEN} bytes")
        if (x25519 is None) != (mlkem768 is None):
            raise ValueError("x25519 and mlkem768 come together or not at all")
        for name, value in (("key_id", key_id), ("rsa", rsa), ("x25519", x25519),
                            ("mlkem768", mlkem768), ("_certificate", certificate),
                            ("_certificate_der", None), ("_validity", None)):
            object.__setattr__(self, name, value)

    @classmethod
    def _from_certificate_der(
        cls,
        key_id: bytes,
        *,
        der: bytes,
        fields: _der.CertificateFields,
        rsa: _RSAPublic,
        x25519: _X25519Public | None,
        mlkem768: _MLKEMPublic | None,
    ) -> PublicKeys:
        """Keys whose certificate is kept as DER (already checked by `_certs.read`)."""
        pub = cls(key_id, None, rsa, x25519, mlkem768)
        object.__setattr__(pub, "_certificate_der", der)
        object.__setattr__(pub, "_validity", (fields.not_before, fields.not_after))
        return pub

    def __setattr__(self, name: str, value: object) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")

    @property
    def certificate(self) -> x509.Certificate | None:
        """The RSA key's certificate (loaded on first use when parsed from PEM)."""
        if self._certificate is None and self._certificate_der is not None:
            object.__setattr__(self, "_certificate", _pem.load_certificate(self._certificate_der))
        return self._certificate

    @property
    def certificate_der(self) -> bytes | None:
        if self._certificate_der is not None:
            return self._certificate_der
        if self._certificate is None:
            return None
        return self._certificate.public_bytes(serialization.Encoding.DER)

    @property
    def key_id_hex(self) -> str:
        return self.key_id.hex()

    @property
    def has_v2(self) -> bool:
        """True when the v2 (X25519 + ML-KEM-768) public keys are present."""
        return self.x25519 is not None and self.mlkem768 is not None

    def check_certificate(self, *, now: datetime.datetime) -> None:
        """`check_certificate` on the certificate, if any, without loading it when not needed."""
        if self._certificate is not None:
            check_certificate(self._certificate, now=now)
        elif self._validity is not None:
            # The RSA key was checked by `parse_public_pem`; only the dates depend on `now`.
            _certs.check_validity(*self._validity, now=now)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PublicKeys):
            return NotImplemented
        return (self.key_id, self.certificate_der, self.rsa, self.x25519, self.mlkem768) == (
            other.key_id, other.certificate_der, other.rsa, other.x25519, other.mlkem768)

    def __hash__(self) -> int:
        return hash((self.key_id, self.certificate_der))

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
    # cryptography's SHA-256, not hashlib: hashlib loads a second copy of OpenSSL (~2 ms).
    digest = hashes.Hash(hashes.SHA256())
    if x25519 is None and mlkem768 is None:
        digest.update(_KEY_ID_V1_DOMAIN + spki)
        return digest.finalize()[:KEY_ID_LEN]
    if x25519 is None or mlkem768 is None:
        raise ValueError("x25519 and mlkem768 come together or not at all")
    digest.update(_KEY_ID_V2_DOMAIN)
    digest.update(struct.pack(">I", len(spki)) + spki)
    digest.update(x25519.public_bytes_raw())
    digest.update(mlkem768.public_bytes_raw())
    return digest.finalize()[:KEY_ID_LEN]


def generate(*, now: datetime.datetime, rsa_bits: int = 4096) -> KeyGeneration:
    """A new key generation whose certificate is valid from `now` (whole seconds, UTC) for 10 years.

    `now` must be timezone-aware. `created_at` equals the certificate's NotBefore, so it survives
    a PEM round trip unchanged.
    """
    now = _certs.utc_seconds(now)
    if not MIN_RSA_BITS <= rsa_bits <= MAX_RSA_BITS:
        raise ValueError(f"rsa_bits must be within {MIN_RSA_BITS}..{MAX_RSA_BITS}")
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=rsa_bits)
    return _assemble(
        rsa_key=rsa_key,
        certificate=_certs.kubeseal_certificate(rsa_key, now=now),
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


def check_certificate(cert: x509.Certificate, *, now: datetime.datetime) -> None:
    """Refuse a certificate that must not be sealed to (hostile input C10).

    Raises `KeyMaterialError` for a non-RSA key, an RSA key shorter than 2048 (or longer than
    16384) bits, or a certificate not valid at `now` (timezone-aware). Does not read extensions.
    """
    _certs.check(cert, now=now)


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
    der = certs[0].der
    fields, rsa_key = _certs.read(der)
    x_key = m_key = None
    if keys:
        x_key, m_key = _pem.v2_public_keys([_pem.load_public_key(b.der) for b in keys])
    key_id = derive_key_id(rsa_key, x25519=x_key, mlkem768=m_key)
    return PublicKeys._from_certificate_der(
        key_id, der=der, fields=fields, rsa=rsa_key, x25519=x_key, mlkem768=m_key
    )


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
    _certs.check_rsa_bits(group.rsa.key_size)
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
