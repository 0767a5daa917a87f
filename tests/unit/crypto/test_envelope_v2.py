"""v2 envelopes: layout, committed vectors, binding to scope/item/header, uniform failure."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric import x25519

from sealer import errors
from sealer.crypto import envelope, keys, scope
from tests.unit.crypto.conftest import SEALOPS_V2, WYCHEPROOF, assert_unseal_error, b64, load_json

SUITES = list(envelope.Suite)
ENC_LEN = {envelope.Suite.X25519: 32, envelope.Suite.PQ: 1120}


def seal(gen: keys.KeyGeneration, value: bytes = b"v", **kwargs: object) -> bytes:
    args: dict[str, object] = {"label": b"ns/name", "item": "k", "suite": envelope.Suite.PQ}
    args.update(kwargs)
    return envelope.encrypt_v2(value, public=gen.public(), **args)  # type: ignore[arg-type]


def test_every_committed_v2_vector_still_opens(committed_generation: keys.KeyGeneration) -> None:
    vectors = load_json(SEALOPS_V2 / "vectors.json")
    assert {v["suite"] for v in vectors} == {"pq", "x25519"}
    for vector in vectors:
        label = scope.label(
            scope.Scope(vector["scope"]), namespace=vector["namespace"], name=vector["name"]
        )
        assert label == b64(vector["label_b64"])
        blob = b64(vector["ciphertext_b64"])
        assert envelope.envelope_key_id(blob) == committed_generation.key_id
        assert vector["key_id"] == committed_generation.key_id_hex
        opened = envelope.decrypt_v2(
            blob, generation=committed_generation, label=label, item=vector["item"]
        )
        assert opened == b64(vector["plaintext_b64"])


def test_committed_public_pem_matches_the_committed_private_pem(
    committed_generation: keys.KeyGeneration,
) -> None:
    public = keys.parse_public_pem((SEALOPS_V2 / "public.pem").read_bytes())
    assert public.key_id == committed_generation.key_id
    assert public.has_v2


@pytest.mark.parametrize("suite", SUITES)
def test_v2_envelope_has_the_documented_header_and_length(
    suite: envelope.Suite, generation: keys.KeyGeneration
) -> None:
    blob = seal(generation, b"12345", suite=suite)
    assert blob[:2] == b"SO"
    assert blob[2] == 2
    assert blob[3] == int(suite)
    assert blob[4:12] == generation.key_id
    assert len(blob) == 12 + ENC_LEN[suite] + 5 + 16
    assert envelope.envelope_key_id(blob) == generation.key_id


def test_envelope_key_id_is_none_for_v1_and_for_short_input(
    generation: keys.KeyGeneration,
) -> None:
    v1 = envelope.encrypt_v1(b"v", rsa=generation.rsa.public_key(), label=b"")
    assert envelope.envelope_key_id(v1) is None
    assert envelope.envelope_key_id(b"SO\x02\x02") is None
    assert envelope.envelope_key_id(b"") is None


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize(
    ("label", "item"),
    [
        (b"other-ns/name", "k"),  # copied to another namespace
        (b"ns/other-name", "k"),  # renamed
        (b"ns", "k"),  # widened to namespace-wide
        (b"", "k"),  # widened to cluster-wide
        (b"ns/name", "other-item"),  # moved to another item key
        (b"ns/name", "K"),
    ],
)
def test_v2_value_does_not_open_for_another_scope_or_item(
    suite: envelope.Suite, label: bytes, item: str, generation: keys.KeyGeneration
) -> None:
    blob = seal(generation, suite=suite)
    with pytest.raises(errors.UnsealError) as excinfo:
        envelope.decrypt_v2(blob, generation=generation, label=label, item=item)
    assert_unseal_error(excinfo, item)


@pytest.mark.parametrize("suite", SUITES)
def test_v2_value_does_not_open_with_another_generation(
    suite: envelope.Suite, generation: keys.KeyGeneration, other_generation: keys.KeyGeneration
) -> None:
    blob = seal(generation, suite=suite)
    forged = blob[:4] + other_generation.key_id + blob[12:]  # also pass the key id check
    for candidate in (blob, forged):
        with pytest.raises(errors.UnsealError) as excinfo:
            envelope.decrypt_v2(candidate, generation=other_generation, label=b"ns/name", item="k")
        assert_unseal_error(excinfo)


@pytest.mark.parametrize("suite", SUITES)
def test_every_header_byte_change_gives_the_same_unseal_error(
    suite: envelope.Suite, generation: keys.KeyGeneration
) -> None:
    blob = seal(generation, suite=suite)
    for position in range(12):
        for bit in range(8):
            tampered = bytearray(blob)
            tampered[position] ^= 1 << bit
            with pytest.raises(errors.UnsealError) as excinfo:
                envelope.decrypt_v2(
                    bytes(tampered), generation=generation, label=b"ns/name", item="k"
                )
            assert_unseal_error(excinfo)


def test_switching_the_suite_byte_between_known_suites_fails(
    generation: keys.KeyGeneration,
) -> None:
    for suite, other in [(envelope.Suite.PQ, 1), (envelope.Suite.X25519, 2)]:
        blob = seal(generation, suite=suite)
        with pytest.raises(errors.UnsealError) as excinfo:
            envelope.decrypt_v2(
                blob[:3] + bytes([other]) + blob[4:],
                generation=generation,
                label=b"ns/name",
                item="k",
            )
        assert_unseal_error(excinfo)


@pytest.mark.parametrize("suite", SUITES)
def test_v2_truncation_at_every_length_gives_the_same_unseal_error(
    suite: envelope.Suite, generation: keys.KeyGeneration
) -> None:
    blob = seal(generation, b"12345678", suite=suite)
    for length in range(len(blob)):
        with pytest.raises(errors.UnsealError) as excinfo:
            envelope.decrypt_v2(blob[:length], generation=generation, label=b"ns/name", item="k")
        assert_unseal_error(excinfo)


@pytest.mark.parametrize("suite", SUITES)
def test_v2_bit_flip_in_every_byte_gives_the_same_unseal_error(
    suite: envelope.Suite, generation: keys.KeyGeneration
) -> None:
    blob = seal(generation, b"12345678", suite=suite)
    for position in range(len(blob)):
        flipped = bytearray(blob)
        flipped[position] ^= 1 << (position % 8)
        with pytest.raises(errors.UnsealError) as excinfo:
            envelope.decrypt_v2(bytes(flipped), generation=generation, label=b"ns/name", item="k")
        assert_unseal_error(excinfo)


@pytest.mark.parametrize("version", [0, 1, 3, 0xFF])
@pytest.mark.parametrize("suite_byte", [0, 3, 0xFF])
def test_unknown_version_or_suite_gives_the_same_unseal_error(
    version: int, suite_byte: int, generation: keys.KeyGeneration
) -> None:
    blob = seal(generation)
    for candidate in (
        blob[:2] + bytes([version]) + blob[3:],
        blob[:3] + bytes([suite_byte]) + blob[4:],
    ):
        with pytest.raises(errors.UnsealError) as excinfo:
            envelope.decrypt_v2(candidate, generation=generation, label=b"ns/name", item="k")
        assert_unseal_error(excinfo)


def test_item_key_that_is_not_encodable_gives_unseal_error_on_open(
    generation: keys.KeyGeneration,
) -> None:
    blob = seal(generation)
    with pytest.raises(errors.UnsealError):
        envelope.decrypt_v2(blob, generation=generation, label=b"ns/name", item="\udc80")


def low_order_x25519_points() -> list[bytes]:
    data = load_json(WYCHEPROOF / "x25519_test.json")
    points = {
        bytes.fromhex(test["public"])
        for group in data["testGroups"]
        for test in group["tests"]
        if {"LowOrderPublic", "ZeroSharedSecret"} & set(test["flags"])
    }
    return sorted(points)


def test_wycheproof_low_order_points_are_refused_by_x25519_itself() -> None:
    points = low_order_x25519_points()
    assert len(points) >= 10
    for point in points:
        with pytest.raises(ValueError):
            x25519.X25519PrivateKey.generate().exchange(
                x25519.X25519PublicKey.from_public_bytes(point)
            )


@pytest.mark.parametrize("suite", SUITES)
def test_v2_envelope_whose_x25519_enc_is_a_low_order_point_gives_unseal_error(
    suite: envelope.Suite, generation: keys.KeyGeneration
) -> None:
    """Wycheproof LowOrderPublic/ZeroSharedSecret keys as the sender's ephemeral X25519 key.

    For the PQ suite the X25519 share is the last 32 bytes of the 1120-byte enc (after the
    1088-byte ML-KEM ciphertext).
    """
    blob = seal(generation, suite=suite)
    x_start = 12 + ENC_LEN[suite] - 32
    for point in low_order_x25519_points():
        forged = blob[:x_start] + point + blob[x_start + 32 :]
        with pytest.raises(errors.UnsealError) as excinfo:
            envelope.decrypt_v2(forged, generation=generation, label=b"ns/name", item="k")
        assert_unseal_error(excinfo)


def test_hpke_refuses_to_encrypt_to_a_low_order_x25519_key() -> None:
    """What cryptography's HPKE does with such a recipient key: it refuses (no all-zero secret)."""
    suite = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305)
    for point in low_order_x25519_points():
        with pytest.raises(ValueError):
            suite.encrypt(b"v", x25519.X25519PublicKey.from_public_bytes(point), info=b"")


def test_encrypt_v2_to_v1_only_public_keys_is_a_key_material_error(
    kubeseal_keys: dict[str, keys.LegacyKey],
) -> None:
    with pytest.raises(errors.KeyMaterialError, match="no v2 public keys"):
        envelope.encrypt_v2(b"v", public=kubeseal_keys["pub2048"].public(), label=b"", item="k")


def test_value_over_one_mebibyte_is_refused_with_sizes_only(
    generation: keys.KeyGeneration,
) -> None:
    value = b"A" * (envelope.MAX_VALUE_BYTES + 1)
    with pytest.raises(errors.PolicyError) as excinfo:
        seal(generation, value)
    assert "AAAA" not in str(excinfo.value)
    assert str(envelope.MAX_VALUE_BYTES + 1) in str(excinfo.value)


def test_value_of_exactly_one_mebibyte_round_trips(generation: keys.KeyGeneration) -> None:
    value = bytes(envelope.MAX_VALUE_BYTES)
    blob = seal(generation, value)
    assert envelope.decrypt_v2(blob, generation=generation, label=b"ns/name", item="k") == value


def test_non_bytes_value_is_a_type_error(generation: keys.KeyGeneration) -> None:
    with pytest.raises(TypeError):
        seal(generation, "text")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        envelope.decrypt_v2("U08=", generation=generation, label=b"", item="k")  # type: ignore[arg-type]
