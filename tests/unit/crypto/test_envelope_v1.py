"""v1 envelopes: byte-exact kubeseal compatibility and uniform failure (C2-C7)."""

from __future__ import annotations

import struct

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sealer import errors
from sealer.crypto import envelope, keys, scope
from tests.unit.crypto.conftest import KUBESEAL, WYCHEPROOF, assert_unseal_error, b64, load_json

KEY_NAMES = ("pub2048", "pub4096")


@pytest.mark.parametrize("key_name", KEY_NAMES)
def test_every_kubeseal_vector_opens_to_its_exact_plaintext(
    key_name: str, kubeseal_keys: dict[str, keys.LegacyKey]
) -> None:
    vectors = load_json(KUBESEAL / f"{key_name}.vectors.json")
    assert len(vectors) >= 7
    for vector in vectors:
        label = scope.label(
            scope.Scope(vector["scope"]), namespace=vector["namespace"], name=vector["name"]
        )
        assert label == b64(vector["label_b64"])
        opened = envelope.decrypt_v1(
            b64(vector["ciphertext_b64"]),
            rsa=kubeseal_keys[key_name].rsa,
            label=label,
            item=vector["item"],
        )
        assert opened == b64(vector["plaintext_b64"])


@pytest.mark.parametrize("key_name", KEY_NAMES)
def test_kubeseal_vector_does_not_open_under_another_scope_label(
    key_name: str, kubeseal_keys: dict[str, keys.LegacyKey]
) -> None:
    vector = load_json(KUBESEAL / f"{key_name}.vectors.json")[0]
    with pytest.raises(errors.UnsealError) as excinfo:
        envelope.decrypt_v1(
            b64(vector["ciphertext_b64"]),
            rsa=kubeseal_keys[key_name].rsa,
            label=b64(vector["label_b64"]) + b"x",
            item="k",
        )
    assert_unseal_error(excinfo)


@pytest.mark.parametrize("key_name", KEY_NAMES)
def test_encrypt_v1_writes_kubeseals_layout_and_opens_again(
    key_name: str, kubeseal_keys: dict[str, keys.LegacyKey]
) -> None:
    key = kubeseal_keys[key_name]
    value = b"s3cr3t\x00\xff"
    blob = envelope.encrypt_v1(value, rsa=key.rsa.public_key(), label=b"ns/name")
    size = key.rsa.key_size // 8
    assert struct.unpack(">H", blob[:2]) == (size,)
    assert len(blob) == 2 + size + len(value) + 16
    assert envelope.decrypt_v1(blob, rsa=key.rsa, label=b"ns/name", item="k") == value


def test_encrypt_v1_uses_a_fresh_session_key_every_time(generation: keys.KeyGeneration) -> None:
    pub = generation.rsa.public_key()
    first = envelope.encrypt_v1(b"same", rsa=pub, label=b"")
    second = envelope.encrypt_v1(b"same", rsa=pub, label=b"")
    assert first[-20:] != second[-20:]


@pytest.mark.parametrize("prefix", [0, 1, 255, 257, 512, 0xFFFF])
def test_lying_length_prefix_is_refused_before_any_rsa_work(
    prefix: int, generation: keys.KeyGeneration, monkeypatch: pytest.MonkeyPatch
) -> None:
    blob = envelope.encrypt_v1(b"value", rsa=generation.rsa.public_key(), label=b"a/b")
    lying = struct.pack(">H", prefix) + blob[2:]

    class NoRsa:
        key_size = generation.rsa.key_size

        def decrypt(self, *args: object) -> bytes:
            raise AssertionError("RSA decryption was attempted")

    with pytest.raises(errors.UnsealError) as excinfo:
        envelope.decrypt_v1(lying, rsa=NoRsa(), label=b"a/b", item="k")  # type: ignore[arg-type]
    assert_unseal_error(excinfo)


def test_v1_envelope_for_a_4096_key_is_refused_by_a_2048_key(
    kubeseal_keys: dict[str, keys.LegacyKey],
) -> None:
    blob = envelope.encrypt_v1(b"v", rsa=kubeseal_keys["pub4096"].rsa.public_key(), label=b"")
    with pytest.raises(errors.UnsealError) as excinfo:
        envelope.decrypt_v1(blob, rsa=kubeseal_keys["pub2048"].rsa, label=b"", item="k")
    assert_unseal_error(excinfo)


def test_v1_truncation_at_every_length_gives_the_same_unseal_error(
    generation: keys.KeyGeneration,
) -> None:
    blob = envelope.encrypt_v1(b"12345678", rsa=generation.rsa.public_key(), label=b"a/b")
    for length in range(len(blob)):
        with pytest.raises(errors.UnsealError) as excinfo:
            envelope.decrypt_v1(blob[:length], rsa=generation.rsa, label=b"a/b", item="k")
        assert_unseal_error(excinfo)


def test_v1_single_bit_flip_anywhere_gives_the_same_unseal_error(
    generation: keys.KeyGeneration,
) -> None:
    blob = envelope.encrypt_v1(b"12345678", rsa=generation.rsa.public_key(), label=b"a/b")
    for position in range(len(blob)):
        flipped = bytearray(blob)
        flipped[position] ^= 1 << (position % 8)
        with pytest.raises(errors.UnsealError) as excinfo:
            envelope.decrypt_v1(bytes(flipped), rsa=generation.rsa, label=b"a/b", item="k")
        assert_unseal_error(excinfo)


def test_v1_appended_bytes_give_the_same_unseal_error(generation: keys.KeyGeneration) -> None:
    blob = envelope.encrypt_v1(b"v", rsa=generation.rsa.public_key(), label=b"")
    with pytest.raises(errors.UnsealError) as excinfo:
        envelope.decrypt_v1(blob + b"\x00", rsa=generation.rsa, label=b"", item="k")
    assert_unseal_error(excinfo)


def test_pkcs1v15_wrapped_session_key_is_never_accepted(generation: keys.KeyGeneration) -> None:
    """C6: no fallback to PKCS#1 v1.5, whatever the rest of the envelope says."""
    good = envelope.encrypt_v1(b"value", rsa=generation.rsa.public_key(), label=b"")
    # Wrap a known session key with PKCS#1 v1.5 and AES-GCM-seal the value under it.
    session_key = bytes(range(32))
    wrapped = generation.rsa.public_key().encrypt(session_key, padding.PKCS1v15())
    sealed = AESGCM(session_key).encrypt(bytes(12), b"value", None)
    forged = good[:2] + wrapped + sealed
    with pytest.raises(errors.UnsealError) as excinfo:
        envelope.decrypt_v1(forged, rsa=generation.rsa, label=b"", item="k")
    assert_unseal_error(excinfo)


# --- Wycheproof RSA-OAEP (C7) and AES-GCM (C4, C5) ----------------------------------------------


def oaep_cases(bits: int) -> list[tuple[rsa.RSAPrivateKey, dict[str, object]]]:
    data = load_json(WYCHEPROOF / f"rsa_oaep_{bits}_sha256_mgf1sha256_test.json")
    cases = []
    for group in data["testGroups"]:
        key = serialization.load_pem_private_key(group["privateKeyPem"].encode(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        cases += [(key, test) for test in group["tests"]]
    return cases


@pytest.mark.parametrize("bits", [2048, 4096])
def test_wycheproof_valid_oaep_cases_decrypt_with_our_padding(bits: int) -> None:
    valid = [(k, t) for k, t in oaep_cases(bits) if t["result"] == "valid"]
    assert len(valid) >= 18
    for key, test in valid:
        label = bytes.fromhex(str(test["label"]))
        plaintext = key.decrypt(bytes.fromhex(str(test["ct"])), envelope._oaep(label))
        assert plaintext == bytes.fromhex(str(test["msg"])), test["tcId"]


@pytest.mark.parametrize("bits", [2048, 4096])
def test_wycheproof_invalid_oaep_cases_all_give_the_identical_unseal_error(bits: int) -> None:
    invalid = [(k, t) for k, t in oaep_cases(bits) if t["result"] == "invalid"]
    assert len(invalid) >= 19
    seen = set()
    for key, test in invalid:
        ct = bytes.fromhex(str(test["ct"]))
        for prefix in {len(ct), key.key_size // 8}:
            blob = struct.pack(">H", prefix) + ct + bytes(32)
            with pytest.raises(errors.UnsealError) as excinfo:
                envelope.decrypt_v1(
                    blob, rsa=key, label=bytes.fromhex(str(test["label"])), item="k"
                )
            assert_unseal_error(excinfo)
            seen.add((type(excinfo.value), str(excinfo.value), repr(excinfo.value)))
    assert len(seen) == 1


def gcm_cases() -> list[dict[str, str]]:
    data = load_json(WYCHEPROOF / "aes_gcm_test.json")
    return [
        test
        for group in data["testGroups"]
        if (group["keySize"], group["ivSize"], group["tagSize"]) == (256, 96, 128)
        for test in group["tests"]
    ]


def test_wycheproof_aes_gcm_valid_cases_open_with_our_gcm_layer() -> None:
    valid = [t for t in gcm_cases() if t["result"] == "valid"]
    assert len(valid) >= 30
    for test in valid:
        sealed = bytes.fromhex(test["ct"]) + bytes.fromhex(test["tag"])
        opened = envelope._gcm_open(
            bytes.fromhex(test["key"]),
            sealed,
            nonce=bytes.fromhex(test["iv"]),
            aad=bytes.fromhex(test["aad"]),
        )
        assert opened == bytes.fromhex(test["msg"]), test["tcId"]


def test_wycheproof_aes_gcm_invalid_cases_are_refused_by_our_gcm_layer() -> None:
    invalid = [t for t in gcm_cases() if t["result"] == "invalid"]
    assert len(invalid) >= 20
    for test in invalid:
        sealed = bytes.fromhex(test["ct"]) + bytes.fromhex(test["tag"])
        with pytest.raises(InvalidTag):
            envelope._gcm_open(
                bytes.fromhex(test["key"]),
                sealed,
                nonce=bytes.fromhex(test["iv"]),
                aad=bytes.fromhex(test["aad"]),
            )


def test_wycheproof_aes_gcm_tag_modifications_give_unseal_error_through_the_v1_path(
    generation: keys.KeyGeneration,
) -> None:
    """Each ModifiedTag case's change (XOR against the true tag) applied to a real v1 envelope.

    v1 always uses the zero nonce, so the vectors' IVs cannot be used as they are; the key and
    message are the vector's, the session key is RSA-wrapped as kubeseal does.
    """
    invalid = [t for t in gcm_cases() if t["result"] == "invalid"]
    for test in invalid:
        key, iv, msg = (bytes.fromhex(test[f]) for f in ("key", "iv", "msg"))
        true_tag = AESGCM(key).encrypt(iv, msg, bytes.fromhex(test["aad"]) or None)[-16:]
        delta = bytes(a ^ b for a, b in zip(true_tag, bytes.fromhex(test["tag"]), strict=True))
        assert any(delta), test["tcId"]
        sealed = AESGCM(key).encrypt(envelope.ZERO_NONCE, msg, None)
        tag = bytes(a ^ b for a, b in zip(sealed[-16:], delta, strict=True))
        wrapped = generation.rsa.public_key().encrypt(key, envelope._oaep(b""))
        blob = struct.pack(">H", len(wrapped)) + wrapped + sealed[:-16] + tag
        with pytest.raises(errors.UnsealError) as excinfo:
            envelope.decrypt_v1(blob, rsa=generation.rsa, label=b"", item="k")
        assert_unseal_error(excinfo)


def test_truncated_gcm_tags_are_refused(generation: keys.KeyGeneration) -> None:
    """C5: cutting 1..15 tag bytes never yields plaintext."""
    blob = envelope.encrypt_v1(b"", rsa=generation.rsa.public_key(), label=b"")
    for cut in range(1, 16):
        with pytest.raises(errors.UnsealError) as excinfo:
            envelope.decrypt_v1(blob[:-cut], rsa=generation.rsa, label=b"", item="k")
        assert_unseal_error(excinfo)
