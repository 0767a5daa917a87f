"""Templated Secret data: render `template.data` values from the items of a Secret.

Called by the controller (`controller.unseal.desired` for SealedSecrets, the Vault target for
VaultSecrets) after every item is open, and by `seal check` and the GitOps plan (`git_problem`)
on the templates as they sit in Git. The language is a small, sandboxed subset of Jinja
(`_rules` draws it; `_filters` lists the filters; `_engine` is the sandbox); `bitnami.com`
objects use the two Go forms of `gotext`. What a template sees:

    password             an item whose key is an identifier (not `_`-prefixed, not reserved)
    data.password        the same; data["db-password"] for any key; {% for k in data %}
    data|toJson          every item

Items are text (UTF-8); an item that is not is usable only as `x|b64enc`. The rendered text,
UTF-8 encoded, becomes the Secret key's value; a `null` template value removes that key.

Bounded: a template's source is at most `Limits.max_source_chars`, each rendered value at most
`max_value_chars` (checked by every filter before it allocates, and on the streamed output), all
values together at most `max_total_bytes`; loops draw from `max_iterations` and a deadline.

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
from sealer.templating import _engine, _rules, _values
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
    and field for messages (e.g. "SealedSecret ns/db spec.template.data")."""
    if not templates:
        return {}
    values = {key: _values.as_value(raw) for key, raw in items.items()}
    total = 0
    out: dict[str, bytes | None] = {}
    for key in sorted(templates, key=str):
        source = templates[key]
        if not is_secret_key(key):
            raise TemplateError(f"{what} key {_show(str(key))}: is not a valid Secret data key",
                                key=str(key))
        if source is None:
            out[key] = None
            continue
        try:
            rendered = _render_one(source, values, dialect=dialect, limits=limits, clock=clock)
        except Exception as exc:  # our words; the cause is never shown
            raise TemplateError(f"{what} key {_show(str(key))}: the template {_why(exc)}",
                                key=str(key)) from None
        total += len(rendered)
        if total > limits.max_total_bytes:
            raise TemplateError(f"{what} key {_show(str(key))}: the rendered values exceed "
                                f"{limits.max_total_bytes} bytes together", key=str(key))
        out[key] = rendered
    return out


def _render_one(source: object, values: Mapping[str, _values.Value], *, dialect: str,
                limits: Limits, clock: Callable[[], float]) -> bytes:
    found = _analyze(source, dialect=dialect, limits=limits)
    missing = sorted(found.required - set(values))
    if missing:
        raise _values.Refused(f"reads item {_show(missing[0])}, which does not exist "
                              "(use default to allow a missing item)")
    assert isinstance(source, str)
    template, _ = _engine.compiled(limits.max_value_chars, dialect, source)
    start = clock()
    budget = _values.Budget(iterations=limits.max_iterations,
                            deadline=start + limits.max_seconds, clock=clock)
    context: dict[str, Any] = {k: v for k, v in values.items()
                               if k.isidentifier() and not k.startswith("_")
                               and k not in _rules.RESERVED_NAMES}
    context["data"] = _values.Items(values, budget)
    text = _engine.render(template, context, cap=limits.max_value_chars, clock=clock,
                          deadline=budget.deadline)
    try:
        raw = text.encode("utf-8")
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
