"""The two things sealing needs from an X.509 certificate, read without `cryptography.x509`.

`seal secret --cert public.pem` needs only the certificate's SubjectPublicKeyInfo (the RSA key,
also part of the key id) and its validity window (hostile input C10). Importing
`cryptography.x509` costs about 20 ms, a fifth of the whole command, so `sealer.crypto.keys`
reads these two fields here and loads the full certificate object only when something asks
for it (`PublicKeys.certificate`).

Strict DER only (RFC 5280 section 4.1; X.690 DER): definite, minimally encoded lengths; no
high tag numbers; the certificate's fields in their order; nothing after the certificate. The
SubjectPublicKeyInfo bytes are handed to cryptography's own key parser; the times must be
`YYMMDDHHMMSSZ` (UTCTime, years 1950..2049) or `YYYYMMDDHHMMSSZ` (GeneralizedTime); every
constructed element must be well-formed DER all the way down; the version must be v1 or v3 (as
cryptography accepts). The contents of the other fields - serial, names, algorithm OIDs,
extensions, signature - are not interpreted, so a certificate whose structure is sound but whose
name or extension contents cryptography would refuse is accepted here (its key and dates are
what sealing uses; cryptography does not verify a self-signed signature on load either). The
reverse never happens: what cryptography loads, this reads with the same key and dates (tested).
Errors are `ValueError` with a structural description, never content; `keys` turns them into
`KeyMaterialError`.
"""

from __future__ import annotations

import dataclasses
import datetime

SEQUENCE = 0x30
INTEGER = 0x02
BIT_STRING = 0x03
UTC_TIME = 0x17
GENERALIZED_TIME = 0x18
VERSION_TAG = 0xA0  # [0] EXPLICIT
_TRAILING_TBS_TAGS = (0x81, 0x82, 0xA3)  # issuerUniqueID, subjectUniqueID, extensions
_MAX_LENGTH_OCTETS = 4
_CONSTRUCTED = 0x20
_MAX_DEPTH = 16


@dataclasses.dataclass(frozen=True)
class CertificateFields:
    """The SubjectPublicKeyInfo DER and the validity window of one certificate."""

    spki: bytes
    not_before: datetime.datetime
    not_after: datetime.datetime


def certificate_fields(der: bytes) -> CertificateFields:
    """Read a DER certificate's SubjectPublicKeyInfo and validity; `ValueError` if malformed."""
    tag, body, end = _read(der, 0)
    if tag != SEQUENCE or end != len(der):
        raise ValueError("not a DER certificate")
    tbs_tag, tbs, pos = _read(body, 0)
    if tbs_tag != SEQUENCE:
        raise ValueError("certificate has no tbsCertificate")
    _check_well_formed(body, depth=0)
    pos = _expect(body, pos, SEQUENCE, "signatureAlgorithm")
    pos = _expect(body, pos, BIT_STRING, "signatureValue")
    if pos != len(body):
        raise ValueError("certificate has trailing fields")
    return _tbs_fields(tbs)


def _tbs_fields(tbs: bytes) -> CertificateFields:
    pos = 0
    tag, version, after = _read(tbs, pos)
    if tag == VERSION_TAG:
        _check_version(version)
        pos = after
    pos = _expect(tbs, pos, INTEGER, "serialNumber")
    pos = _expect(tbs, pos, SEQUENCE, "signature")
    pos = _expect(tbs, pos, SEQUENCE, "issuer")
    tag, validity, pos = _read(tbs, pos)
    if tag != SEQUENCE:
        raise ValueError("certificate has no validity")
    pos = _expect(tbs, pos, SEQUENCE, "subject")
    spki_start = pos
    pos = _expect(tbs, pos, SEQUENCE, "subjectPublicKeyInfo")
    spki = tbs[spki_start:pos]
    for allowed in _TRAILING_TBS_TAGS:
        if pos < len(tbs) and tbs[pos] == allowed:
            pos = _read(tbs, pos)[2]
    if pos != len(tbs):
        raise ValueError("tbsCertificate has unexpected fields")
    not_before, not_after = _validity(validity)
    return CertificateFields(spki=spki, not_before=not_before, not_after=not_after)


def _check_version(explicit: bytes) -> None:
    tag, value, end = _read(explicit, 0)
    if tag != INTEGER or end != len(explicit) or value not in (b"\x00", b"\x02"):
        raise ValueError("certificate version is not v1 or v3")


def _validity(body: bytes) -> tuple[datetime.datetime, datetime.datetime]:
    tag, first, pos = _read(body, 0)
    not_before = _time(tag, first)
    tag, second, pos = _read(body, pos)
    not_after = _time(tag, second)
    if pos != len(body):
        raise ValueError("validity has unexpected fields")
    return not_before, not_after


def _time(tag: int, value: bytes) -> datetime.datetime:
    if tag == UTC_TIME and len(value) == 13:
        year = int(_digits(value[:2]))
        year += 1900 if year >= 50 else 2000
        rest = value[2:]
    elif tag == GENERALIZED_TIME and len(value) == 15:
        year = int(_digits(value[:4]))
        rest = value[4:]
    else:
        raise ValueError("certificate time is not UTCTime or GeneralizedTime in UTC")
    if rest[-1:] != b"Z":
        raise ValueError("certificate time is not in UTC")
    digits = _digits(rest[:-1])
    month, day, hour, minute, second = (int(digits[i : i + 2]) for i in range(0, 10, 2))
    try:
        return datetime.datetime(year, month, day, hour, minute, second, tzinfo=datetime.UTC)
    except ValueError:
        raise ValueError("certificate time is not a valid date") from None


def _digits(raw: bytes) -> str:
    if not raw.isdigit() or not raw.isascii():
        raise ValueError("certificate time has non-digit characters")
    return raw.decode("ascii")


def _check_well_formed(data: bytes, *, depth: int) -> None:
    """Every constructed element, all the way down, is a sequence of complete DER TLVs."""
    if depth > _MAX_DEPTH:
        raise ValueError("DER nesting is too deep")
    pos = 0
    while pos < len(data):
        tag, body, pos = _read(data, pos)
        if tag & _CONSTRUCTED:
            _check_well_formed(body, depth=depth + 1)


def _expect(data: bytes, pos: int, tag: int, what: str) -> int:
    found, _body, end = _read(data, pos)
    if found != tag:
        raise ValueError(f"certificate field {what} is missing or has the wrong type")
    return end


def _read(data: bytes, pos: int) -> tuple[int, bytes, int]:
    """One DER TLV at `pos`: (tag, contents, end offset)."""
    if pos + 2 > len(data):
        raise ValueError("DER data is truncated")
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise ValueError("DER high tag numbers are not used in certificates")
    first = data[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > _MAX_LENGTH_OCTETS or pos + count > len(data):
            raise ValueError("DER length is indefinite, too long or truncated")
        raw = data[pos : pos + count]
        length = int.from_bytes(raw, "big")
        if raw[0] == 0 or length < 0x80:
            raise ValueError("DER length is not minimally encoded")
        pos += count
    end = pos + length
    if end > len(data):
        raise ValueError("DER data is truncated")
    return tag, data[pos:end], end
