"""The one way sealops reads YAML or JSON text, and the one way it writes it back.

Used by `seal` (input Secrets, SealedSecret files, `seal check`) and by the GitOps renderer.
Reading happens in two passes over a `yaml.CSafeLoader` subclass (`SafeLoader` when libyaml is
missing; both behave the same):

1. an event pass that refuses, before anything is composed or expanded: anchors and aliases
   (alias bombs, CVE-2019-11253), explicit tags other than the core schema's str/int/float/bool/
   null/map/seq (`!!python/*`, `!vault`, `!!binary`, `!!timestamp`, ...), nesting deeper than
   `max_depth`, more than `max_documents` documents and lone surrogates written as escapes;
2. a compose-and-construct pass whose `construct_mapping` refuses duplicate keys (PyYAML keeps
   the last one silently, pyyaml#165) and merge keys, and in which any value a constructor
   cannot build (`2024-13-45`, a 5000-digit int) becomes a `ManifestError` with its position.

The raw bytes are checked first: size cap (before parsing), byte-order marks, NUL, invalid
UTF-8 (overlong forms, encoded surrogates). Plain scalars keep YAML 1.1 typing (`no` is False,
`0123` is 83): callers that need strings, like a Secret's `stringData`, refuse non-`str` values
instead of converting them. Error messages carry the source, line and column and a short
problem text, never the document's content.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import yaml

from sealer import errors

__all__ = [
    "Document",
    "ParseError",
    "dump",
    "load_documents",
    "load_located",
    "load_one",
    "split_lines",
]

MAX_BYTES = 4 << 20
MAX_DOCUMENTS = 10_000
MAX_DEPTH = 100

_CORE = "tag:yaml.org,2002:"
_ALLOWED_TAGS = frozenset(_CORE + t for t in ("str", "int", "float", "bool", "null", "map", "seq"))
_MERGE_TAG = _CORE + "merge"
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")
_SURROGATE = re.compile("[\ud800-\udfff]")
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BaseDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_BaseDumper):  # type: ignore[misc,valid-type]
    """SafeDumper that writes a shared object twice instead of as an anchor and alias."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


class ParseError(errors.ManifestError):
    """Text that is not acceptable YAML/JSON, with where: 1-based line and column (0: unknown)."""

    def __init__(self, problem: str, *, source: str, line: int = 0, column: int = 0) -> None:
        self.source = source
        self.line = line
        self.column = column
        where = source if not line else f"{source}:{line}" + (f":{column}" if column else "")
        super().__init__(f"{problem} at {where}")


class _Refused(Exception):
    """Raised inside the constructor; turned into `ParseError` where the source is known."""

    def __init__(self, problem: str, mark: Any) -> None:
        super().__init__(problem)
        self.problem = problem
        self.mark = mark


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    """SafeLoader with duplicate-key and merge-key refusal and positioned construction errors."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError, TypeError) as exc:
            raise _Refused(f"invalid {_short_tag(node.tag)} value", node.start_mark) from exc

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict[Any, Any]:
        if not isinstance(node, yaml.MappingNode):
            raise _Refused("expected a mapping", node.start_mark)
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                raise _Refused("merge keys (<<) are not supported", key_node.start_mark)
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in mapping
            except TypeError:
                raise _Refused("a mapping key must be a scalar", key_node.start_mark) from None
            if duplicate:
                raise _Refused(f"duplicate key {_show(key)}", key_node.start_mark)
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping

    def construct_yaml_value(self, node: yaml.ScalarNode) -> str:
        # A plain `=` resolves to the YAML 1.1 "value" tag, which SafeLoader cannot construct.
        return str(self.construct_scalar(node))


_Loader.add_constructor(_CORE + "value", _Loader.construct_yaml_value)


@dataclass(frozen=True, eq=False)
class Document:
    """One loaded document: its value and its node tree, for line numbers (`seal check`)."""

    value: dict[str, Any]
    node: yaml.MappingNode
    source: str

    @property
    def line(self) -> int:
        """1-based line where the document's top-level mapping starts."""
        return int(self.node.start_mark.line) + 1

    @property
    def end_line(self) -> int:
        """1-based line after the document's last line (exclusive end)."""
        mark = self.node.end_mark
        return int(mark.line) + (2 if mark.column else 1)

    def line_of(self, *path: str | int) -> int:
        """The line of the deepest node along `path` that exists (keys, then list indexes)."""
        node: yaml.Node = self.node
        line = int(node.start_mark.line) + 1
        for step in path:
            child = _child(node, step)
            if child is None:
                break
            key_node, node = child
            line = int(key_node.start_mark.line) + 1
        return line


def load_documents(
    data: bytes,
    *,
    source: str,
    max_bytes: int = MAX_BYTES,
    max_documents: int = MAX_DOCUMENTS,
    max_depth: int = MAX_DEPTH,
) -> list[dict[str, Any]]:
    """Every non-empty document of a YAML (or JSON) stream; each must be a mapping.

    Raises `ParseError` (a `ManifestError`) naming `source`, line and column.
    """
    docs = load_located(
        data, source=source, max_bytes=max_bytes, max_documents=max_documents, max_depth=max_depth
    )
    return [doc.value for doc in docs]


def load_one(
    data: bytes,
    *,
    source: str,
    max_bytes: int = MAX_BYTES,
    max_documents: int = MAX_DOCUMENTS,
    max_depth: int = MAX_DEPTH,
) -> dict[str, Any]:
    """The single non-empty document of `data`; zero or several are a `ManifestError`."""
    docs = load_documents(
        data, source=source, max_bytes=max_bytes, max_documents=max_documents, max_depth=max_depth
    )
    if len(docs) != 1:
        raise ParseError(f"expected exactly one document, found {len(docs)}", source=source)
    return docs[0]


def load_located(
    data: bytes,
    *,
    source: str,
    max_bytes: int = MAX_BYTES,
    max_documents: int = MAX_DOCUMENTS,
    max_depth: int = MAX_DEPTH,
) -> list[Document]:
    """Like `load_documents`, keeping each document's node tree for line numbers."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"data must be bytes, not {type(data).__name__}")
    text = _decode(bytes(data), source=source, max_bytes=max_bytes)
    try:
        _check_events(text, max_documents=max_documents, max_depth=max_depth)
        return list(_construct(text, source=source))
    except _Refused as exc:
        raise _located(exc.problem, exc.mark, source=source) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise _located(exc.problem or exc.context or "invalid YAML", mark, source=source) from None
    except yaml.reader.ReaderError as exc:
        where = _position(bytes(data), max(0, exc.position))  # libyaml: a byte offset
        problem = f"unacceptable character #x{exc.character:04x}"
        raise ParseError(problem, source=source, **where) from None
    except yaml.YAMLError:
        raise ParseError("invalid YAML", source=source) from None
    except RecursionError:
        raise ParseError("document is nested too deeply", source=source) from None


def dump(documents: list[dict[str, Any]], *, fmt: Literal["yaml", "json"] = "yaml") -> str:
    """Deterministic text for `documents`: key order as built, `---` between YAML documents.

    JSON output holds exactly one document (a JSON file has one top-level value).
    """
    if fmt == "json":
        import json  # lazy: `seal secret` writes YAML by default

        if len(documents) != 1:
            raise ValueError("JSON output holds exactly one document")
        return json.dumps(documents[0], indent=2, ensure_ascii=False) + "\n"
    if fmt != "yaml":
        raise ValueError(f"unknown format {fmt!r}")
    return str(
        yaml.dump_all(
            documents,
            Dumper=_Dumper,
            sort_keys=False,
            default_flow_style=False,
            allow_unicode=True,
            explicit_start=len(documents) > 1,
            width=1 << 16,
        )
    )


def split_lines(text: str) -> list[str]:
    """`text` split at YAML line breaks, each line keeping its break (matches node marks)."""
    lines: list[str] = []
    start = 0
    for match in _LINE_BREAK.finditer(text):
        lines.append(text[start : match.end()])
        start = match.end()
    if start < len(text):
        lines.append(text[start:])
    return lines


# --- internals ----------------------------------------------------------------------------------


def _decode(data: bytes, *, source: str, max_bytes: int) -> str:
    if len(data) > max_bytes:
        raise ParseError(f"{len(data)} bytes exceed the limit of {max_bytes} bytes", source=source)
    if data.startswith(_BOMS):
        raise ParseError(
            "byte-order mark found; save the file as UTF-8 without a BOM",
            source=source,
            line=1,
            column=1,
        )
    nul = data.find(b"\x00")
    if nul >= 0:
        raise ParseError("NUL byte found", source=source, **_position(data, nul))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError("invalid UTF-8", source=source, **_position(data, exc.start)) from None


def _position(data: bytes, offset: int) -> dict[str, int]:
    line_start = data.rfind(b"\n", 0, offset) + 1
    return {"line": data.count(b"\n", 0, offset) + 1, "column": offset - line_start + 1}


def _check_events(text: str, *, max_documents: int, max_depth: int) -> None:
    loader = _Loader(text)
    try:
        depth = documents = 0
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > max_documents:
                    raise _Refused(f"more than {max_documents} documents", event.start_mark)
            elif isinstance(event, yaml.AliasEvent):
                raise _Refused("aliases are not allowed", event.start_mark)
            elif isinstance(event, yaml.NodeEvent):
                _check_node_event(event)
                if isinstance(event, yaml.CollectionStartEvent):
                    depth += 1
                    if depth > max_depth:
                        raise _Refused(f"nesting deeper than {max_depth}", event.start_mark)
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    finally:
        loader.dispose()


def _check_node_event(event: yaml.NodeEvent) -> None:
    if event.anchor is not None:
        raise _Refused("anchors are not allowed", event.start_mark)
    tag = getattr(event, "tag", None)
    if tag is not None and tag not in _ALLOWED_TAGS:
        raise _Refused(f"tag {_show(tag)} is not allowed", event.start_mark)
    if isinstance(event, yaml.ScalarEvent) and _SURROGATE.search(event.value):
        raise _Refused("lone surrogate in a string", event.start_mark)


def _construct(text: str, *, source: str) -> Iterator[Document]:
    loader = _Loader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            value = loader.construct_document(node)
            if value is None:
                continue
            if not isinstance(node, yaml.MappingNode) or not isinstance(value, dict):
                raise _Refused("a document must be a mapping (an object)", node.start_mark)
            yield Document(value=value, node=node, source=source)
    finally:
        loader.dispose()


def _child(node: yaml.Node, step: str | int) -> tuple[yaml.Node, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode) and isinstance(step, str):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == step:
                return key_node, value_node
    if (
        isinstance(node, yaml.SequenceNode)
        and isinstance(step, int)
        and 0 <= step < len(node.value)
    ):
        item = node.value[step]
        return item, item
    return None


def _located(problem: str, mark: Any, *, source: str) -> ParseError:
    if mark is None:
        return ParseError(problem, source=source)
    return ParseError(problem, source=source, line=int(mark.line) + 1, column=int(mark.column) + 1)


def _short_tag(tag: str) -> str:
    return tag.removeprefix(_CORE)


def _show(value: object) -> str:
    text = ascii(value)
    return text if len(text) <= 64 else text[:60] + "...'"
