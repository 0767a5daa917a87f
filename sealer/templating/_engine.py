"""The sandbox: a Jinja `ImmutableSandboxedEnvironment` with nothing in it but our filters.

Layers, each enough on its own for the escapes we know of: (1) `_rules` refuses the parse tree
of anything outside the small language before it is compiled; (2) the environment has no
loader, no globals, no tests, only `_filters`; every attribute or item lookup outside `data`,
every call, every arithmetic operator and every unsafe attribute is refused at run time too;
(3) the output is streamed and capped, loops draw from a `Budget` with a deadline. Compiled
templates are cached by source (rendering one is thread-safe).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

import jinja2
from jinja2 import nodes, sandbox
from jinja2.runtime import Context

from sealer.templating import _filters, _rules, _values, gotext
from sealer.templating._values import Refused


class Sandbox(sandbox.ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset(sandbox.SandboxedEnvironment.default_binop_table)
    intercepted_unops = frozenset(sandbox.SandboxedEnvironment.default_unop_table)

    def __init__(self, *, cap: int) -> None:
        super().__init__(autoescape=False, undefined=jinja2.StrictUndefined, loader=None,
                         finalize=_finalize, keep_trailing_newline=True, cache_size=0,
                         auto_reload=False, extensions=())
        self.globals.clear()
        self.filters = _filters.Sized(cap).table()
        self.tests = {}

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        return False

    def is_safe_callable(self, obj: Any) -> bool:
        return False

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> NoReturn:
        raise Refused("uses arithmetic operators, which templates do not allow")

    def call_unop(self, context: Context, operator: str, arg: Any) -> NoReturn:
        raise Refused("uses arithmetic operators, which templates do not allow")

    def getattr(self, obj: Any, attribute: str) -> Any:
        return self._lookup(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        return self._lookup(obj, argument)

    def _lookup(self, obj: Any, key: Any) -> Any:
        if isinstance(obj, _values.Items) and isinstance(key, str):
            try:
                return obj[key]
            except KeyError:
                return self.undefined(obj=obj, name=key)
        raise Refused("looks up something other than an item of data")

    def call(__self, __context: Context, __obj: Any, *args: Any,
             **kwargs: Any) -> NoReturn:
        raise Refused("calls a function, which templates do not allow")


def _finalize(value: object) -> object:
    if isinstance(value, str | int | jinja2.Undefined):
        return value  # Undefined raises when printed (StrictUndefined)
    if value is None:
        raise Refused("prints nothing (none); use default")
    raise Refused("prints a list or mapping; encode it with toJson or toYaml")


@functools.lru_cache(maxsize=8)
def sandbox_for(cap: int) -> Sandbox:
    return Sandbox(cap=cap)


@functools.lru_cache(maxsize=256)
def compiled(cap: int, dialect: str,
             source: str) -> tuple[jinja2.Template, _rules.Analysis, nodes.Template]:
    """Parse (in `dialect`), check, rewrite and compile; raises Refused or Jinja errors. The
    rewritten tree comes along for `_bounds` (it is never changed after this)."""
    env = sandbox_for(cap)
    tree = _parse(env, dialect, source)
    analysis = _rules.check(tree)
    tree = _rules.rewrite(tree)
    _rules.check_kinds(tree)
    return env.from_string(tree), analysis, tree


def _parse(env: Sandbox, dialect: str, source: str) -> nodes.Template:
    if dialect == "go":
        return gotext.parse(source)
    return env.parse(source)


def render(template: jinja2.Template, context: Mapping[str, Any], *, cap: int,
           clock: Callable[[], float], deadline: float) -> str:
    """Stream the output, refusing it as soon as it passes `cap` characters or the deadline."""
    chunks: list[str] = []
    size = 0
    for chunk in template.generate(dict(context)):
        size += len(chunk)
        if size > cap:
            raise Refused(f"renders more than {cap} characters")
        if clock() > deadline:
            raise Refused("took too long to render (the time budget is spent)")
        chunks.append(chunk)
    return "".join(chunks)
