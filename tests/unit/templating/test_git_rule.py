"""The rule for template.data in Git: a template that reads at least one sealed item."""

from __future__ import annotations

import pytest

from sealer import templating

SEALED = {"password", "user"}


@pytest.mark.parametrize("source", [
    "{{ password }}", "postgres://{{ user }}:{{ password }}@db/app", "{{ data|toJson }}",
    "{% for k in data %}{{ data[k] }}{% endfor %}", "{{ data['password']|b64enc }}",
    "{{ port|default('5432') }}:{{ user }}", None,
])
def test_templates_reading_a_sealed_item_may_sit_in_git(source: str | None) -> None:
    assert templating.git_problem(source, items=SEALED) is None


@pytest.mark.parametrize(("source", "why"), [
    ("hunter2", "plaintext in Git"),
    ("{{ 'hunter2' }}", "plaintext in Git"),
    ("{% raw %}{{ password }}{% endraw %}", "plaintext in Git"),
    ("{{ port|default('hunter2') }}", "plaintext in Git"),
    ("{{ other }}", "reads 'other', which is not one of its sealed items"),
    ("{{ password }}{{ typo }}", "reads 'typo', which is not one of its sealed items"),
    ("{{ password.__class__ }}", "attribute access"),
    ("{{ password", "not a valid template"),
    (42, "is not text"),
])
def test_literals_unknown_items_and_refused_templates_may_not(source: object, why: str) -> None:
    problem = templating.git_problem(source, items=SEALED)
    assert problem is not None and why in problem
    assert "hunter2" not in problem


def test_when_the_keys_are_not_known_any_item_reference_counts() -> None:
    assert templating.git_problem("{{ anything }}", items=None) is None
    assert templating.git_problem("literal", items=None) is not None
