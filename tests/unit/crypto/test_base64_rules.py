"""Base64 text of envelopes: canonical only for sealops.dev, Go's StdEncoding for bitnami.com.

The Go vectors (tests/vectors/go-base64) were produced by Go's own
`base64.StdEncoding.DecodeString`, the decoder Bitnami's controller applies to every value.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from sealer import errors
from sealer.crypto import keyring, keys
from sealer.manifests import seal
from tests.unit.crypto.conftest import VECTORS, load_json

GO_VECTORS: list[dict[str, Any]] = load_json(VECTORS / "go-base64" / "stdencoding.json")
GO = keyring.Base64Rules.GO_STD
CANONICAL = keyring.Base64Rules.CANONICAL


@pytest.mark.parametrize(
    "vector", GO_VECTORS, ids=[f"{i}-{v['comment']}" for i, v in enumerate(GO_VECTORS)]
)
def test_go_std_rules_accept_exactly_what_go_accepts(vector: dict[str, Any]) -> None:
    if vector["valid"]:
        got = keyring.decode_base64(vector["input"], item="k", rules=GO)
        assert got.hex() == vector["hex"]
    else:
        with pytest.raises(errors.InvalidBase64Error):
            keyring.decode_base64(vector["input"], item="k", rules=GO)


@pytest.mark.parametrize(
    "vector", GO_VECTORS, ids=[f"{i}-{v['comment']}" for i, v in enumerate(GO_VECTORS)]
)
def test_canonical_rules_accept_only_the_one_text_of_each_byte_string(
    vector: dict[str, Any]
) -> None:
    text = vector["input"]
    canonical = vector["valid"] and base64.b64encode(bytes.fromhex(vector["hex"])).decode() == text
    if canonical:
        assert keyring.decode_base64(text, item="k", rules=CANONICAL).hex() == vector["hex"]
    else:
        with pytest.raises(errors.InvalidBase64Error):
            keyring.decode_base64(text, item="k", rules=CANONICAL)


def test_the_vectors_cover_each_class_go_accepts_and_refuses() -> None:
    comments = {v["comment"]: v["valid"] for v in GO_VECTORS}
    assert comments["wrapped at 76 with LF"] and comments["wrapped at 64 with CRLF"]
    assert comments["non-zero padding bits, one pad"] and comments["newline between the pads"]
    assert not comments["space"] and not comments["missing padding (2)"]
    assert not comments["tab"] and not comments["data after the padding"]
    mutations = [v for v in GO_VECTORS if v["comment"] == "mutation"]
    assert 40 < sum(v["valid"] for v in mutations) < len(mutations) - 40


def test_a_wrapped_kubeseal_value_opens_only_under_go_rules(
    kubeseal_keys: dict[str, keys.LegacyKey]
) -> None:
    vector = load_json(VECTORS / "kubeseal" / "pub2048.vectors.json")[0]
    text = vector["ciphertext_b64"]
    wrapped = "\n".join(text[i : i + 76] for i in range(0, len(text), 76)) + "\n"
    ring = keyring.Keyring([kubeseal_keys["pub2048"]])
    label = base64.b64decode(vector["label_b64"])
    plaintext, _ = ring.decrypt(wrapped, label=label, item=vector["item"], rules=GO)
    assert plaintext == base64.b64decode(vector["plaintext_b64"])
    with pytest.raises(errors.InvalidBase64Error):
        ring.decrypt(wrapped, label=label, item=vector["item"])


def test_non_zero_trailing_bits_open_under_go_rules(generation: keys.KeyGeneration) -> None:
    ring = keyring.Keyring([generation])
    text = ring.encrypt(b"abcd", label=b"ns/n", item="k", version=1)  # 278 bytes: one "="
    assert text.endswith("=") and text[-2] != "="
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    twin = text[:-2] + alphabet[alphabet.index(text[-2]) ^ 1] + "="
    assert ring.decrypt(twin, label=b"ns/n", item="k", rules=GO)[0] == b"abcd"
    with pytest.raises(errors.InvalidBase64Error):
        ring.decrypt(twin, label=b"ns/n", item="k")


def test_the_size_cap_applies_before_any_decoding_under_both_rules() -> None:
    for rules in keyring.Base64Rules:
        with pytest.raises(errors.UnsealError) as excinfo:
            keyring.decode_base64("\n" * (keyring.MAX_B64_CHARS + 1), item="k", rules=rules)
        assert type(excinfo.value) is errors.UnsealError


def test_rules_follow_the_api_group_of_the_object() -> None:
    assert seal.base64_rules({"apiVersion": "bitnami.com/v1alpha1"}) is GO
    assert seal.base64_rules({"apiVersion": "sealops.dev/v1alpha1"}) is CANONICAL
    assert seal.base64_rules({"apiVersion": "bitnami.com.evil/v1alpha1"}) is CANONICAL
    assert seal.base64_rules({}) is CANONICAL


def test_invalid_base64_names_the_item_never_the_value() -> None:
    value = "c2VjcmV0LXZhbHVl!"
    with pytest.raises(errors.InvalidBase64Error) as excinfo:
        keyring.decode_base64(value, item="db-pass", rules=GO)
    assert "db-pass" in str(excinfo.value)
    assert value not in str(excinfo.value) and "c2VjcmV0" not in repr(excinfo.value)
