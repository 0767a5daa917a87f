"""What a template sees: the items as text (bytes that are not UTF-8 kept as lone surrogates),
all of them as the `data` mapping, and the per-render `Budget` that loops over `data` draw from.

`Refused` is the one internal exception: its message is written here or in `_filters`/`_rules`,
never taken from Jinja or from a value, so it can be shown as is (`_engine` maps everything else
to fixed text).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping


class Refused(Exception):
    """A rule of ours said no; the message names no value (TemplateError at the boundary)."""


@dataclasses.dataclass
class Budget:
    """Loop iterations and the deadline of one render (`tick` on every iteration)."""

    iterations: int
    deadline: float
    clock: Callable[[], float]

    def tick(self) -> None:
        self.iterations -= 1
        if self.iterations < 0:
            raise Refused("loops too often (the iteration budget is spent)")
        if self.clock() > self.deadline:
            raise Refused("took too long to render (the time budget is spent)")


Value = str


class Items(Mapping[str, Value]):
    """`data` in a template: every item by key; iterating it (sorted keys) ticks the budget."""

    def __init__(self, values: Mapping[str, Value], budget: Budget) -> None:
        self._values = dict(values)
        self._budget = budget

    def __getitem__(self, key: str) -> Value:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        for key in sorted(self._values):
            self._budget.tick()
            yield key

    def __len__(self) -> int:
        return len(self._values)

    def __str__(self) -> str:
        raise Refused("prints the whole data mapping; use data|toJson or data[\"key\"]")

    def __repr__(self) -> str:
        return f"<items {sorted(self._values)}>"


def as_value(raw: bytes) -> Value:
    """The item as text; bytes that are not UTF-8 survive as lone surrogates and are written
    back byte for byte (`as_bytes`), so a binary item never makes a render fail."""
    return raw.decode("utf-8", "surrogateescape")


def as_bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")
