"""The most a template can produce, computed from the parse tree and the items' sizes alone.

Why: whoever may write a SealedSecret (or VaultSecret) can read its status but maybe not its
Secret. If a render could fail or succeed depending on what the items *contain* (a size cap hit
because `replace` found many matches, a `b64dec` of text that is not base64, an `if` on a value
that leads to a failing branch), the author could learn a value one condition at a time. So
every limit is checked here, before rendering, on a worst case that depends only on the
template, the item names and the item sizes (public: a ciphertext's length gives its size
away), and rendering itself cannot fail on a value (`_filters` are total).

Sizes are UTF-8 bytes of the output (items round-trip byte for byte). Factors are worst cases:
upper/lower 3x (one character can become three), toJson 6x (\\u00XX), toYaml 12x plus
4x per nesting level (indentation of line breaks).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from jinja2 import nodes

from sealer.templating._values import Refused


@dataclasses.dataclass(frozen=True)
class Sizes:
    """What the bounds may know about the items: their names and sizes, never contents."""

    items: Mapping[str, int]

    @property
    def largest(self) -> int:
        return max(self.items.values(), default=0)

    @property
    def longest_key(self) -> int:
        return max((len(k.encode()) for k in self.items), default=0)


@dataclasses.dataclass
class Bound:
    output: int = 0
    iterations: int = 0


def of(tree: nodes.Template, sizes: Sizes) -> Bound:
    """The worst-case output size and loop iterations of a checked, rewritten template."""
    walker = _Walker(sizes, loop_vars=frozenset())
    out = walker.body(tree.body, repeat=1)
    return Bound(output=out, iterations=walker.iterations)


@dataclasses.dataclass
class _Walker:
    sizes: Sizes
    loop_vars: frozenset[str]
    iterations: int = 0

    def body(self, items: Sequence[nodes.Node], *, repeat: int) -> int:
        return sum(self.stmt(node, repeat=repeat) for node in items)

    def stmt(self, node: nodes.Node, *, repeat: int) -> int:
        if isinstance(node, nodes.Output):
            return sum(self.expr(child) for child in node.nodes)
        if isinstance(node, nodes.If):
            branches = [node.body, *(elif_.body for elif_ in node.elif_), node.else_]
            return max(self.body(b, repeat=repeat) for b in branches)
        if isinstance(node, nodes.For):
            count = len(self.sizes.items)
            self.iterations += repeat * count
            inner = _Walker(self.sizes, self.loop_vars | {node.target.name})  # type: ignore[attr-defined]
            once = inner.body(node.body, repeat=repeat * count)
            self.iterations += inner.iterations
            return count * once + self.body(node.else_, repeat=repeat)
        raise Refused(f"uses the {type(node).__name__} construct, which templates do not allow")

    def expr(self, node: nodes.Node) -> int:
        if isinstance(node, nodes.Filter):
            return self.filter(node)
        if isinstance(node, nodes.CondExpr):
            return max(self.expr(node.expr1), self.expr(node.expr2) if node.expr2 else 0)
        if isinstance(node, nodes.And | nodes.Or):
            return max(self.expr(node.left), self.expr(node.right))
        if isinstance(node, nodes.List):
            return sum(self.expr(i) for i in node.items) + 2 * len(node.items) + 2
        if isinstance(node, nodes.Dict):
            return sum(self.expr(p.key) + self.expr(p.value) + 4 for p in node.items) + 2
        return self.leaf(node)

    def leaf(self, node: nodes.Node) -> int:
        if isinstance(node, nodes.TemplateData):
            return _utf8(node.data)
        if isinstance(node, nodes.Const):
            return _utf8(node.value) if isinstance(node.value, str) else len(str(node.value))
        if isinstance(node, nodes.Name | nodes.Getattr | nodes.Getitem):
            return self.item(node)
        return 5  # not, comparisons: a boolean

    def item(self, node: nodes.Name | nodes.Getattr | nodes.Getitem) -> int:
        """An item by name, `data.key`, `data["key"]`, `data[k]` or a loop variable (a key)."""
        if isinstance(node, nodes.Name):
            if node.name == "data":
                return self.whole_data()
            return self.sizes.longest_key if node.name in self.loop_vars else \
                self.sizes.items.get(node.name, 0)
        if isinstance(node, nodes.Getattr):
            return self.sizes.items.get(node.attr, 0)
        arg = node.arg
        if isinstance(arg, nodes.Const) and isinstance(arg.value, str):
            return self.sizes.items.get(arg.value, 0)
        return self.sizes.largest

    def whole_data(self) -> int:
        return sum(len(k.encode()) + size + 8 for k, size in self.sizes.items.items()) + 2

    def filter(self, node: nodes.Filter) -> int:
        assert node.node is not None
        name, inner = node.name, node.node
        size = self.expr(inner)
        simple = {"b64enc": 4 * ((size + 2) // 3), "b64dec": 3 * ((size + 3) // 4),
                  "trim": size, "upper": 3 * size, "lower": 3 * size, "toJson": 6 * size + 2,
                  "toYaml": (12 + 4 * _depth(inner)) * size + 64}
        if name in simple:
            return simple[name]
        if name == "default":
            return max(size, max((self.expr(a) for a in node.args), default=0))
        if name == "indent":
            width = _const_arg(node, 0, "width", 4)
            return size + (width if isinstance(width, int) else 0) * (size + 1)
        if name == "replace":
            return self.replace(node, size)
        # join, and `~` (rewritten to a concat of a list literal): the parts and separators
        sep = _const_arg(node, 0, "separator", "") if name == "join" else ""
        parts = inner.items if isinstance(inner, nodes.List) else [inner]
        total = sum(self.expr(p) for p in parts)
        return total + _utf8(str(sep)) * max(len(parts) - 1, 0)

    def replace(self, node: nodes.Filter, size: int) -> int:
        old, new = _utf8(str(_const_arg(node, 0, "old", ""))), _utf8(
            str(_const_arg(node, 1, "new", "")))
        hits = size + 1 if old == 0 else size // old
        count = _const_arg(node, 2, "count", None)
        if isinstance(count, int):
            hits = min(hits, count)
        return size + hits * max(new - old, 0)


def _const_arg(node: nodes.Filter, index: int, name: str, default: object) -> object:
    """A filter argument `_rules` guaranteed to be a literal."""
    for kw in node.kwargs:
        if kw.key == name and isinstance(kw.value, nodes.Const):
            return kw.value.value
    if index < len(node.args) and isinstance(node.args[index], nodes.Const):
        return node.args[index].value  # type: ignore[attr-defined]
    return default


def _depth(node: nodes.Node) -> int:
    if isinstance(node, nodes.List | nodes.Dict):
        kids = [*node.iter_child_nodes()]
        return 1 + max((_depth(k) for k in kids), default=0)
    if isinstance(node, nodes.Pair):
        return _depth(node.value)
    return 1 if isinstance(node, nodes.Name) and node.name == "data" else 0


def _utf8(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))

