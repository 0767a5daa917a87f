"""The event pass of `sealer.manifests.safeyaml`: what is refused before anything is composed.

Walks the parser's events once and refuses, before a node tree exists: more documents than the
cap, nesting deeper than the cap, explicit tags outside the core schema, lone surrogates written
as escapes, and anchors/aliases. Callers that must see what kubectl sees (`seal check`) may allow
anchors and aliases: then every alias is counted as if it were expanded (nodes and depth), so an
alias bomb (CVE-2019-11253, 9 levels x 9 aliases = 387 million nodes in 306 bytes) is refused
from its counts, in time linear in the text; an alias to an anchor that is still open (a
recursive structure) is refused too. Only `safeyaml` calls this module.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import yaml

__all__ = ["Refused", "check_events"]

_CORE = "tag:yaml.org,2002:"
_ALLOWED_TAGS = frozenset(_CORE + t for t in ("str", "int", "float", "bool", "null", "map", "seq"))
_SURROGATE = re.compile("[\ud800-\udfff]")


class Refused(Exception):
    """A problem with its parser mark; `safeyaml` turns it into a positioned `ParseError`."""

    def __init__(self, problem: str, mark: Any) -> None:
        super().__init__(problem)
        self.problem = problem
        self.mark = mark


@dataclasses.dataclass
class _Open:
    """A collection whose end event has not come yet."""

    anchor: str | None
    nodes_before: int
    height: int = 1  # collection levels in this subtree, itself included


class _Expansion:
    """Nodes and depth of the current document as if every alias were expanded."""

    def __init__(self, *, max_nodes: int, max_depth: int) -> None:
        self.max_nodes = max_nodes
        self.max_depth = max_depth
        self.nodes = 0
        self.anchors: dict[str, tuple[int, int]] = {}  # anchor -> (nodes, height), closed only
        self.open: list[_Open] = []

    def start_document(self) -> None:
        self.nodes = 0
        self.anchors.clear()
        self.open.clear()

    def scalar(self, event: yaml.ScalarEvent) -> None:
        self._add(1, 0, event)
        if event.anchor is not None:
            self.anchors[event.anchor] = (1, 0)

    def start(self, event: yaml.CollectionStartEvent) -> None:
        if event.anchor is not None:
            self.anchors.pop(event.anchor, None)  # an alias inside would be recursive
        self._add(1, 1, event)
        self.open.append(_Open(anchor=event.anchor, nodes_before=self.nodes - 1))

    def end(self) -> None:
        done = self.open.pop()
        if done.anchor is not None:
            self.anchors[done.anchor] = (self.nodes - done.nodes_before, done.height)
        if self.open:
            self.open[-1].height = max(self.open[-1].height, done.height + 1)

    def alias(self, event: yaml.AliasEvent) -> None:
        found = self.anchors.get(str(event.anchor))
        if found is None:
            if any(frame.anchor == event.anchor for frame in self.open):
                raise Refused("recursive alias", event.start_mark)
            raise Refused("alias to an undefined anchor", event.start_mark)
        nodes, height = found
        self._add(nodes, height, event)
        if self.open:
            self.open[-1].height = max(self.open[-1].height, height + 1)

    def _add(self, nodes: int, height: int, event: yaml.Event) -> None:
        self.nodes += nodes
        if self.nodes > self.max_nodes:
            raise Refused(
                f"more than {self.max_nodes} nodes once aliases are expanded", event.start_mark
            )
        if len(self.open) + height > self.max_depth:
            raise Refused(f"nesting deeper than {self.max_depth}", event.start_mark)


def check_events(
    loader: Any, *, max_documents: int, max_depth: int, max_nodes: int, aliases: bool
) -> None:
    """Consume `loader`'s events, raising `Refused` at the first one that is not acceptable."""
    expansion = _Expansion(max_nodes=max_nodes, max_depth=max_depth)
    documents = 0
    while loader.check_event():
        event = loader.get_event()
        if isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents > max_documents:
                raise Refused(f"more than {max_documents} documents", event.start_mark)
            expansion.start_document()
        elif isinstance(event, yaml.AliasEvent):
            if not aliases:
                raise Refused("aliases are not allowed", event.start_mark)
            expansion.alias(event)
        elif isinstance(event, yaml.NodeEvent):
            _check_node_event(event, aliases=aliases)
            if isinstance(event, yaml.CollectionStartEvent):
                expansion.start(event)
            elif isinstance(event, yaml.ScalarEvent):
                expansion.scalar(event)
        elif isinstance(event, yaml.CollectionEndEvent):
            expansion.end()


def _check_node_event(event: yaml.NodeEvent, *, aliases: bool) -> None:
    if event.anchor is not None and not aliases:
        raise Refused("anchors are not allowed", event.start_mark)
    tag = getattr(event, "tag", None)
    if tag is not None and tag not in _ALLOWED_TAGS:
        raise Refused(f"tag {show(tag)} is not allowed", event.start_mark)
    if isinstance(event, yaml.ScalarEvent) and _SURROGATE.search(event.value):
        raise Refused("lone surrogate in a string", event.start_mark)


def show(value: object) -> str:
    """`value` for an error message: ascii-escaped and cut short."""
    text = ascii(value)
    return text if len(text) <= 64 else text[:60] + "...'"
