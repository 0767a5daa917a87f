"""Fuzz-like, without Hypothesis: seeded random templates built from the language's own tokens
and from Jinja constructs it refuses. Whatever comes out is either a value or a TemplateError in
our words: never another exception, never a canary in a message, never more than the cap."""

from __future__ import annotations

import random

from sealer import templating

CANARY = "canary-0d9e4b1f"
ITEMS = {"password": CANARY.encode(), "user": b"app", "db-host": b"h", "bin": b"\xfe\xff"}
TOKENS = [
    "{{", "}}", "{%", "%}", "{#", "#}", " ", "password", "user", "data", "data['db-host']",
    "data.password", "bin", "missing", "|", "b64enc", "b64dec", "toJson", "toYaml", "trim",
    "default('d')", "indent(2)", "upper", "lower", "replace('a', 'bb')", "join(',')", "~", "(",
    ")", "[", "]", "{", "}", ":", ",", "'x'", "3", "true", "none", "if", "else", "endif", "for",
    "k", "in", "endfor", "data[k]", "==", "!=", "and", "or", "not", ".", "__class__", "*",
    "**", "+", "-", "range", "lipsum", "self", "loop", "()", "set", "=", "include", "raw",
    "endraw", "\n", "'", '"', "\\", "{{-", "-}}", "is", "defined", "attr", "format", "%",
]
LIMITS = templating.Limits(max_value_chars=4096, max_total_bytes=4096, max_iterations=200)


def _random_template(rng: random.Random) -> str:
    return "".join(rng.choice(TOKENS) + rng.choice(["", " "]) for _ in range(rng.randint(1, 25)))


def test_random_templates_render_or_fail_in_our_words() -> None:
    rng = random.Random(20261203)
    outcomes = {"rendered": 0, "refused": 0}
    for _ in range(600):
        source = _random_template(rng)
        try:
            out = templating.render_all({"k": source}, ITEMS, what="SS ns/x", limits=LIMITS)
        except templating.TemplateError as exc:
            outcomes["refused"] += 1
            assert CANARY not in str(exc), source
            assert str(exc).startswith("SS ns/x key 'k': the template "), source
        else:
            outcomes["rendered"] += 1
            value = out["k"]
            assert value is not None and len(value) <= LIMITS.max_value_chars
    assert outcomes["rendered"] > 50 and outcomes["refused"] > 50, outcomes


def test_templates_made_only_of_allowed_pieces_mostly_render() -> None:
    rng = random.Random(7)
    exprs = ["password", "user", "data['db-host']", "'lit'", "missing|default('d')",
             "user|upper", "(user ~ ':' ~ password)|b64enc", "[user, password]|join('/')",
             "{'a': user}|toJson", "data.user|trim"]
    for _ in range(100):
        parts = [f"{{{{ {rng.choice(exprs)} }}}}" if rng.random() < 0.7 else "text-"
                 for _ in range(rng.randint(1, 8))]
        source = "".join(parts)
        out = templating.render_all({"k": source}, ITEMS, what="SS", limits=LIMITS)["k"]
        assert out is not None
