"""The keyring: key choice, base64 text (C1, C9), unknown keys (C8), `seal_value`."""

from __future__ import annotations

import base64

import pytest

from sealer import errors
from sealer.crypto import envelope, keyring, keys
from tests.unit.crypto.conftest import KUBESEAL, assert_unseal_error, b64, load_json


@pytest.fixture(scope="module")
def ring(
    generation: keys.KeyGeneration,
    other_generation: keys.KeyGeneration,
    kubeseal_keys: dict[str, keys.LegacyKey],
) -> keyring.Keyring:
    return keyring.Keyring([generation, kubeseal_keys["pub2048"], other_generation])


def test_keys_are_ordered_newest_first_with_unknown_age_last(
    generation: keys.KeyGeneration, other_generation: keys.KeyGeneration
) -> None:
    (tls_key,) = keys.parse_private_pem((KUBESEAL / "pub2048.key").read_bytes())
    ring = keyring.Keyring([tls_key, generation, other_generation])
    assert ring.key_ids == (other_generation.key_id, generation.key_id, tls_key.key_id)
    assert ring.newest is other_generation
    assert ring.public() == other_generation.public()


def test_duplicate_keys_are_kept_once(generation: keys.KeyGeneration) -> None:
    assert len(keyring.Keyring([generation, generation])) == 1


def test_empty_keyring_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        keyring.Keyring([])


def test_keyring_repr_lists_key_ids_only(ring: keyring.Keyring) -> None:
    assert repr(ring).startswith("Keyring(key_ids=[")
    assert "PRIVATE" not in repr(ring)


@pytest.mark.parametrize("suite", list(envelope.Suite))
def test_newest_encrypts_and_the_opening_key_id_is_reported(
    suite: envelope.Suite, ring: keyring.Keyring, other_generation: keys.KeyGeneration
) -> None:
    text = ring.encrypt(b"value", label=b"ns/n", item="k", suite=suite)
    assert base64.b64decode(text)[4:12] == other_generation.key_id
    assert ring.decrypt(text, label=b"ns/n", item="k") == (b"value", other_generation.key_id)


def test_older_v2_generation_still_decrypts(
    ring: keyring.Keyring, generation: keys.KeyGeneration
) -> None:
    text = keyring.seal_value(b"old", public=generation.public(), label=b"", item="k")
    assert ring.decrypt(text, label=b"", item="k") == (b"old", generation.key_id)


def test_v2_envelope_for_an_unknown_key_names_the_key_id(
    kubeseal_keys: dict[str, keys.LegacyKey], generation: keys.KeyGeneration
) -> None:
    text = keyring.seal_value(b"v", public=generation.public(), label=b"", item="db-pass")
    only_legacy = keyring.Keyring([kubeseal_keys["pub4096"]])
    with pytest.raises(errors.UnknownKeyError) as excinfo:
        only_legacy.decrypt(text, label=b"", item="db-pass")
    assert excinfo.value.key_id == generation.key_id_hex
    assert generation.key_id_hex in str(excinfo.value)
    assert "re-seal" in str(excinfo.value)
    assert excinfo.value.__cause__ is None and excinfo.value.__context__ is None


def test_kubeseal_vectors_open_through_the_keyring_with_the_right_key(
    ring: keyring.Keyring, kubeseal_keys: dict[str, keys.LegacyKey]
) -> None:
    for vector in load_json(KUBESEAL / "pub2048.vectors.json"):
        plaintext, key_id = ring.decrypt(
            vector["ciphertext_b64"], label=b64(vector["label_b64"]), item=vector["item"]
        )
        assert plaintext == b64(vector["plaintext_b64"])
        assert key_id == kubeseal_keys["pub2048"].key_id


def test_v1_from_an_older_generation_opens_whatever_the_hint(
    ring: keyring.Keyring, generation: keys.KeyGeneration, other_generation: keys.KeyGeneration
) -> None:
    text = ring.encrypt(b"v1 value", label=b"ns/n", item="k", version=1)
    for hint in (None, generation.key_id, other_generation.key_id, b"unknown!"):
        assert ring.decrypt(text, label=b"ns/n", item="k", hint=hint) == (
            b"v1 value",
            other_generation.key_id,
        )
    older = keyring.seal_value(b"x", public=generation.public(), label=b"", item="k", version=1)
    assert ring.decrypt(older, label=b"", item="k", hint=generation.key_id)[1] == generation.key_id


def test_v1_value_under_a_key_not_in_the_keyring_gives_unseal_error(
    ring: keyring.Keyring, kubeseal_keys: dict[str, keys.LegacyKey]
) -> None:
    text = keyring.seal_value(b"v", public=kubeseal_keys["pub4096"].public(), label=b"", item="k")
    with pytest.raises(errors.UnsealError) as excinfo:
        ring.decrypt(text, label=b"", item="k")
    assert_unseal_error(excinfo)


def test_seal_value_picks_v2_for_v2_keys_and_v1_for_a_kubeseal_certificate(
    generation: keys.KeyGeneration,
) -> None:
    v2 = base64.b64decode(keyring.seal_value(b"v", public=generation.public(), label=b"", item="k"))
    assert envelope.envelope_key_id(v2) == generation.key_id
    kubeseal = keys.parse_public_pem((KUBESEAL / "pub4096.crt").read_bytes())
    v1 = base64.b64decode(keyring.seal_value(b"v", public=kubeseal, label=b"", item="k"))
    assert v1[:2] == b"\x02\x00"


def test_seal_value_refuses_unknown_versions_and_v2_without_v2_keys(
    kubeseal_keys: dict[str, keys.LegacyKey], generation: keys.KeyGeneration
) -> None:
    with pytest.raises(ValueError, match="version"):
        keyring.seal_value(b"v", public=generation.public(), label=b"", item="k", version=3)
    with pytest.raises(errors.KeyMaterialError):
        keyring.Keyring([kubeseal_keys["pub2048"]]).encrypt(b"v", label=b"", item="k")


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-4] + "!!!!",  # non-alphabet
        lambda t: t.rstrip("="),  # missing padding
        lambda t: t[:20] + "\n" + t[20:],  # embedded newline
        lambda t: t.replace("+", "-").replace("/", "_"),  # url-safe alphabet
        lambda t: " " + t,  # leading space
        lambda t: t + " ",  # trailing space
        lambda t: t[:-1] + "\u00e9",  # non-ASCII
        lambda t: t + "=",  # excess padding
        lambda t: t + "YWJj",  # data after the padding
    ],
    ids=[
        "non-alphabet",
        "missing-padding",
        "newline",
        "url-safe",
        "leading-space",
        "trailing-space",
        "non-ascii",
        "excess-padding",
        "after-padding",
    ],
)
@pytest.mark.parametrize("version", [1, 2])
def test_malformed_base64_is_named_invalid_base64_not_a_key_problem(
    mangle: object, version: int, ring: keyring.Keyring
) -> None:
    # Value sizes that make the text end in "==" (v1: 2+256+3+16, v2: 12+1120+2+16 bytes);
    # encrypt until the text also holds "+" and "/".
    value = {1: b"abc", 2: b"ab"}[version]
    text = ""
    while not ("+" in text and "/" in text):
        text = ring.encrypt(value, label=b"", item="k", version=version)
    assert text.endswith("==")
    with pytest.raises(errors.InvalidBase64Error) as excinfo:
        ring.decrypt(mangle(text), label=b"", item="k")  # type: ignore[operator]
    assert str(excinfo.value) == "cannot unseal item 'k': the value is not valid base64"
    assert excinfo.value.reason == "InvalidBase64"
    assert isinstance(excinfo.value, errors.UnsealError)
    assert excinfo.value.__cause__ is None and excinfo.value.__suppress_context__


def test_an_empty_value_is_base64_but_no_envelope(ring: keyring.Keyring) -> None:
    with pytest.raises(errors.UnsealError) as excinfo:
        ring.decrypt("", label=b"", item="k")
    assert_unseal_error(excinfo)


def test_non_canonical_base64_is_refused(ring: keyring.Keyring) -> None:
    text = ring.encrypt(b"ab", label=b"", item="k")
    assert text.endswith("==")
    last = text[-3]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    twin = text[:-3] + alphabet[alphabet.index(last) ^ 1] + "=="  # same bytes, non-zero pad bits
    assert base64.b64decode(twin) == base64.b64decode(text)
    with pytest.raises(errors.InvalidBase64Error):
        ring.decrypt(twin, label=b"", item="k")


def test_oversized_base64_is_refused_before_decoding(ring: keyring.Keyring) -> None:
    with pytest.raises(errors.UnsealError) as excinfo:
        ring.decrypt("A" * (keyring.MAX_B64_CHARS + 4), label=b"", item="k")
    assert_unseal_error(excinfo)


def test_largest_value_fits_the_base64_cap(ring: keyring.Keyring) -> None:
    text = ring.encrypt(bytes(envelope.MAX_VALUE_BYTES), label=b"", item="k")
    assert len(text) <= keyring.MAX_B64_CHARS
    assert ring.decrypt(text, label=b"", item="k")[0] == bytes(envelope.MAX_VALUE_BYTES)


def test_truncated_v2_header_gives_unseal_error_not_unknown_key(ring: keyring.Keyring) -> None:
    for blob in (b"SO", b"SO\x02\x02\x01\x02", b"SO\x03\x02" + bytes(200)):
        with pytest.raises(errors.UnsealError) as excinfo:
            ring.decrypt(base64.b64encode(blob).decode(), label=b"", item="k")
        assert_unseal_error(excinfo)


def test_a_legacy_key_newer_than_every_generation_never_becomes_the_sealing_key(
    generation: keys.KeyGeneration, other_generation: keys.KeyGeneration
) -> None:
    # A kubeseal key whose certificate is a day newer than the only native generation.
    legacy = keys.LegacyKey(
        key_id=keys.derive_key_id(other_generation.rsa.public_key()),
        rsa=other_generation.rsa,
        certificate=other_generation.certificate,
    )
    assert legacy.created_at is not None and legacy.created_at > generation.created_at
    for order in ([generation, legacy], [legacy, generation]):
        ring = keyring.Keyring(order)
        assert ring.key_ids == (legacy.key_id, generation.key_id)  # age order for trying v1
        assert ring.newest is generation
        assert ring.public() == generation.public()
        text = ring.encrypt(b"v", label=b"", item="k")
        assert ring.decrypt(text, label=b"", item="k") == (b"v", generation.key_id)
        v1 = keyring.seal_value(b"old", public=legacy.public(), label=b"", item="k")
        assert ring.decrypt(v1, label=b"", item="k")[0] == b"old"


def test_a_keyring_of_legacy_keys_only_encrypts_with_the_newest_of_them(
    kubeseal_keys: dict[str, keys.LegacyKey]
) -> None:
    ring = keyring.Keyring([kubeseal_keys["pub2048"], kubeseal_keys["pub4096"]])
    assert ring.newest in (kubeseal_keys["pub2048"], kubeseal_keys["pub4096"])
    assert ring.newest is ring.__iter__().__next__()
