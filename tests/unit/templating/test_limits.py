"""The caps: source size, output per value and in total, loop budget, deadline, nesting; each
filter refuses before it would allocate past the cap."""

from __future__ import annotations

import itertools

import pytest

from sealer import templating

SMALL = templating.Limits(max_source_chars=2000, max_value_chars=100, max_total_bytes=150,
                          max_iterations=50, max_seconds=5.0)
ITEMS = {"p": b"x" * 40, "q": b"y"}


def refused(source: str, items: dict[str, bytes] | None = None,
            limits: templating.Limits = SMALL, **kwargs: object) -> str:
    with pytest.raises(templating.TemplateError) as info:
        templating.render_all({"k": source}, ITEMS if items is None else items, what="X",
                              limits=limits, **kwargs)  # type: ignore[arg-type]
    return str(info.value)


def test_a_source_over_the_cap_is_refused_unparsed() -> None:
    assert "longer than 2000 characters" in refused("x" * 2001)


@pytest.mark.parametrize("source", [
    "{{ p }}{{ p }}{{ p }}",  # streamed output
    "{{ p ~ p ~ p }}",  # `~` is capped before joining
    "{{ [p, p, p]|join }}",
    "{{ p|replace('x', 'xxxx') }}",
    "{{ p|replace('', 'xx') }}",
    "{{ p|indent(64) ~ '' }}{{ p ~ p }}",
    "{{ p|b64enc|b64enc|b64enc }}",
    "{{ [p, p, p]|toJson }}",
    "{{ {'a': p, 'b': p, 'c': p}|toYaml }}",
    "{% for k in data %}{{ p }}{% endfor %}{{ p }}",
])
def test_every_way_to_grow_a_value_stops_at_the_cap_before_rendering(source: str) -> None:
    message = refused(source)
    assert "could render up to" in message and "over the limit of 100" in message


def test_the_worst_case_depends_on_sizes_never_on_contents() -> None:
    # Same sizes, different contents: the same verdict, so a verdict says nothing of a value.
    source = "{{ p|replace('hunter2', " + repr("z" * 30) + ") }}"
    limits = templating.Limits(max_value_chars=150)  # worst case: 40 + 40 // 7 * 23 = 155
    for value in (b"hunter2" * 5 + b"xxxxx", b"y" * 40):
        assert "could render up to" in refused(source, {"p": value}, limits=limits)
    for value in (b"hunter2", b"abcdefg"):
        out = templating.render_all({"k": source}, {"p": value}, what="X", limits=limits)
        assert out["k"] is not None
    branchy = "{% if p == 'hunter2' %}{{ p ~ p ~ p }}{% else %}x{% endif %}"
    small = templating.Limits(max_value_chars=20)
    for value in (b"hunter2", b"abcdefg"):
        assert "could render up to 21 bytes" in refused(branchy, {"p": value}, limits=small)


def test_the_filters_never_fail_on_a_value() -> None:
    items = {"p": b"\xff\xfe not base64 \x00", "q": b"===", "r": b"a"}
    source = ("{{ p|b64dec }}{{ q|b64dec }}{{ r|b64dec }}{{ p|b64enc }}{{ p|toJson }}"
              "{{ p|toYaml }}{{ p|upper|lower|trim }}{{ p|indent(2) }}{{ p|replace('a', 'b') }}")
    out = templating.render_all({"k": source}, items, what="X")["k"]
    assert out is not None and b"\xff\xfe" in out


def test_the_values_of_one_object_are_capped_together() -> None:
    with pytest.raises(templating.TemplateError, match="data exceed 150 bytes"):
        templating.render_all({"a": "{{ p ~ p }}", "b": "{{ p ~ p }}"}, ITEMS, what="X",
                              limits=SMALL)


def test_nested_loops_are_refused_from_the_number_of_items() -> None:
    items = {f"k{i}": b"" for i in range(10)}
    source = "{% for a in data %}{% for b in data %}{% endfor %}{% endfor %}"
    assert "could loop 110 times with these items, over the limit of 50" in refused(
        source, items)
    one_level = "{% for a in data %}{% endfor %}"
    assert templating.render_all({"k": one_level}, items, what="X", limits=SMALL) == {"k": b""}


def test_the_deadline_is_checked_with_the_injected_clock() -> None:
    ticks = itertools.count(step=1.0)
    items = {f"k{i}": b"" for i in range(40)}
    message = refused("{% for a in data %}{% endfor %}", items, clock=lambda: next(ticks))
    assert "took too long" in message


def test_deep_nesting_is_refused_without_a_crash() -> None:
    for source in ("{{ " + "(" * 3000 + "p" + ")" * 3000 + " }}",
                   "{{ p" + "|trim" * 60 + " }}",
                   "{% if p %}" * 60 + "{% endif %}" * 60,
                   "{{ " + "[" * 500 + "]" * 500 + " }}"):
        assert "nested too deeply" in refused(source, limits=templating.DEFAULT_LIMITS)


def test_indent_widths_and_replace_counts_are_bounded() -> None:
    assert "width outside 0 to 64" in refused("{{ q|indent(65) }}")
    assert "width that is not a literal" in refused("{{ q|indent('8') }}")
    assert "width that is not a literal" in refused("{{ q|indent(width=p) }}")
    assert "count that is not a literal" in refused("{{ q|replace('y', 'z', 'all') }}")
    assert "count that is not a literal" in refused("{{ q|replace('y', 'z', -1) }}")


def test_filter_arguments_are_literals_checked_before_rendering() -> None:
    assert refused("{{ q|replace('y') }}") == (
        "X key 'k': the template uses replace without both old and new text")
    assert "old that is not a literal" in refused("{{ q|replace(p, 'z') }}")
    assert "too many arguments" in refused("{{ q|upper(1) }}")
    assert "an argument it does not take" in refused("{{ q|indent(depth=2) }}")
    assert "list literal" in refused("{{ q|join(',') }}")
    assert "more than one fallback" in refused("{{ q|default('a', 'b') }}")


@pytest.mark.parametrize(("source", "why"), [
    ("{{ data if q == 'y' else '' }}", "different kinds"),
    ("{{ (q == 'y' and [1] or 'a')|upper }}", "different kinds"),
    ("{{ q if q == 'y' }}", "without `else`"),
    ("{{ [q] if q == 'y' else [p] }}", "prints a list or mapping"),
    ("{{ data }}", "prints a list or mapping"),
    ("{{ [q]|upper }}", "passes a list to upper"),
    ("{{ q|default([1]) }}", "fallback that is not text"),
    ("{{ [[q]]|join }}", "joins a list or mapping"),
    ("{{ {1: q}|toJson }}", "mapping key that is not quoted text"),
])
def test_branches_and_kinds_are_checked_so_no_branch_can_fail_on_a_value(
    source: str, why: str
) -> None:
    for value in (b"y", b"n"):  # the same verdict whichever way the branch would go
        assert why in refused(source, {"p": b"x", "q": value})
