"""What a template sees and what it produces: the context, the filters, null, binary items."""

from __future__ import annotations

import base64
import json

import pytest
import yaml

from sealer import templating

ITEMS = {"user": b"app", "password": b"s3cr3t", "db-host": b"db.local", "blob": b"\xff\x00\x01"}
WHAT = "SealedSecret ns/db spec.template.data"


def render(source: str | None, items: dict[str, bytes] | None = None,
           **kwargs: object) -> bytes | None:
    return templating.render_all({"k": source}, ITEMS if items is None else items, what=WHAT,
                                 **kwargs)["k"]  # type: ignore[arg-type]


def test_the_public_surface_is_pinned() -> None:
    assert sorted(templating.__all__) == sorted([
        "DEFAULT_LIMITS", "FILTERS", "Analysis", "Limits", "TemplateError", "git_problem",
        "is_secret_key", "render_all"])
    assert frozenset({
        "b64enc", "b64dec", "toJson", "toYaml", "trim", "default", "indent", "upper", "lower",
        "replace", "join"}) == templating.FILTERS


def test_a_dsn_combines_items_by_name_and_through_data() -> None:
    source = "postgres://{{ user }}:{{ data.password }}@{{ data['db-host'] }}/shop"
    assert render(source) == b"postgres://app:s3cr3t@db.local/shop"


def test_a_config_file_keeps_its_trailing_newline_and_literal_text() -> None:
    source = "db:\n  user: {{ user }}\n  password: {{ password|toJson }}\n"
    rendered = render(source)
    assert rendered == b'db:\n  user: app\n  password: "s3cr3t"\n'
    assert yaml.safe_load(rendered or b"") == {"db": {"user": "app", "password": "s3cr3t"}}


def test_json_and_yaml_encode_items_lists_and_mappings() -> None:
    items = {"user": b"app", "password": b'p"w\n'}
    assert json.loads(render("{{ {'u': user, 'p': password, 'n': 3}|toJson }}", items)
                      or b"") == {"u": "app", "p": 'p"w\n', "n": 3}
    assert json.loads(render("{{ data|toJson }}", items) or b"") == {
        "user": "app", "password": 'p"w\n'}
    assert yaml.safe_load(render("{{ data|toYaml }}", items) or b"") == {
        "user": "app", "password": 'p"w\n'}
    assert render("{{ [user, 'x']|toJson }}", items) == b'["app","x"]'


def test_base64_both_ways_and_basic_auth_from_two_items() -> None:
    assert render("{{ (user ~ ':' ~ password)|b64enc }}") == base64.b64encode(b"app:s3cr3t")
    encoded = base64.b64encode(b"hello").decode()
    assert render("{{ x|b64dec }}", {"x": encoded.encode()}) == b"hello"


def test_text_filters_do_what_their_names_say() -> None:
    items = {"a": b"  Mixed Case  ", "b": b"line1\nline2"}
    assert render("{{ a|trim }}", items) == b"Mixed Case"
    assert render("{{ a|trim|upper }}-{{ a|trim|lower }}", items) == b"MIXED CASE-mixed case"
    assert render("{{ a|trim|replace(' ', '_') }}", items) == b"Mixed_Case"
    assert render("key:\n  {{ b|indent(2) }}", items) == b"key:\n  line1\n  line2"
    assert render("{{ b|indent(2, first=true) }}", items) == b"  line1\n  line2"
    assert render("{{ [a|trim, 'x']|join('/') }}", items) == b"Mixed Case/x"


def test_default_covers_a_missing_or_empty_item() -> None:
    assert render("{{ port|default('5432') }}", {"user": b"u"}) == b"5432"
    assert render("{{ data['port']|default('5432') }}", {"port": b""}) == b"5432"
    assert render("{{ port|default('5432') }}", {"port": b"6543"}) == b"6543"


def test_if_and_loops_over_data() -> None:
    source = "{% for key in data %}{{ key }}={{ data[key] }}\n{% endfor %}"
    assert render(source, {"b": b"2", "a": b"1"}) == b"a=1\nb=2\n"
    source = "{% if mode == 'tls' %}sslmode=require{% else %}plain{% endif %}"
    assert render(source, {"mode": b"tls"}) == b"sslmode=require"
    assert render(source, {"mode": b"x"}) == b"plain"


def test_a_null_template_removes_the_key_and_other_keys_render() -> None:
    out = templating.render_all({"gone": None, "dsn": "{{ user }}"}, ITEMS, what=WHAT)
    assert out == {"gone": None, "dsn": b"app"}


def test_a_binary_item_round_trips_byte_for_byte_and_never_fails() -> None:
    assert render("{{ blob|b64enc }}") == base64.b64encode(b"\xff\x00\x01")
    assert render("<{{ blob }}>") == b"<\xff\x00\x01>"
    assert render("{{ blob ~ user|upper }}") == b"\xff\x00\x01APP"
    assert render("{{ x|b64dec }}", {"x": base64.b64encode(b"\x80\x81")}) == b"\x80\x81"


def test_non_ascii_text_round_trips_as_utf8() -> None:
    assert render("{{ name }}!", {"name": "Zoë ✓".encode()}) == "Zoë ✓!".encode()


def test_keys_that_are_not_identifiers_or_are_reserved_are_reached_through_data() -> None:
    items = {"db-host": b"h", "range": b"r", "_x": b"u", "data": b"d"}
    assert render("{{ data['db-host'] }}{{ data['range'] }}{{ data['_x'] }}", items) == b"hru"
    assert render("{{ data['data'] }}", items) == b"d"


def test_a_missing_item_is_an_error_naming_the_object_the_key_and_the_reference() -> None:
    with pytest.raises(templating.TemplateError) as info:
        templating.render_all({"dsn": "{{ pasword }}"}, ITEMS, what=WHAT)
    assert str(info.value) == (
        "SealedSecret ns/db spec.template.data key 'dsn': the template reads item 'pasword', "
        "which does not exist (use default to allow a missing item)")
    assert info.value.key == "dsn"
    assert info.value.reason == "TemplateError"


def test_a_syntax_error_names_the_line_and_never_the_text() -> None:
    with pytest.raises(templating.TemplateError) as info:
        render("ok\n{{ user }\ns3cr3t-literal")
    assert "line 2" in str(info.value)
    assert "s3cr3t" not in str(info.value)


def test_a_template_key_kubernetes_would_refuse_is_an_error_before_rendering() -> None:
    for key in ("../etc", "a b", "", ".", "x" * 254, "caf\u00e9"):
        with pytest.raises(templating.TemplateError, match="is not a valid Secret data key"):
            templating.render_all({key: "{{ user }}"}, ITEMS, what=WHAT)
