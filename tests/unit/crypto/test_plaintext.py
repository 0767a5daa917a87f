"""SecretBytes never prints its content."""

from __future__ import annotations

import copy
import pickle

import pytest

from sealer.crypto import plaintext

CANARY = b"canary-7f3a9c-secret"


def test_repr_str_and_format_are_redacted() -> None:
    secret = plaintext.SecretBytes(CANARY)
    expected = f"<redacted {len(CANARY)} bytes>"
    assert repr(secret) == expected
    assert str(secret) == expected
    assert f"{secret}" == expected
    assert "%s" % secret == expected  # noqa: UP031
    assert repr([secret]) == f"[{expected}]"
    assert "canary" not in repr({"k": secret})


def test_reveal_and_len_give_the_bytes() -> None:
    secret = plaintext.SecretBytes(bytearray(CANARY))
    assert secret.reveal() == CANARY
    assert isinstance(secret.reveal(), bytes)
    assert len(secret) == len(CANARY)


def test_bytes_conversion_is_refused() -> None:
    with pytest.raises(TypeError):
        bytes(plaintext.SecretBytes(CANARY))  # type: ignore[call-overload]


def test_equality_compares_content_and_hashing_is_refused() -> None:
    secret = plaintext.SecretBytes(CANARY)
    assert secret == plaintext.SecretBytes(CANARY)
    assert secret == CANARY
    assert secret != plaintext.SecretBytes(b"other")
    assert secret != "canary"
    with pytest.raises(TypeError):
        hash(secret)


def test_pickling_is_refused_and_copies_stay_redacted() -> None:
    secret = plaintext.SecretBytes(CANARY)
    with pytest.raises(TypeError):
        pickle.dumps(secret)
    assert repr(copy.copy(secret)) == repr(secret)


def test_only_bytes_are_wrapped() -> None:
    with pytest.raises(TypeError):
        plaintext.SecretBytes("text")  # type: ignore[arg-type]


def test_there_is_no_attribute_dict_to_dump() -> None:
    assert not hasattr(plaintext.SecretBytes(CANARY), "__dict__")
