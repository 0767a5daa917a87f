"""bitnami.com objects: the two Go forms Bitnami documents, and a clear refusal of the rest."""

from __future__ import annotations

import pytest

from sealer import templating

ITEMS = {"password": b"pw", "db-user": b"app"}


def render(source: str) -> bytes | None:
    return templating.render_all({"k": source}, ITEMS, what="SealedSecret ns/x", dialect="go")["k"]


def test_dot_key_and_index_forms_render_with_literal_text_around_them() -> None:
    assert render('user={{ index . "db-user" }} pass={{ .password }}') == b"user=app pass=pw"
    assert render("{{.password}}") == b"pw"
    assert render("no actions at all") == b"no actions at all"


def test_jinja_syntax_in_a_go_template_is_literal_text() -> None:
    assert render("{% raw %}{# x #}{{ .password }}") == b"{% raw %}{# x #}pw"


@pytest.mark.parametrize("source", [
    "{{ .password | b64enc }}", "{{ b64enc .password }}", "{{- .password -}}",
    "{{/* comment */}}", "{{ if .password }}x{{ end }}", "{{ range . }}{{ . }}{{ end }}",
    '{{ index . "a\\"b" }}', "{{ env \"HOME\" }}", "{{ .password.x }}", "{{ . }}", "{{",
])
def test_other_go_actions_are_refused_saying_what_is_supported(source: str) -> None:
    with pytest.raises(templating.TemplateError) as info:
        render(source)
    assert 'other than {{ .key }} and {{ index . "key" }}' in str(info.value)
    assert "pw" not in str(info.value).replace("sprig", "")


def test_a_missing_item_is_an_error_not_no_value() -> None:
    with pytest.raises(templating.TemplateError, match="reads item 'nope'"):
        render("{{ .nope }}")


def test_git_rule_applies_to_go_templates_too() -> None:
    assert templating.git_problem("{{ .password }}", items={"password"}, dialect="go") is None
    assert "plaintext" in (templating.git_problem("literal", items={"password"}, dialect="go")
                           or "")
    assert "Go template action" in (templating.git_problem("{{ .a | x }}", items=None,
                                                           dialect="go") or "")
