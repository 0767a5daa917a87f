"""Key generations, key ids, kubeseal-shaped certificates, PEM forms and certificate checks."""

from __future__ import annotations

import dataclasses
import datetime
import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, mlkem, rsa, x25519

from sealer import errors
from sealer.crypto import keys
from tests.unit.crypto.conftest import KUBESEAL, NOW, SEALOPS_V2, WYCHEPROOF, load_json


def extensions_der(cert: x509.Certificate) -> bytes:
    """Kubeseal's extension block: KeyUsage EncipherOnly, CA:TRUE (both critical), then SKI."""
    ski = x509.SubjectKeyIdentifier.from_public_key(cert.public_key()).digest
    return (
        bytes.fromhex("a3423040300e0603551d0f0101ff040403020001300f0603551d130101ff040530030101ff")
        + bytes.fromhex("301d0603551d0e04160414")
        + ski
    )


@pytest.mark.parametrize("name", ["pub2048.crt", "pub4096.crt"])
def test_kubeseal_certificates_have_the_extension_block_we_mirror(name: str) -> None:
    cert = x509.load_pem_x509_certificate((KUBESEAL / name).read_bytes())
    assert cert.tbs_certificate_bytes.endswith(extensions_der(cert))


def test_generated_certificate_is_shaped_exactly_like_kubeseals(
    generation: keys.KeyGeneration,
) -> None:
    cert = generation.certificate
    assert cert.tbs_certificate_bytes.endswith(extensions_der(cert))
    assert cert.subject == x509.Name([]) == cert.issuer
    assert cert.not_valid_before_utc == NOW
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == datetime.timedelta(days=3650)
    assert 0 < cert.serial_number < 2**128
    assert isinstance(cert.signature_hash_algorithm, hashes.SHA256)
    assert cert.public_key() == generation.rsa.public_key()
    assert generation.created_at == NOW


def test_generate_defaults_to_rsa_4096_with_v2_keys() -> None:
    gen = keys.generate(now=NOW + datetime.timedelta(microseconds=123456))
    assert gen.rsa.key_size == 4096
    assert isinstance(gen.x25519, x25519.X25519PrivateKey)
    assert isinstance(gen.mlkem768, mlkem.MLKEM768PrivateKey)
    assert gen.created_at == NOW  # whole seconds, like the certificate


def test_generate_refuses_naive_time_and_weak_rsa() -> None:
    with pytest.raises(ValueError, match="timezone"):
        keys.generate(now=datetime.datetime(2027, 1, 1), rsa_bits=2048)
    with pytest.raises(ValueError, match="rsa_bits"):
        keys.generate(now=NOW, rsa_bits=1024)


def test_key_id_is_the_documented_hash_of_the_public_keys(generation: keys.KeyGeneration) -> None:
    spki = generation.rsa.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    expected = hashlib.sha256(
        b"sealops.dev/key-id/v2\x00"
        + len(spki).to_bytes(4, "big")
        + spki
        + generation.x25519.public_key().public_bytes_raw()
        + generation.mlkem768.public_key().public_bytes_raw()
    ).digest()[:8]
    assert generation.key_id == expected
    assert len(generation.key_id) == keys.KEY_ID_LEN
    assert generation.public().key_id_hex == expected.hex()


def test_kubeseal_certificate_gets_the_v1_key_id_of_its_rsa_key() -> None:
    pub = keys.parse_public_pem((KUBESEAL / "pub2048.crt").read_bytes())
    assert pub.rsa is not None
    spki = pub.rsa.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert pub.key_id == hashlib.sha256(b"sealops.dev/key-id/v1\x00" + spki).digest()[:8]
    assert pub.x25519 is None and pub.mlkem768 is None and not pub.has_v2


def test_key_generation_refuses_a_key_id_that_does_not_match(
    generation: keys.KeyGeneration,
) -> None:
    with pytest.raises(ValueError, match="key_id"):
        dataclasses.replace(generation, key_id=bytes(8))


def test_reprs_show_the_key_id_and_never_key_material(generation: keys.KeyGeneration) -> None:
    private_der = generation.rsa.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    for obj in (generation, generation.public()):
        text = repr(obj)
        assert generation.key_id_hex in text
        assert "object at" not in text
        assert private_der.hex()[:16] not in text
    assert repr(generation) == (
        f"KeyGeneration(key_id={generation.key_id_hex}, created_at=2027-01-01T00:00:00+00:00)"
    )


# --- PEM ----------------------------------------------------------------------------------------


def test_public_pem_round_trips_and_uses_standard_labels(generation: keys.KeyGeneration) -> None:
    pem = keys.public_pem(generation.public())
    labels = [line for line in pem.splitlines() if line.startswith(b"-----BEGIN")]
    assert labels == [
        b"-----BEGIN CERTIFICATE-----",
        b"-----BEGIN PUBLIC KEY-----",
        b"-----BEGIN PUBLIC KEY-----",
    ]
    parsed = keys.parse_public_pem(pem)
    assert parsed == generation.public()


def test_private_pem_starts_with_pkcs1_rsa_and_round_trips(generation: keys.KeyGeneration) -> None:
    pem = keys.private_pem(generation)
    assert pem.startswith(b"-----BEGIN RSA PRIVATE KEY-----\n")
    (parsed,) = keys.parse_private_pem(pem)
    assert isinstance(parsed, keys.KeyGeneration)
    assert parsed.key_id == generation.key_id
    assert parsed.created_at == generation.created_at
    assert parsed.public() == generation.public()


def test_several_generations_in_one_private_pem_are_all_read(
    generation: keys.KeyGeneration, other_generation: keys.KeyGeneration
) -> None:
    pem = keys.private_pem(generation) + b"\n" + keys.private_pem(other_generation)
    parsed = keys.parse_private_pem(pem)
    assert [k.key_id for k in parsed] == [generation.key_id, other_generation.key_id]


def test_bare_kubeseal_tls_key_becomes_a_legacy_key_without_certificate() -> None:
    (key,) = keys.parse_private_pem((KUBESEAL / "pub4096.key").read_bytes())
    assert isinstance(key, keys.LegacyKey)
    assert key.certificate is None and key.created_at is None
    cert_pub = keys.parse_public_pem((KUBESEAL / "pub4096.crt").read_bytes())
    assert key.key_id == cert_pub.key_id


@pytest.mark.parametrize("cert_first", [False, True])
def test_kubeseal_key_with_its_certificate_in_either_order(cert_first: bool) -> None:
    key_pem, cert_pem = (
        (KUBESEAL / "pub2048.key").read_bytes(),
        (KUBESEAL / "pub2048.crt").read_bytes(),
    )
    (key,) = keys.parse_private_pem(cert_pem + key_pem if cert_first else key_pem + cert_pem)
    assert isinstance(key, keys.LegacyKey)
    assert key.created_at == x509.load_pem_x509_certificate(cert_pem).not_valid_before_utc
    assert key.public() == keys.parse_public_pem(cert_pem)


def test_certificate_of_another_key_is_refused() -> None:
    with pytest.raises(errors.KeyMaterialError, match="matches none"):
        keys.parse_private_pem(
            (KUBESEAL / "pub2048.key").read_bytes(),
            certificate=(KUBESEAL / "pub4096.crt").read_bytes(),
        )


def test_generation_without_its_certificate_is_refused(generation: keys.KeyGeneration) -> None:
    pem = keys.private_pem(generation)
    start = pem.index(b"-----BEGIN CERTIFICATE-----")
    end = pem.index(b"-----END CERTIFICATE-----\n") + len(b"-----END CERTIFICATE-----\n")
    with pytest.raises(errors.KeyMaterialError, match="certificate"):
        keys.parse_private_pem(pem[:start] + pem[end:])


def test_half_a_generation_is_refused(generation: keys.KeyGeneration) -> None:
    pem = keys.private_pem(generation)
    cut = pem.rindex(b"-----BEGIN PRIVATE KEY-----")
    with pytest.raises(errors.KeyMaterialError, match="both"):
        keys.parse_private_pem(pem[:cut])


def test_encrypted_private_key_is_refused_without_quoting_it(
    kubeseal_keys: dict[str, keys.LegacyKey],
) -> None:
    pem = kubeseal_keys["pub2048"].rsa.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pw"),
    )
    with pytest.raises(errors.KeyMaterialError) as excinfo:
        keys.parse_private_pem(pem)
    assert "BEGIN" not in str(excinfo.value)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda pem: pem + b"garbage",
        lambda pem: b"Certificate:\n    Data: ...\n" + pem,
        lambda pem: pem.replace(b"-----END CERTIFICATE-----", b"-----END PUBLIC KEY-----", 1),
        lambda pem: pem.replace(b"\n", b"\n\x00", 3),
        lambda pem: pem[: len(pem) // 2],
        lambda pem: b"",
        lambda pem: b"   \n",
    ],
    ids=["trailing", "leading-text", "label-mismatch", "nul", "truncated", "empty", "blank"],
)
def test_public_pem_with_anything_but_pem_blocks_is_refused(
    mangle: object, generation: keys.KeyGeneration
) -> None:
    pem = keys.public_pem(generation.public())
    with pytest.raises(errors.KeyMaterialError):
        keys.parse_public_pem(mangle(pem))  # type: ignore[operator]


def test_public_pem_with_several_certificates_is_refused() -> None:
    certs = (KUBESEAL / "pub2048.crt").read_bytes() + (KUBESEAL / "pub4096.crt").read_bytes()
    with pytest.raises(errors.KeyMaterialError, match="one certificate, found 2"):
        keys.parse_public_pem(certs)


def test_public_pem_with_only_one_v2_key_is_refused(generation: keys.KeyGeneration) -> None:
    pem = keys.public_pem(generation.public())
    cut = pem.rindex(b"-----BEGIN PUBLIC KEY-----")
    with pytest.raises(errors.KeyMaterialError, match="X25519"):
        keys.parse_public_pem(pem[:cut])


def test_public_pem_with_a_low_order_x25519_key_is_refused(generation: keys.KeyGeneration) -> None:
    data = load_json(WYCHEPROOF / "x25519_test.json")
    point = next(
        bytes.fromhex(t["public"])
        for g in data["testGroups"]
        for t in g["tests"]
        if "LowOrderPublic" in t["flags"]
    )
    bad = keys.PublicKeys(
        key_id=generation.key_id,
        certificate=generation.certificate,
        rsa=generation.rsa.public_key(),
        x25519=x25519.X25519PublicKey.from_public_bytes(point),
        mlkem768=generation.mlkem768.public_key(),
    )
    with pytest.raises(errors.KeyMaterialError, match="low-order"):
        keys.parse_public_pem(keys.public_pem(bad))


def test_committed_test_key_files_parse() -> None:
    public = keys.parse_public_pem((SEALOPS_V2 / "public.pem").read_bytes())
    (private,) = keys.parse_private_pem((SEALOPS_V2 / "private.pem").read_bytes())
    assert private.public() == public


# --- certificate checks (C10) -------------------------------------------------------------------


def self_signed(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> x509.Certificate:
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([]))
        .issuer_name(x509.Name([]))
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(NOW)
        .not_valid_after(NOW + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )


def test_check_certificate_accepts_a_valid_kubeseal_certificate() -> None:
    cert = x509.load_pem_x509_certificate((KUBESEAL / "pub4096.crt").read_bytes())
    keys.check_certificate(cert, now=cert.not_valid_before_utc + datetime.timedelta(days=1))


def test_check_certificate_refuses_expired_and_not_yet_valid(
    generation: keys.KeyGeneration,
) -> None:
    cert = generation.certificate
    keys.check_certificate(cert, now=NOW)
    with pytest.raises(errors.KeyMaterialError, match="expired"):
        keys.check_certificate(cert, now=NOW + datetime.timedelta(days=3651))
    with pytest.raises(errors.KeyMaterialError, match="not valid before"):
        keys.check_certificate(cert, now=NOW - datetime.timedelta(seconds=1))


def test_rsa_shorter_than_2048_bits_is_refused() -> None:
    cert = self_signed(rsa.generate_private_key(public_exponent=65537, key_size=1024))
    with pytest.raises(errors.KeyMaterialError, match="1024 bits"):
        keys.check_certificate(cert, now=NOW)
    pem = cert.public_bytes(serialization.Encoding.PEM)
    with pytest.raises(errors.KeyMaterialError, match="1024 bits"):
        keys.parse_public_pem(pem)


def test_non_rsa_certificate_is_refused() -> None:
    cert = self_signed(ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(errors.KeyMaterialError, match="not RSA"):
        keys.check_certificate(cert, now=NOW)
    with pytest.raises(errors.KeyMaterialError, match="not RSA"):
        keys.parse_public_pem(cert.public_bytes(serialization.Encoding.PEM))


def test_check_certificate_refuses_naive_time(generation: keys.KeyGeneration) -> None:
    with pytest.raises(ValueError, match="timezone"):
        keys.check_certificate(generation.certificate, now=datetime.datetime(2027, 1, 1))
