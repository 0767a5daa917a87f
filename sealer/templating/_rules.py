"""The template language, as an allow-list over Jinja's parse tree (checked before compiling).

Allowed: text, `{{ expression }}`, `{% if %}/{% elif %}/{% else %}`, `{% for key in data %}`,
comments and `{% raw %}`. An expression is a name (an item), `data.key` / `data["key"]` /
`data[k]` (k a loop variable), a string/number/boolean literal, list and dict literals, `~`
(joins text), `a if c else b`, `==`/`!=`, `and`/`or`/`not`, and the filters of `_filters`,
whose arguments are literals (`default`'s fallback excepted) so `_bounds` can size the result.
Everything else is refused with a message naming the construct: attribute access on anything but
`data` (so no `__class__`, `.__init__`, `.format`), calls, arithmetic (so no `'a' * 10**9`),
slices, tests, `{% set %}`, macros, `{% filter %}` blocks, includes/imports/extends, and names
that start with `_` or are Jinja's specials (`self`, `loop`, `range`, `lipsum`, `cycler`...).

`check` also returns what the template refers to: the items it needs (each must exist), the
ones it reads only through `default` (may be missing), and whether it reads all of `data`.
`rewrite` then turns every `~` into the size-capped `concat` filter before compiling.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from jinja2 import nodes

from sealer.templating import _filters
from sealer.templating._values import Refused

ALLOWED_FILTERS = frozenset(_filters.Sized(0).table()) - {_filters.CONCAT}
RESERVED_NAMES = frozenset({
    "data", "loop", "self", "caller", "varargs", "kwargs", "super", "range", "lipsum", "cycler",
    "joiner", "namespace", "dict", "true", "false", "none", "True", "False", "None"})
MAX_DEPTH = 40
MAX_NODES = 5000
MAX_INT = 1_000_000

_PLAIN = (nodes.Template, nodes.Output, nodes.TemplateData, nodes.If, nodes.Const,
          nodes.CondExpr, nodes.And, nodes.Or, nodes.Not, nodes.List, nodes.Dict, nodes.Pair,
          nodes.Keyword, nodes.Concat, nodes.Compare, nodes.Operand)
_WORDS: dict[type[nodes.Node], str] = {
    nodes.Call: "function calls", nodes.Getattr: "attribute access", nodes.Slice: "slices",
    nodes.Test: "tests (`is ...`)", nodes.Assign: "{% set %}", nodes.AssignBlock: "{% set %}",
    nodes.Macro: "macros", nodes.CallBlock: "{% call %}", nodes.FilterBlock: "{% filter %}",
    nodes.Include: "{% include %}", nodes.Import: "{% import %}",
    nodes.FromImport: "{% from ... import %}", nodes.Extends: "{% extends %}",
    nodes.Block: "{% block %}", nodes.With: "{% with %}", nodes.Scope: "scopes",
    nodes.ExprStmt: "{% do %}", nodes.Tuple: "tuples", nodes.BinExpr: "arithmetic operators",
    nodes.UnaryExpr: "arithmetic operators", nodes.NSRef: "namespace references",
    nodes.Continue: "{% continue %}", nodes.Break: "{% break %}"}


@dataclasses.dataclass(frozen=True)
class Analysis:
    """What one template refers to (item keys; never values)."""

    required: frozenset[str]
    optional: frozenset[str]
    whole_data: bool

    def references(self) -> frozenset[str]:
        return self.required | self.optional


@dataclasses.dataclass
class _Walk:
    required: set[str] = dataclasses.field(default_factory=set)
    optional: set[str] = dataclasses.field(default_factory=set)
    whole_data: bool = False
    count: int = 0


def check(tree: nodes.Template) -> Analysis:
    """Refuse anything outside the language above; what the template refers to."""
    walk = _Walk()
    _visit(tree, walk, bound=frozenset(), depth=0, optional=False)
    return Analysis(required=frozenset(walk.required),
                    optional=frozenset(walk.optional - walk.required),
                    whole_data=walk.whole_data)


def _visit(node: nodes.Node, walk: _Walk, *, bound: frozenset[str], depth: int,
           optional: bool) -> None:
    walk.count += 1
    if walk.count > MAX_NODES:
        raise Refused(f"is too large (more than {MAX_NODES} parts)")
    if depth > MAX_DEPTH:
        raise Refused(f"is nested too deeply (more than {MAX_DEPTH} levels)")
    special = _SPECIAL.get(type(node))
    if special is not None:
        special(node, walk, bound=bound, depth=depth, optional=optional)
        return
    if not isinstance(node, _PLAIN):
        raise Refused(f"uses {_word(node)}, which templates do not allow")
    if isinstance(node, nodes.Compare):
        for op in node.ops:
            if op.op not in ("eq", "ne"):
                raise Refused("uses a comparison other than == and !=")
    if isinstance(node, nodes.Const):
        _check_const(node.value)
    for child in node.iter_child_nodes():
        _visit(child, walk, bound=bound, depth=depth + 1, optional=False)


def _word(node: nodes.Node) -> str:
    for kind, word in _WORDS.items():
        if isinstance(node, kind):
            return word
    return f"the {type(node).__name__} construct"


def _check_const(value: object) -> None:
    if value is None or isinstance(value, str | bool):
        return
    if isinstance(value, int) and abs(value) <= MAX_INT:
        return
    raise Refused("uses a literal other than text, a small whole number or a boolean")


def _name(node: nodes.Name, walk: _Walk, *, bound: frozenset[str], depth: int,
          optional: bool) -> None:
    if node.ctx != "load":
        raise Refused("assigns a name, which templates do not allow")
    if node.name == "data":
        walk.whole_data = True
        return
    _check_identifier(node.name)
    if node.name not in bound:
        (walk.optional if optional else walk.required).add(node.name)


def _check_identifier(name: str) -> None:
    if name.startswith("_") or name in RESERVED_NAMES:
        raise Refused(f"uses the reserved name {name!r}")


def _getitem(node: nodes.Getitem, walk: _Walk, *, bound: frozenset[str], depth: int,
             optional: bool) -> None:
    if not (isinstance(node.node, nodes.Name) and node.node.name == "data"):
        raise Refused("indexes something other than data (use data[\"key\"])")
    arg = node.arg
    if isinstance(arg, nodes.Const) and isinstance(arg.value, str):
        (walk.optional if optional else walk.required).add(arg.value)
    elif isinstance(arg, nodes.Name) and arg.ctx == "load" and arg.name in bound:
        walk.whole_data = True
    else:
        raise Refused("indexes data with something other than a quoted key or a loop variable")


def _getattr(node: nodes.Getattr, walk: _Walk, *, bound: frozenset[str], depth: int,
             optional: bool) -> None:
    if not (isinstance(node.node, nodes.Name) and node.node.name == "data"):
        raise Refused("uses attribute access, which templates do not allow (only data.key)")
    if node.attr.startswith("_"):
        raise Refused(f"uses the reserved name {node.attr!r}")
    (walk.optional if optional else walk.required).add(node.attr)


def _filter(node: nodes.Filter, walk: _Walk, *, bound: frozenset[str], depth: int,
            optional: bool) -> None:
    if node.name not in ALLOWED_FILTERS:
        raise Refused(f"uses the filter {node.name[:40]!r}, which is not one of "
                      f"{', '.join(sorted(ALLOWED_FILTERS))}")
    if node.dyn_args is not None or node.dyn_kwargs is not None:
        raise Refused("passes *args or **kwargs to a filter")
    if node.node is None:
        raise Refused("uses {% filter %}, which templates do not allow")
    _check_arguments(node)
    soft = node.name == "default"
    _visit(node.node, walk, bound=bound, depth=depth + 1, optional=soft)
    for child in [*node.args, *node.kwargs]:
        _visit(child, walk, bound=bound, depth=depth + 1, optional=False)


# name -> (parameter names, their literal types); default's fallback may be any expression.
_PARAMETERS: dict[str, tuple[tuple[str, type | tuple[type, ...]], ...]] = {
    "indent": (("width", int), ("first", bool)),
    "replace": (("old", str), ("new", str), ("count", int)),
    "join": (("separator", str),),
}


def _check_arguments(node: nodes.Filter) -> None:
    """Arguments are literals (so `_bounds` can size the result from the source alone)."""
    if node.name == "default":
        if node.kwargs or len(node.args) > 1:
            raise Refused("passes default more than one fallback")
        return
    params = _PARAMETERS.get(node.name, ())
    if len(node.args) > len(params):
        raise Refused(f"passes {node.name} too many arguments")
    given: dict[str, nodes.Expr] = dict(zip([p for p, _ in params], node.args, strict=False))
    names = {p for p, _ in params}
    for keyword in node.kwargs:
        kw: Any = keyword  # a nodes.Keyword (typed as Pair upstream)
        if kw.key not in names or kw.key in given:
            raise Refused(f"passes {node.name} an argument it does not take")
        given[kw.key] = kw.value
    types = dict(params)
    for name, value in given.items():
        if not isinstance(value, nodes.Const) or isinstance(value.value, bool) != (
                types[name] is bool) or not isinstance(value.value, types[name]):
            raise Refused(f"passes {node.name} a {name} that is not a literal of the right kind")
    _check_values(node.name, {k: v.value for k, v in given.items()  # type: ignore[attr-defined]
                              })
    if node.name == "replace" and not {"old", "new"} <= set(given):
        raise Refused("uses replace without both old and new text")
    if node.name == "join" and not isinstance(node.node, nodes.List):
        raise Refused("uses join on something other than a list literal (such as [user, host])")


def _check_values(name: str, values: dict[str, object]) -> None:
    width = values.get("width", 0)
    if name == "indent" and not (isinstance(width, int) and 0 <= width <= _filters.MAX_INDENT):
        raise Refused(f"uses indent with a width outside 0 to {_filters.MAX_INDENT}")
    count = values.get("count", 0)
    if isinstance(count, int) and count < 0:
        raise Refused("uses replace with a negative count")


def _for(node: nodes.For, walk: _Walk, *, bound: frozenset[str], depth: int,
         optional: bool) -> None:
    if not (isinstance(node.iter, nodes.Name) and node.iter.name == "data"):
        raise Refused("loops over something other than data ({% for key in data %})")
    if not isinstance(node.target, nodes.Name):
        raise Refused("loops with more than one variable ({% for key in data %})")
    if node.recursive or node.test is not None:
        raise Refused("uses a recursive or filtered loop")
    _check_identifier(node.target.name)
    inner = bound | {node.target.name}
    for child in node.body:
        _visit(child, walk, bound=inner, depth=depth + 1, optional=False)
    for child in node.else_:
        _visit(child, walk, bound=bound, depth=depth + 1, optional=False)


_SPECIAL: dict[type[nodes.Node], Callable[..., None]] = {
    nodes.Name: _name, nodes.Getitem: _getitem, nodes.Getattr: _getattr, nodes.Filter: _filter,
    nodes.For: _for}


def rewrite(tree: nodes.Template) -> nodes.Template:
    """Every `a ~ b` becomes `[a, b]|_sealops_concat` (capped like every other filter)."""
    for concat in list(tree.find_all(nodes.Concat)):
        parent_fields = _parent_of(tree, concat)
        replacement = nodes.Filter(nodes.List(list(concat.nodes)), _filters.CONCAT, [], [],
                                   None, None, lineno=concat.lineno)
        parent, field, index = parent_fields
        if index is None:
            setattr(parent, field, replacement)
        else:
            getattr(parent, field)[index] = replacement
    return tree


def _parent_of(tree: nodes.Node, target: nodes.Node) -> tuple[nodes.Node, str, int | None]:
    stack = [tree]
    while stack:
        node = stack.pop()
        for field, value in node.iter_fields():
            if value is target:
                return node, field, None
            if isinstance(value, list):
                for index, item in enumerate(value):
                    if item is target:
                        return node, field, index
        stack.extend(node.iter_child_nodes())
    raise AssertionError("a node found in the tree has no parent")


# --- kinds: every value's kind is known before rendering ------------------------------------------
# A branch (`a if c else b`, `a or b`) whose two sides had different kinds could make a filter or
# the output fail only when a value matches the author's guess: so both sides must have one kind,
# every filter gets the kind it takes, and only text, numbers and booleans are printed.

TEXT, NUMBER, BOOL, LIST, DICT, DATA = "text", "number", "bool", "list", "dict", "data"
_TEXT_FILTERS = frozenset({"b64enc", "b64dec", "trim", "upper", "lower", "indent", "replace"})
_PRINTABLE = frozenset({TEXT, NUMBER, BOOL})


def check_kinds(tree: nodes.Template) -> None:
    for node in tree.find_all(nodes.CondExpr):
        if node.expr2 is None:
            raise Refused("uses `a if c` without `else` (both sides are needed)")
    for output in tree.find_all(nodes.Output):
        for child in output.nodes:
            if _kind(child) not in _PRINTABLE:
                raise Refused("prints a list or mapping; encode it with toJson or toYaml")
    for test in [*tree.find_all(nodes.If)]:
        _kind(test.test)


def _kind(node: nodes.Node) -> str:
    if isinstance(node, nodes.TemplateData | nodes.Name | nodes.Getattr | nodes.Getitem):
        return DATA if isinstance(node, nodes.Name) and node.name == "data" else TEXT
    if isinstance(node, nodes.Const):
        return BOOL if isinstance(node.value, bool) else (
            TEXT if isinstance(node.value, str) else NUMBER)
    if isinstance(node, nodes.Filter):
        return _filter_kind(node)
    if isinstance(node, nodes.CondExpr):
        _kind(node.test)
        return _same(node.expr1, node.expr2, "the two sides of `a if c else b`")
    if isinstance(node, nodes.And | nodes.Or):
        return _same(node.left, node.right, "the two sides of `and`/`or`")
    return _literal_kind(node)


def _literal_kind(node: nodes.Node) -> str:
    if isinstance(node, nodes.Not | nodes.Compare):
        for child in node.iter_child_nodes():
            _kind(child.expr if isinstance(child, nodes.Operand) else child)
        return BOOL
    if isinstance(node, nodes.List):
        for item in node.items:
            _kind(item)
        return LIST
    if isinstance(node, nodes.Dict):
        for pair in node.items:
            if not (isinstance(pair.key, nodes.Const) and isinstance(pair.key.value, str)):
                raise Refused("uses a mapping key that is not quoted text")
            _kind(pair.value)
        return DICT
    raise Refused(f"uses the {type(node).__name__} construct, which templates do not allow")


def _same(left: nodes.Node | None, right: nodes.Node | None, what: str) -> str:
    kinds = {_kind(left) if left is not None else "none",
             _kind(right) if right is not None else "none"}
    if len(kinds) != 1:
        raise Refused(f"gives {what} different kinds ({' and '.join(sorted(kinds))})")
    return kinds.pop()


def _filter_kind(node: nodes.Filter) -> str:
    assert node.node is not None
    given = _kind(node.node)
    if node.name in _TEXT_FILTERS or node.name == "default":
        if given != TEXT:
            raise Refused(f"passes a {given} to {node.name}, which needs text")
        if node.name == "default" and node.args and _kind(node.args[0]) != TEXT:
            raise Refused("gives default a fallback that is not text")
        return TEXT
    if node.name in ("join", _filters.CONCAT):
        parts = node.node.items if isinstance(node.node, nodes.List) else []
        for part in parts:
            if _kind(part) not in _PRINTABLE:
                raise Refused("joins a list or mapping (encode it with toJson first)")
        return TEXT
    return TEXT  # toJson, toYaml: any kind in, text out
