"""safeyaml: the hostile YAML inputs Y19-Y24, JSON input, caps, positions and the writer."""

from __future__ import annotations

import datetime

import pytest
import yaml

from sealer import errors
from sealer.manifests import safeyaml

ALIAS_BOMB = b"""\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def load(data: bytes, **kwargs: int) -> list[dict[str, object]]:
    return safeyaml.load_documents(data, source="in.yaml", **kwargs)


def refused(data: bytes, **kwargs: int) -> safeyaml.ParseError:
    with pytest.raises(safeyaml.ParseError) as info:
        load(data, **kwargs)
    assert isinstance(info.value, errors.ManifestError)
    return info.value


# --- Y19 alias bombs ------------------------------------------------------------------------------


def test_alias_bomb_is_refused_before_any_expansion() -> None:
    error = refused(ALIAS_BOMB)
    assert "anchors are not allowed" in str(error)
    assert error.line == 1


def test_a_lone_alias_is_refused() -> None:
    assert "aliases are not allowed" in str(refused(b"a: *x\n"))


def test_an_anchor_without_alias_is_refused_too() -> None:
    assert "anchors are not allowed" in str(refused(b"a: &x 1\n"))


def kubectl(data: bytes) -> list[dict[str, object]]:
    return [d.value for d in safeyaml.load_located(data, source="in.yaml",
                                                   dialect=safeyaml.KUBECTL)]


def kubectl_refused(data: bytes) -> safeyaml.ParseError:
    with pytest.raises(safeyaml.ParseError) as info:
        kubectl(data)
    return info.value


def test_the_kubectl_dialect_refuses_an_alias_bomb_from_its_counts() -> None:
    error = kubectl_refused(ALIAS_BOMB)
    assert "once aliases are expanded" in str(error)


def test_the_kubectl_dialect_refuses_aliases_that_nest_too_deeply() -> None:
    deep = b"a: &a " + b"[" * 60 + b"]" * 60 + b"\nb: " + b"[" * 60 + b"*a" + b"]" * 60 + b"\n"
    assert "nesting deeper than 100" in str(kubectl_refused(deep))


@pytest.mark.parametrize("text", [b"a: &x [*x]\n", b"a: &x {b: *x}\n", b"a: &x {<<: *x}\n"])
def test_the_kubectl_dialect_refuses_recursive_aliases(text: bytes) -> None:
    assert "recursive alias" in str(kubectl_refused(text))


def test_the_kubectl_dialect_resolves_aliases_and_merge_keys_with_yaml_precedence() -> None:
    text = (
        b"a: &x {b: 1, c: 1}\nd: {<<: *x, b: 2}\n"
        b"e: {<<: [{f: 1}, {f: 2, g: 3}]}\nh: *x\n"
    )
    assert kubectl(text) == [
        {"a": {"b": 1, "c": 1}, "d": {"b": 2, "c": 1}, "e": {"f": 1, "g": 3}, "h": {"b": 1, "c": 1}}
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (b"a: {b: 1, b: 2, <<: {c: 1}}\n", "duplicate key 'b'"),
        (b"a: {<<: [1]}\n", "needs a mapping"),
        (b"a: &x 1\nb: &x 2\n", "duplicate anchor"),
        (b"a: *nope\n", "undefined anchor"),
        (b"a: !!python/name:os.system\n", "is not allowed"),
    ],
)
def test_the_kubectl_dialect_keeps_the_other_refusals(text: bytes, problem: str) -> None:
    assert problem in str(kubectl_refused(text))


def test_the_default_dialect_still_refuses_anchors_boms_and_non_mappings() -> None:
    assert "anchors are not allowed" in str(refused(b"a: &x 1\nb: *x\n"))
    assert "byte-order mark" in str(refused("a: 1\n".encode("utf-16")))
    assert "must be a mapping" in str(refused(b"- 1\n"))
    assert kubectl("a: 1\n".encode("utf-16")) == [{"a": 1}]
    assert kubectl(b"- 1\n---\na: 1\n") == [{"a": 1}]


def test_a_nul_after_a_byte_order_mark_is_refused_with_its_position() -> None:
    error = kubectl_refused("a: 1\nb: x\x00\n".encode("utf-16"))
    assert "NUL character" in str(error) and (error.line, error.column) == (2, 5)


def test_invalid_utf16_after_its_mark_is_refused() -> None:
    assert "invalid UTF-16-LE" in str(kubectl_refused(b"\xff\xfe\x00\xd8a\x00"))


# --- Y20 duplicate keys ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "line"),
    [
        (b"kind: Secret\nmetadata: {name: a}\nmetadata: {name: b}\n", "metadata", 3),
        (b"metadata:\n  name: a\n  namespace: x\n  namespace: y\n", "namespace", 4),
        (b"data:\n  password: YQ==\n  password: Yg==\n", "password", 3),
        (b'{"a": 1, "a": 2}', "a", 1),
    ],
)
def test_duplicate_keys_are_refused_with_their_position(text: bytes, key: str, line: int) -> None:
    error = refused(text)
    assert str(error).startswith(f"duplicate key '{key}' at in.yaml:{line}")
    assert error.line == line


def test_keys_that_resolve_to_the_same_value_are_duplicates() -> None:
    assert "duplicate key True" in str(refused(b"yes: 1\ntrue: 2\n"))


def test_merge_keys_are_refused() -> None:
    assert "merge keys" in str(refused(b"<<: {a: 1}\nb: 2\n"))


# --- Y21 tags -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        b"a: !!python/object/apply:os.system ['echo pwned']\n",
        b"a: !!python/name:os.system\n",
        b"a: !!python/object/new:builtins.list [[]]\n",
        b"a: !vault secret/data/x\n",
        b"a: !!binary aGVsbG8=\n",
        b"a: !!timestamp 2024-01-01\n",
        b"a: !!set {x: null}\n",
        b"a: !!omap [x: 1]\n",
        b"a: ! 0123\n",
        b"--- !!python/object:os.PathLike {}\n",
    ],
)
def test_unknown_and_code_execution_tags_are_refused(text: bytes) -> None:
    assert "is not allowed" in str(refused(text))


def test_core_schema_tags_are_allowed() -> None:
    assert load(b"pin: !!str 0123\nn: !!int '7'\n") == [{"pin": "0123", "n": 7}]


# --- Y22 YAML 1.1 typing stays visible to callers -------------------------------------------------


def test_plain_scalars_keep_yaml_1_1_types_so_callers_can_refuse_them() -> None:
    (doc,) = load(b"pin: 0123\nflag: no\nv: 0x1F\nd: 2024-01-01\nn: ~\ns: '0123'\n")
    assert doc == {
        "pin": 83,
        "flag": False,
        "v": 31,
        "d": datetime.date(2024, 1, 1),
        "n": None,
        "s": "0123",
    }


def test_an_impossible_date_is_a_manifest_error_not_a_value_error() -> None:
    error = refused(b"a: 1\nd: 2024-13-45\n")
    assert (error.line, error.column) == (2, 4)


def test_an_int_beyond_the_digit_limit_is_a_manifest_error() -> None:
    assert "invalid int value" in str(refused(b"a: " + b"9" * 5000 + b"\n"))


def test_a_plain_equals_sign_is_a_string() -> None:
    assert load(b"a: =\n") == [{"a": "="}]


# --- Y23 size, documents, depth -------------------------------------------------------------------


def test_the_byte_cap_is_checked_before_parsing() -> None:
    error = refused(b"[" * 101, max_bytes=100)
    assert "101 bytes exceed the limit of 100 bytes" in str(error)


def test_more_documents_than_the_cap_are_refused() -> None:
    assert "more than 3 documents" in str(
        refused(b"a: 1\n---\na: 2\n---\na: 3\n---\na: 4\n", max_documents=3)
    )


@pytest.mark.parametrize(
    "text",
    [b"a: " + b"[" * 150 + b"]" * 150, b"a: " + b"[" * 5000, b"- " * 3000 + b"x\n"],
)
def test_deep_nesting_is_refused_without_recursion_error(text: bytes) -> None:
    assert "nesting" in str(refused(text))


def test_nesting_at_the_limit_loads() -> None:
    (doc,) = load(b"a: " + b"[" * 99 + b"]" * 99)
    assert "a" in doc


# --- Y24 encodings and control bytes --------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"\xef\xbb\xbfa: 1\n", "byte-order mark"),
        (b"\xff\xfea\x00:\x00", "byte-order mark"),
        (b"\xfe\xff\x00a\x00:", "byte-order mark"),
        (b"\x00\x00\xfe\xff\x00\x00\x00a", "byte-order mark"),
        (b"a: 1\nb: x\x00y\n", "NUL byte"),
        (b"a: 1\nb: \xff\n", "invalid UTF-8"),
        (b"a: 1\nb: \xc0\xaf\n", "invalid UTF-8"),
        (b"a: 1\nb: \xed\xa0\x80\n", "invalid UTF-8"),
        (b"a: 1\nb: \x01\n", "unacceptable character #x0001"),
    ],
)
def test_bad_bytes_are_refused_with_a_position(data: bytes, problem: str) -> None:
    error = refused(data)
    assert problem in str(error)
    assert error.source == "in.yaml"
    assert error.line >= 1


def test_invalid_utf8_reports_line_and_column() -> None:
    error = refused(b"a: 1\nbb: \xff\n")
    assert (error.line, error.column) == (2, 5)


def test_an_escaped_lone_surrogate_is_refused() -> None:
    refused(b'a: "\\ud800"\n')


def test_cr_only_line_endings_load() -> None:
    assert load(b"a: 1\rb: 2\r") == [{"a": 1, "b": 2}]


# --- shape ----------------------------------------------------------------------------------------


def test_json_input_loads_as_yaml() -> None:
    assert load(b'{"kind": "Secret", "data": {"a": "YQ=="}, "n": [1, 2.5, null]}') == [
        {"kind": "Secret", "data": {"a": "YQ=="}, "n": [1, 2.5, None]}
    ]


def test_empty_documents_are_skipped() -> None:
    assert load(b"---\n---\na: 1\n---\n# only a comment\n---\n~\n") == [{"a": 1}]


@pytest.mark.parametrize("text", [b"- a\n- b\n", b"just a string\n", b"a: 1\n---\n42\n"])
def test_a_top_level_non_mapping_is_refused(text: bytes) -> None:
    assert "must be a mapping" in str(refused(text))


def test_a_complex_mapping_key_is_refused() -> None:
    assert "mapping key must be a scalar" in str(refused(b"? [1]\n: 2\n"))


def test_load_one_wants_exactly_one_document() -> None:
    assert safeyaml.load_one(b"a: 1\n", source="x") == {"a": 1}
    for text in (b"", b"a: 1\n---\nb: 2\n"):
        with pytest.raises(errors.ManifestError, match="exactly one document"):
            safeyaml.load_one(text, source="x")


def test_text_instead_of_bytes_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        safeyaml.load_documents("a: 1", source="x")  # type: ignore[arg-type]


def test_syntax_errors_name_the_position_but_not_the_content() -> None:
    error = refused(b"password: canary-3f9a1b\n  bad: [\n")
    assert "canary-3f9a1b" not in str(error)
    assert error.line == 2


def test_the_loader_is_a_safe_loader() -> None:
    safe = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    assert issubclass(safeyaml._Loader, safe)
    # Spelled in pieces: test_yaml_lint forbids the names of the unsafe loaders.
    for unsafe in ("Full" + "Loader", "Unsafe" + "Loader"):
        assert not issubclass(safeyaml._Loader, getattr(yaml, unsafe))


# --- positions ------------------------------------------------------------------------------------


def test_documents_know_the_lines_of_their_keys() -> None:
    text = b"# head\nkind: List\nitems:\n- kind: Secret\n  data:\n    a: YQ==\n---\nb: 1\n"
    first, second = safeyaml.load_located(text, source="x")
    assert first.line == 2
    assert first.line_of("items", 0, "data", "a") == 6
    assert first.line_of("items", 0, "missing") == 4
    assert second.line == 8


def test_split_lines_breaks_where_yaml_does() -> None:
    assert safeyaml.split_lines("a\rb\r\nc\x85d\u2028e\nf") == [
        "a\r",
        "b\r\n",
        "c\x85",
        "d\u2028",
        "e\n",
        "f",
    ]


# --- writer ---------------------------------------------------------------------------------------


def test_dump_keeps_key_order_and_quotes_what_yaml_would_retype() -> None:
    doc = {"z": "true", "a": "0123", "m": {"y": "no", "b": "2024-01-01"}}
    text = safeyaml.dump([doc])
    assert text.index("z:") < text.index("a:")
    assert safeyaml.load_documents(text.encode(), source="x") == [doc]


def test_dump_separates_several_documents_and_round_trips() -> None:
    docs = [{"a": 1}, {"b": [1, 2]}]
    text = safeyaml.dump(docs)
    assert text.startswith("---")
    assert safeyaml.load_documents(text.encode(), source="x") == docs


def test_dump_json_holds_one_document() -> None:
    assert safeyaml.dump([{"a": "é"}], fmt="json") == '{\n  "a": "é"\n}\n'
    with pytest.raises(ValueError, match="one document"):
        safeyaml.dump([{}, {}], fmt="json")


def test_dump_never_writes_anchors_for_shared_objects() -> None:
    shared = {"k": "v"}
    text = safeyaml.dump([{"a": shared, "b": shared}])
    assert "&" not in text and "*" not in text
    assert safeyaml.load_documents(text.encode(), source="x") == [{"a": shared, "b": shared}]
