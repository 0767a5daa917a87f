"""Templated Secret data: render `template.data` values from the items of a Secret.

Called by the controller (`controller.unseal.desired` for SealedSecrets, the Vault target for
VaultSecrets) after every item is open, and by `seal check` and the GitOps plan (`git_problem`)
on the templates as they sit in Git. The language is a small, sandboxed subset of Jinja
(`_rules` draws it; `_filters` lists the filters; `_engine` is the sandbox); `bitnami.com`
objects use the two Go forms of `gotext`. What a template sees:

    password             an item whose key is an identifier (not `_`-prefixed, not reserved)
    data.password        the same; data["db-password"] for any key; {% for k in data %}
    data|toJson          every item

Items are text; bytes that are not UTF-8 survive as lone surrogates and come out byte for byte.
The rendered text becomes the Secret key's value; a `null` template value removes that key.

No oracle: whoever writes the object reads its status, but may not be allowed to read its
Secret. So whether a render succeeds, and every message, depends only on the template, the item
names and the item sizes (public: a ciphertext's length gives the size away), never on what an
item contains: every limit is checked before rendering on a worst case computed from the sizes
(`_bounds`), and the filters are total (`b64dec` of text that is not base64 does not fail).

Bounded: a template's source is at most `Limits.max_source_chars`; the worst case of each value
at most `max_value_chars` bytes, of the Secret's data (kept items and worst cases together) at
most `max_total_bytes`, of loop iterations at most `max_iterations`; the streamed output, every
filter and a deadline are checked again while rendering, as a net that should never be reached.

Errors are one `TemplateError` (reason `TemplateError`) naming the object, the field and the
template key, and saying what the template did wrong in our words: never Jinja's message
(which can quote a value) and never a value.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any

import jinja2

from sealer import errors
from sealer.templating import _bounds, _engine, _rules, _values
from sealer.templating._rules import Analysis

__all__ = [
    "DEFAULT_LIMITS",
    "FILTERS",
    "Analysis",
    "Limits",
    "TemplateError",
    "git_problem",
    "is_secret_key",
    "render_all",
]

FILTERS = _rules.ALLOWED_FILTERS
DIALECTS = ("jinja", "go")
_SECRET_KEY = re.compile(r"[-._a-zA-Z0-9]{1,253}")


class TemplateError(errors.ManifestError):
    """A template that cannot be rendered: the object, field and key are named, never a value."""

    reason = "TemplateError"

    def __init__(self, message: str, *, key: str) -> None:
        super().__init__(message)
        self.key = key


@dataclasses.dataclass(frozen=True)
class Limits:
    max_source_chars: int = 64 * 1024
    max_value_chars: int = 1024 * 1024
    max_total_bytes: int = 1024 * 1024
    max_iterations: int = 10_000
    max_seconds: float = 2.0


DEFAULT_LIMITS = Limits()


def is_secret_key(key: object) -> bool:
    """A Secret data key as Kubernetes accepts it: `[-._a-zA-Z0-9]+`, <= 253, not `.`/`..`."""
    return isinstance(key, str) and key not in (".", "..") and \
        _SECRET_KEY.fullmatch(key) is not None


def _show(key: str) -> str:
    """A key as it may appear in a message (tenant-written: printable ASCII, bounded)."""
    return repr(key) if key.isascii() and key.isprintable() and len(key) <= 253 \
        else ascii(key)[:80]


def _analyze(source: object, *, dialect: str, limits: Limits) -> Analysis:
    """What a template refers to; raises Refused or Jinja's errors (see `_why`)."""
    if not isinstance(source, str):
        raise _values.Refused("is not text")
    if dialect not in DIALECTS:
        raise TypeError(f"unknown template dialect {dialect!r}")
    if len(source) > limits.max_source_chars:
        raise _values.Refused(f"is longer than {limits.max_source_chars} characters")
    return _engine.compiled(limits.max_value_chars, dialect, source)[1]


def git_problem(source: object, *, items: Collection[str] | None, dialect: str = "jinja",
                limits: Limits = DEFAULT_LIMITS) -> str | None:
    """Why a `template.data` value may not sit in Git, or None when it may.

    The rule: the value must be a template that parses under the sandbox's rules and reads at
    least one sealed item (by name, or `data` as a whole), and every item it needs (outside
    `default`) must be sealed. Literal text alone is plaintext in Git and refused. `items` are
    the keys the object seals (None when Git does not say them all, as for a VaultSecret's
    `dataFrom`: then any item reference counts). `null` (remove the key) is fine.
    """
    if source is None:
        return None
    try:
        found = _analyze(source, dialect=dialect, limits=limits)
    except Exception as exc:  # every failure is one worded refusal
        return _why(exc)
    missing = sorted(found.required - set(items)) if items is not None else []
    if missing:  # it would fail in the cluster: say so before the commit
        return f"reads {_show(missing[0])}, which is not one of its sealed items"
    if found.whole_data or found.required:
        return None
    return ("is plaintext in Git: a template.data value must read at least one sealed item "
            "(for example {{ password }}); seal literal values instead")


def render_all(templates: Mapping[str, Any], items: Mapping[str, bytes], *, what: str,
               dialect: str = "jinja", limits: Limits = DEFAULT_LIMITS,
               clock: Callable[[], float] = time.monotonic) -> dict[str, bytes | None]:
    """Every template rendered with `items`; None for a key to remove. `what` names the object
    and field for messages (e.g. "SealedSecret ns/db spec.template.data").

    Two passes: every check first, on the templates and the items' names and sizes only (so
    whether a render fails never depends on what an item contains), then the renders.
    """
    if not templates:
        return {}
    sizes = _bounds.Sizes({key: len(raw) for key, raw in items.items()})
    total = sum(size for key, size in sizes.items.items() if key not in templates)
    prepared: dict[str, tuple[jinja2.Template, int] | None] = {}
    for key in sorted(templates, key=str):
        try:
            prepared[key] = _prepare(key, templates[key], sizes, dialect=dialect, limits=limits)
        except Exception as exc:  # our words; the cause is never shown
            raise _error(what, key, _why(exc)) from None
        total += prepared[key][1] if prepared[key] else 0  # type: ignore[index]
        if total > limits.max_total_bytes:
            raise _error(what, key, f"could make the Secret's data exceed "
                                    f"{limits.max_total_bytes} bytes (worst case from the "
                                    "items' sizes)")
    values = {key: _values.as_value(raw) for key, raw in items.items()}
    out: dict[str, bytes | None] = {}
    for key, plan in prepared.items():
        try:
            out[key] = None if plan is None else _render(plan[0], values, limits=limits,
                                                         clock=clock)
        except Exception as exc:  # a net under `_bounds`: not expected to be reached
            raise _error(what, key, _why(exc)) from None
    return out


def _error(what: str, key: object, why: str) -> TemplateError:
    return TemplateError(f"{what} key {_show(str(key))}: the template {why}", key=str(key))


def _prepare(key: object, source: object, sizes: _bounds.Sizes, *, dialect: str,
             limits: Limits) -> tuple[jinja2.Template, int] | None:
    """Checks that need no value: the key, the language, the references, the worst case."""
    if not is_secret_key(key):
        raise _values.Refused("key is not a valid Secret data key")
    if source is None:
        return None
    found = _analyze(source, dialect=dialect, limits=limits)
    missing = sorted(found.required - set(sizes.items))
    if missing:
        raise _values.Refused(f"reads item {_show(missing[0])}, which does not exist "
                              "(use default to allow a missing item)")
    assert isinstance(source, str)
    template, _, tree = _engine.compiled(limits.max_value_chars, dialect, source)
    bound = _bounds.of(tree, sizes)
    if bound.iterations > limits.max_iterations:
        raise _values.Refused(f"could loop {bound.iterations} times with these items, over the "
                              f"limit of {limits.max_iterations}")
    if bound.output > limits.max_value_chars:
        raise _values.Refused(f"could render up to {bound.output} bytes with these items' "
                              f"sizes, over the limit of {limits.max_value_chars}")
    return template, bound.output


def _render(template: jinja2.Template, values: Mapping[str, _values.Value], *, limits: Limits,
            clock: Callable[[], float]) -> bytes:
    budget = _values.Budget(iterations=limits.max_iterations,
                            deadline=clock() + limits.max_seconds, clock=clock)
    context: dict[str, Any] = {k: v for k, v in values.items()
                               if k.isidentifier() and not k.startswith("_")
                               and k not in _rules.RESERVED_NAMES}
    context["data"] = _values.Items(values, budget)
    text = _engine.render(template, context, cap=limits.max_value_chars, clock=clock,
                          deadline=budget.deadline)
    try:
        raw = _values.as_bytes(text)
    except UnicodeEncodeError:
        raise _values.Refused("produces text that is not valid UTF-8") from None
    if len(raw) > limits.max_value_chars:
        raise _values.Refused(f"renders more than {limits.max_value_chars} bytes")
    return raw


_WORDS: tuple[tuple[type[BaseException], str], ...] = (
    (jinja2.exceptions.SecurityError, "uses something the sandbox refuses"),
    (jinja2.UndefinedError, "uses a missing item (use default to allow a missing item)"),
    (RecursionError, "is nested too deeply"),
    (MemoryError, "is too large to render"),
    (TypeError, "passes the wrong arguments to a filter"),
)


def _why(exc: BaseException) -> str:
    """Our words for a failure; Jinja's own messages can quote values, so they are dropped."""
    if isinstance(exc, _values.Refused):
        return str(exc)
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return f"is not a valid template (line {exc.lineno})"
    for kind, words in _WORDS:
        if isinstance(exc, kind):
            return words
    return "could not be rendered"
