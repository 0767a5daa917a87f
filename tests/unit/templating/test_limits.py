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
    "{{ p|replace('', p) }}",
    "{{ p|indent(64) ~ '' }}{{ p ~ p }}",
    "{{ p|b64enc|b64enc|b64enc }}",
    "{{ [p, p, p]|toJson }}",
    "{{ {'a': p, 'b': p, 'c': p}|toYaml }}",
    "{% for k in data %}{{ p }}{% endfor %}{{ p }}",
])
def test_every_way_to_grow_a_value_stops_at_the_cap(source: str) -> None:
    message = refused(source)
    assert "more than 100 characters" in message or "more than 100 bytes" in message


def test_the_filters_check_sizes_before_building_anything() -> None:
    # 40 chars * a 5000-fold replacement would be 200 k characters; refused, not built.
    huge = templating.Limits(max_value_chars=1000)
    assert "would make replace produce more than 1000" in refused(
        "{{ p|replace('x', " + repr("z" * 5000) + ") }}", limits=huge)
    assert "would make ~ produce" in refused("{{ " + " ~ ".join(["p"] * 30) + " }}", limits=huge)


def test_the_values_of_one_object_are_capped_together() -> None:
    with pytest.raises(templating.TemplateError, match="exceed 150 bytes together"):
        templating.render_all({"a": "{{ p ~ p }}", "b": "{{ p ~ p }}"}, ITEMS, what="X",
                              limits=SMALL)


def test_nested_loops_spend_the_iteration_budget() -> None:
    items = {f"k{i}": b"" for i in range(10)}
    source = "{% for a in data %}{% for b in data %}{% endfor %}{% endfor %}"
    assert "loops too often" in refused(source, items)  # 10 + 100 > 50
    one_level = "{% for a in data %}{% endfor %}"
    assert templating.render_all({"k": one_level}, items, what="X", limits=SMALL) == {"k": b""}


def test_the_deadline_is_checked_with_the_injected_clock() -> None:
    ticks = itertools.count(step=1.0)
    items = {f"k{i}": b"" for i in range(20)}
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
    assert "width outside" in refused("{{ q|indent('8') }}")
    assert "count that is not" in refused("{{ q|replace('y', 'z', 'all') }}")


def test_wrong_arguments_are_reported_without_python_text() -> None:
    message = refused("{{ q|replace('y') }}")
    assert message == "X key 'k': the template passes the wrong arguments to a filter"
