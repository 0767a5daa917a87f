"""Public keys are read without `cryptography.x509`: the DER reader agrees with cryptography,
refuses malformed certificates, and low-order X25519 keys are still refused without a trial
key exchange (Wycheproof x25519 vectors)."""

from __future__ import annotations

import base64
import datetime
import json
import warnings

import pytest
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import x25519
from hypothesis import given, settings
from hypothesis import strategies as st

from sealer import errors
from sealer.crypto import _der, keys
from tests.unit.crypto.conftest import KUBESEAL, NOW, SEALOPS_V2, WYCHEPROOF

CERTS = [KUBESEAL / "pub2048.crt", KUBESEAL / "pub4096.crt"]


def pem_block(label: str, der: bytes) -> bytes:
    body = base64.encodebytes(der).replace(b"\n", b"")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return b"\n".join([f"-----BEGIN {label}-----".encode(), *lines,
                       f"-----END {label}-----".encode()]) + b"\n"


def cert_der(path: object) -> bytes:
    return x509.load_pem_x509_certificate(path.read_bytes()).public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.DER)


def wycheproof_x25519() -> list[tuple[int, bytes, bool]]:
    data = json.loads((WYCHEPROOF / "x25519_test.json").read_text())
    return [
        (t["tcId"], bytes.fromhex(t["public"]),
         bool({"LowOrderPublic", "ZeroSharedSecret"} & set(t["flags"])))
        for group in data["testGroups"] for t in group["tests"]
    ]


# --- the DER reader agrees with cryptography ----------------------------------------------------


@pytest.mark.parametrize("path", CERTS, ids=lambda p: p.name)
def test_the_der_reader_finds_the_key_and_dates_cryptography_finds(path: object) -> None:
    der = cert_der(path)
    cert = x509.load_der_x509_certificate(der)
    fields = _der.certificate_fields(der)
    assert fields.not_before == cert.not_valid_before_utc
    assert fields.not_after == cert.not_valid_after_utc
    assert fields.spki == cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def test_a_generated_certificate_reads_the_same_both_ways(
    generation: keys.KeyGeneration,
) -> None:
    parsed = keys.parse_public_pem(keys.public_pem(generation.public()))
    assert parsed.certificate_der == generation.certificate.public_bytes(
        serialization.Encoding.DER)
    assert parsed.certificate == generation.certificate  # built on first use
    assert parsed == generation.public()


def test_a_lazily_read_certificate_is_still_checked_for_its_dates(
    generation: keys.KeyGeneration,
) -> None:
    parsed = keys.parse_public_pem(keys.public_pem(generation.public()))
    parsed.check_certificate(now=NOW)
    with pytest.raises(errors.KeyMaterialError, match="expired"):
        parsed.check_certificate(now=NOW + datetime.timedelta(days=3651))
    with pytest.raises(errors.KeyMaterialError, match="not valid before"):
        parsed.check_certificate(now=NOW - datetime.timedelta(seconds=1))
    with pytest.raises(ValueError, match="timezone"):
        parsed.check_certificate(now=datetime.datetime(2027, 1, 1))


def test_public_keys_stay_immutable(generation: keys.KeyGeneration) -> None:
    parsed = keys.parse_public_pem(keys.public_pem(generation.public()))
    with pytest.raises(AttributeError):
        parsed.key_id = bytes(8)
    assert hash(parsed) == hash(generation.public())


def test_the_committed_v2_public_key_still_parses_to_its_private_key() -> None:
    public = keys.parse_public_pem((SEALOPS_V2 / "public.pem").read_bytes())
    (private,) = keys.parse_private_pem((SEALOPS_V2 / "private.pem").read_bytes())
    assert private.public() == public


# --- malformed certificates are refused ---------------------------------------------------------


def test_every_truncation_of_a_certificate_is_refused() -> None:
    der = cert_der(CERTS[0])
    for cut in range(len(der)):
        with pytest.raises(errors.KeyMaterialError):
            keys.parse_public_pem(pem_block("CERTIFICATE", der[:cut]))


@pytest.mark.parametrize(
    "mangle",
    [
        lambda der: der + b"\x00",  # trailing byte after the certificate
        lambda der: der[:1] + b"\x80" + der[4:] + b"\x00\x00",  # indefinite length
        lambda der: der[:1] + b"\x83\x00" + der[2:],  # non-minimal length
        lambda der: b"\x31" + der[1:],  # SET, not SEQUENCE
    ],
    ids=["trailing", "indefinite", "non-minimal", "wrong-tag"],
)
def test_malformed_der_is_refused(mangle: object) -> None:
    der = mangle(cert_der(CERTS[0]))  # type: ignore[operator]
    with pytest.raises(errors.KeyMaterialError, match=r"not an X\.509 certificate"):
        keys.parse_public_pem(pem_block("CERTIFICATE", der))


@pytest.mark.parametrize(
    ("tag", "value"),
    [
        (_der.UTC_TIME, b"270101000000+0100"),
        (_der.UTC_TIME, b"2701010000Z"),
        (_der.UTC_TIME, b"27010100000aZ"),
        (_der.UTC_TIME, b"271301000000Z"),
        (_der.GENERALIZED_TIME, b"20270101000000.5Z"),
        (_der.GENERALIZED_TIME, b"20270101000000"),
        (_der.INTEGER, b"270101000000Z"),
    ],
)
def test_times_other_than_utc_seconds_are_refused(tag: int, value: bytes) -> None:
    with pytest.raises(ValueError, match="time"):
        _der._time(tag, value)


def test_utctime_years_follow_rfc_5280() -> None:
    assert _der._time(_der.UTC_TIME, b"491231235959Z").year == 2049
    assert _der._time(_der.UTC_TIME, b"500101000000Z").year == 1950
    assert _der._time(_der.GENERALIZED_TIME, b"20500101000000Z").year == 2050


@settings(max_examples=300, deadline=None)
@given(position=st.integers(min_value=0), value=st.integers(min_value=0, max_value=255))
def test_a_changed_byte_cryptography_accepts_is_read_with_the_same_key_and_dates(
    position: int, value: int
) -> None:
    changed = bytearray(cert_der(CERTS[0]))
    changed[position % len(changed)] = value
    der = bytes(changed)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a zero serial: deprecated, still loaded
            cert = x509.load_der_x509_certificate(der)
            dates = (cert.not_valid_before_utc, cert.not_valid_after_utc)
            spki = cert.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    except (ValueError, x509.InvalidVersion, UnsupportedAlgorithm):
        return  # _der may accept what it does not interpret (names, extensions): documented
    fields = _der.certificate_fields(der)
    assert (fields.not_before, fields.not_after) == dates
    assert serialization.load_der_public_key(fields.spki).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) == spki


def test_a_wrong_version_is_refused_as_a_key_material_error() -> None:
    der = bytearray(cert_der(CERTS[0]))
    version_at = der.index(b"\xa0\x03\x02\x01\x02") + 4
    der[version_at] = 0x66
    with pytest.raises(errors.KeyMaterialError, match=r"not an X\.509 certificate"):
        keys.parse_public_pem(pem_block("CERTIFICATE", bytes(der)))


# --- low-order X25519 keys (Wycheproof) ---------------------------------------------------------


@pytest.mark.parametrize(("tc_id", "public", "low_order"), wycheproof_x25519(),
                         ids=lambda v: str(v) if isinstance(v, int) else "")
def test_wycheproof_low_order_x25519_keys_are_refused_and_no_other(
    generation: keys.KeyGeneration, tc_id: int, public: bytes, low_order: bool
) -> None:
    pem = (pem_block("CERTIFICATE", generation.certificate.public_bytes(
        serialization.Encoding.DER))
        + x25519.X25519PublicKey.from_public_bytes(public).public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        + generation.mlkem768.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    if low_order:
        with pytest.raises(errors.KeyMaterialError, match="low-order"):
            keys.parse_public_pem(pem)
    else:
        assert keys.parse_public_pem(pem).x25519 is not None


def test_the_wycheproof_file_has_all_fourteen_low_order_encodings() -> None:
    assert len({p for _id, p, low in wycheproof_x25519() if low}) == 14
