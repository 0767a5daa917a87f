"""Vault data -> Secret data: values, keys, duplicates, size caps, and the data hash."""

from __future__ import annotations

import traceback
from typing import Any

import pytest

from controller.vault import mapping
from sealer import errors


def _build(spec: dict[str, Any], secrets: dict[str, dict[str, object]]) -> dict[str, bytes]:
    plan = mapping.parse_spec(spec)
    return mapping.build_data(plan, {(p, v): mapping.ReadResult(path=p, data=secrets[p],
                                                                version=v)
                                     for p, v in plan.reads()})


def _error(spec: dict[str, Any], secrets: dict[str, dict[str, object]]) -> errors.VaultError:
    with pytest.raises(errors.VaultError) as info:
        _build(spec, secrets)
    return info.value


def _prop(key: str, path: str, prop: str | None = None) -> dict[str, Any]:
    ref: dict[str, Any] = {"path": path}
    if prop is not None:
        ref["property"] = prop
    return {"secretKey": key, "remoteRef": ref}


def test_property_value_becomes_utf8_bytes() -> None:
    data = _build({"data": [_prop("pw", "shop/db", "password")]},
                  {"shop/db": {"password": "pässword", "user": "u"}})
    assert data == {"pw": "pässword".encode()}


def test_whole_secret_without_property_is_canonical_json() -> None:
    data = _build({"data": [_prop("cfg", "shop/db")]}, {"shop/db": {"b": "2", "a": "1"}})
    assert data == {"cfg": b'{"a":"1","b":"2"}'}


def test_data_from_copies_every_key() -> None:
    data = _build({"dataFrom": [{"path": "shop/db"}]}, {"shop/db": {"user": "u", "pw": "p"}})
    assert data == {"user": b"u", "pw": b"p"}


def test_path_used_by_several_entries_is_read_once_per_version() -> None:
    plan = mapping.parse_spec({"data": [_prop("a", "p", "x"), _prop("b", "p", "y")],
                               "dataFrom": [{"path": "p"}, {"path": "p", "version": 3}]})
    assert plan.reads() == (("p", None), ("p", 3))


@pytest.mark.parametrize("value", [5, True, None, 1.5, {"nested": "x"}, ["x"]])
def test_non_string_value_is_refused_naming_path_and_key(value: object) -> None:
    err = _error({"data": [_prop("pw", "shop/db", "password")]},
                 {"shop/db": {"password": value}})
    assert err.reason == "InvalidValue"
    assert "shop/db" in str(err) and "password" in str(err)


def test_non_string_value_in_whole_secret_read_is_refused() -> None:
    err = _error({"data": [_prop("cfg", "shop/db")]}, {"shop/db": {"a": "1", "port": 5432}})
    assert err.reason == "InvalidValue"
    assert "port" in str(err) and "5432" not in str(err)


def test_lone_surrogate_value_is_refused_without_echoing_it() -> None:
    err = _error({"dataFrom": [{"path": "p"}]}, {"p": {"k": "abc\ud800"}})
    assert err.reason == "InvalidValue"
    assert "abc" not in str(err)


def test_build_errors_carry_no_frame_that_holds_vault_values() -> None:
    err = _error({"dataFrom": [{"path": "p"}]}, {"p": {"a": "canary-in-a-local", "b": 7}})
    captured = traceback.TracebackException.from_exception(err, capture_locals=True)
    engine_frames = [f for f in captured.stack if "controller" in f.filename]
    assert [f.name for f in engine_frames] == ["build_data"]
    assert "canary-in-a-local" not in str(engine_frames[0].locals)
    assert err.__context__ is None and err.__cause__ is None


def test_missing_property_is_an_error_not_an_empty_value() -> None:
    err = _error({"data": [_prop("pw", "shop/db", "password")]}, {"shop/db": {"user": "u"}})
    assert err.reason == "PropertyNotFound"


@pytest.mark.parametrize("key", ["../x", "a/b", "", ".", "..", "a" * 254, "sp ace", "é",
                                 "new\nline"])
def test_invalid_secret_key_from_vault_is_refused_naming_the_key(key: str) -> None:
    err = _error({"dataFrom": [{"path": "p"}]}, {"p": {key: "canary-value"}})
    assert err.reason == "InvalidKey"
    assert "canary-value" not in str(err)


@pytest.mark.parametrize("key", ["a/b", "..", ""])
def test_invalid_secret_key_in_spec_is_refused(key: str) -> None:
    with pytest.raises(errors.VaultError) as info:
        mapping.parse_spec({"data": [_prop(key, "p", "x")]})
    assert info.value.reason == "InvalidKey"


def test_longest_valid_secret_key_is_accepted() -> None:
    key = "k" * 253
    assert _build({"dataFrom": [{"path": "p"}]}, {"p": {key: "v"}}) == {key: b"v"}


def test_duplicate_target_key_between_data_and_data_from_is_refused() -> None:
    err = _error({"data": [_prop("user", "a", "x")], "dataFrom": [{"path": "b"}]},
                 {"a": {"x": "1"}, "b": {"user": "2"}})
    assert err.reason == "DuplicateKey"
    assert "user" in str(err)


def test_duplicate_target_key_between_two_data_from_paths_is_refused() -> None:
    err = _error({"dataFrom": [{"path": "a"}, {"path": "b"}]}, {"a": {"k": "1"}, "b": {"k": "2"}})
    assert err.reason == "DuplicateKey"


def test_secret_data_over_the_size_cap_is_refused_with_sizes_only() -> None:
    big = "s" * (mapping.MAX_SECRET_BYTES // 2)
    err = _error({"dataFrom": [{"path": "p"}]}, {"p": {"a": big, "b": big}})
    assert err.reason == "TooLarge"
    assert "sss" not in str(err)


@pytest.mark.parametrize("spec", [
    {},
    {"data": []},
    {"data": "x"},
    {"data": [{"secretKey": "k"}]},
    {"data": [{"secretKey": "k", "remoteRef": {}}]},
    {"data": [{"secretKey": "k", "remoteRef": {"path": 3}}]},
    {"data": [{"secretKey": "k", "remoteRef": {"path": "p", "property": ""}}]},
    {"data": [{"secretKey": "k", "remoteRef": {"path": "p", "version": 0}}]},
    {"data": [{"secretKey": "k", "remoteRef": {"path": "p", "version": True}}]},
    {"data": [{"secretKey": "k", "remoteRef": {"path": "p", "version": "2"}}]},
    {"dataFrom": [{}]},
    {"dataFrom": ["p"]},
])
def test_malformed_spec_is_refused_as_invalid_spec(spec: dict[str, Any]) -> None:
    with pytest.raises(errors.VaultError) as info:
        mapping.parse_spec(spec)
    assert info.value.reason == "InvalidSpec"
    assert info.value.retryable is False


def test_read_result_repr_shows_no_values() -> None:
    result = mapping.ReadResult(path="p", data={"k": "canary-123"}, version=2)
    assert "canary-123" not in repr(result)


KEY = b"k" * 32


def test_data_hash_is_stable_and_order_independent() -> None:
    a = mapping.data_hash({"x": b"1", "y": b"2"}, key=KEY)
    b = mapping.data_hash({"y": b"2", "x": b"1"}, key=KEY)
    assert a == b and len(a) == 64


def test_data_hash_changes_with_any_value_key_or_hash_key() -> None:
    base = mapping.data_hash({"x": b"1"}, key=KEY)
    assert mapping.data_hash({"x": b"2"}, key=KEY) != base
    assert mapping.data_hash({"y": b"1"}, key=KEY) != base
    assert mapping.data_hash({"x": b"1"}, key=b"j" * 32) != base


def test_data_hash_encoding_is_unambiguous_across_key_value_boundaries() -> None:
    assert mapping.data_hash({"ab": b"c"}, key=KEY) != mapping.data_hash({"a": b"bc"}, key=KEY)
    assert mapping.data_hash({"a": b"", "b": b""}, key=KEY) != mapping.data_hash(
        {"a": b"\x00\x00\x00\x01b"}, key=KEY)


def test_data_hash_matches_the_documented_construction() -> None:
    import hashlib

    data = {"b": b"\x00\xff", "a": b"v"}
    expected = hashlib.blake2b(mapping.canonical_encoding(data), digest_size=32, key=KEY,
                               person=b"sealops.vault.v1").hexdigest()
    assert mapping.data_hash(data, key=KEY) == expected
    assert mapping.canonical_encoding(data).startswith(b"sealops/vault-data/v1\n")


@pytest.mark.parametrize("key", [b"", b"short", b"x" * 65])
def test_data_hash_refuses_a_weak_or_oversized_key(key: bytes) -> None:
    with pytest.raises(ValueError):
        mapping.data_hash({"x": b"1"}, key=key)
