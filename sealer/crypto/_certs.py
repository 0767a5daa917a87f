"""Kubeseal-shaped certificates for `sealer.crypto.keys`: building one, reading one, checking one.

A key generation's RSA key carries a self-signed certificate exactly like kubeseal's, so that
`kubeseal --cert` and Bitnami's controller accept it. Sealing reads only the certificate's RSA
key and validity window (`read`, through `_der`, without importing `cryptography.x509`); the
C10 checks refuse non-RSA keys, RSA keys outside 2048..16384 bits and certificates not valid
now. Never touch `Certificate.extensions` on kubeseal certificates: their KeyUsage is
EncipherOnly without KeyAgreement, which cryptography refuses to model (`ValueError`).
"""

from __future__ import annotations

import datetime
import os
from typing import TYPE_CHECKING

from cryptography import exceptions as crypto_exceptions
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sealer import errors
from sealer.crypto import _der

if TYPE_CHECKING:
    from cryptography import x509

MIN_RSA_BITS = 2048
MAX_RSA_BITS = 16384
CERT_VALIDITY = datetime.timedelta(days=3650)  # kubeseal: 10 * 365 * 24h
# KeyUsage = EncipherOnly, DER exactly as Go's crypto/x509 writes it for kubeseal.
_KEY_USAGE_ENCIPHER_ONLY_DER = b"\x03\x02\x00\x01"


def kubeseal_certificate(key: rsa.RSAPrivateKey, *, now: datetime.datetime) -> x509.Certificate:
    """A certificate shaped exactly like kubeseal's `crypto.SignKey` output.

    Empty subject and issuer, a random serial below 2**128, validity now .. now + 3650 days,
    KeyUsage EncipherOnly (critical), BasicConstraints CA:TRUE (critical) and the RFC 5280
    SubjectKeyIdentifier Go adds to CA certificates, in that order, signed with SHA-256.
    """
    from cryptography import x509  # lazy: ~20 ms, needed only to build or inspect certificates
    from cryptography.x509 import oid

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


def read(der: bytes) -> tuple[_der.CertificateFields, rsa.RSAPublicKey]:
    """The validity window and the (checked) RSA key of a DER certificate, without x509."""
    try:
        fields = _der.certificate_fields(der)
    except ValueError:
        raise errors.KeyMaterialError("CERTIFICATE block is not an X.509 certificate") from None
    try:
        key = serialization.load_der_public_key(fields.spki)
    except (ValueError, crypto_exceptions.UnsupportedAlgorithm):
        raise errors.KeyMaterialError("certificate has an unsupported public key") from None
    return fields, rsa_only(key)


def check(cert: x509.Certificate, *, now: datetime.datetime) -> None:
    """`keys.check_certificate` (C10) on a loaded certificate."""
    rsa_public_key(cert)
    check_validity(cert.not_valid_before_utc, cert.not_valid_after_utc, now=now)


def check_validity(
    not_before: datetime.datetime, not_after: datetime.datetime, *, now: datetime.datetime
) -> None:
    now = utc_seconds(now)
    if now < not_before:
        raise errors.KeyMaterialError(f"certificate is not valid before {not_before.isoformat()}")
    if now > not_after:
        raise errors.KeyMaterialError(f"certificate expired on {not_after.isoformat()}")


def rsa_public_key(cert: x509.Certificate) -> rsa.RSAPublicKey:
    try:
        key = cert.public_key()
    except (ValueError, crypto_exceptions.UnsupportedAlgorithm):
        raise errors.KeyMaterialError("certificate has an unsupported public key") from None
    return rsa_only(key)


def rsa_only(key: object) -> rsa.RSAPublicKey:
    if not isinstance(key, rsa.RSAPublicKey):
        raise errors.KeyMaterialError(
            f"certificate key is {type(key).__name__.removeprefix('_')}, not RSA"
        )
    check_rsa_bits(key.key_size)
    return key


def check_rsa_bits(bits: int) -> None:
    if not MIN_RSA_BITS <= bits <= MAX_RSA_BITS:
        raise errors.KeyMaterialError(
            f"RSA key has {bits} bits; {MIN_RSA_BITS}..{MAX_RSA_BITS} are accepted"
        )


def utc_seconds(now: datetime.datetime) -> datetime.datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(datetime.UTC).replace(microsecond=0)
