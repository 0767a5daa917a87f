"""The one way sealops reads YAML or JSON text, and the one way it writes it back.

Used by `seal` (input Secrets, SealedSecret files, `seal check`) and by the GitOps renderer.
Reading happens in two passes over a `yaml.CSafeLoader` subclass (`SafeLoader` when libyaml is
missing; both behave the same):

1. an event pass (`sealer.manifests._yamlguard`) that refuses, before anything is composed or
   expanded: anchors and aliases (alias bombs, CVE-2019-11253), explicit tags other than the
   core schema's str/int/float/bool/null/map/seq (`!!python/*`, `!vault`, `!!binary`,
   `!!timestamp`, ...), nesting deeper than `max_depth`, more than `max_documents` documents and
   lone surrogates written as escapes;
2. a compose-and-construct pass whose `construct_mapping` refuses duplicate keys (PyYAML keeps
   the last one silently, pyyaml#165) and merge keys, and in which any value a constructor
   cannot build (`2024-13-45`, a 5000-digit int) becomes a `ManifestError` with its position.

The raw bytes are checked first: size cap (before parsing), byte-order marks, NUL, invalid
UTF-8 (overlong forms, encoded surrogates).

`Dialect` says what a caller accepts beyond that strict default. `KUBECTL` (used by `seal
check`, which must judge what kubectl would apply, not what we would) resolves anchors, aliases
and merge keys (`<<`) - each alias counted as if expanded, so an alias bomb is still refused,
from its counts - decodes text that starts with a UTF-8, UTF-16 or UTF-32 byte-order mark, and
skips documents that are not mappings (they cannot be Kubernetes objects).

Plain scalars keep YAML 1.1 typing (`no` is False, `0123` is 83): callers that need strings,
like a Secret's `stringData`, refuse non-`str` values instead of converting them. Error
messages carry the source, line and column and a short problem text, never the document's
content.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import yaml

from sealer import errors
from sealer.manifests import _yamlguard

__all__ = [
    "KUBECTL",
    "STRICT",
    "Dialect",
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
# No alias-free text of MAX_BYTES has more nodes than this: only alias expansion can reach it.
MAX_EXPANDED_NODES = MAX_BYTES

_CORE = "tag:yaml.org,2002:"
_MERGE_TAG = _CORE + "merge"
# UTF-32 first: its little-endian mark starts with UTF-16's.
_BOMS = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
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


_Refused = _yamlguard.Refused
_show = _yamlguard.show
_Pairs = list[tuple[yaml.Node, yaml.Node]]


@dataclass(frozen=True)
class Dialect:
    """What a reader accepts beyond the strict default (see the module docstring)."""

    aliases: bool = False  # anchors, aliases and merge keys, expansion counted and capped
    byte_order_marks: bool = False  # decode UTF-8/16/32 text that starts with a BOM
    any_document: bool = False  # skip documents that are not mappings instead of refusing
    max_nodes: int = MAX_EXPANDED_NODES


STRICT = Dialect()
KUBECTL = Dialect(aliases=True, byte_order_marks=True, any_document=True)


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    """SafeLoader with duplicate-key and merge-key refusal and positioned construction errors."""

    merges = False

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError, TypeError) as exc:
            raise _Refused(f"invalid {_short_tag(node.tag)} value", node.start_mark) from exc

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict[Any, Any]:
        if not isinstance(node, yaml.MappingNode):
            raise _Refused("expected a mapping", node.start_mark)
        inherited, explicit = self._split(node)
        mapping: dict[Any, Any] = {}
        for key_node, value_node in inherited:  # lowest precedence first: later ones win
            mapping[self._key(key_node, deep=deep)] = self.construct_object(value_node, deep=deep)
        seen: set[Any] = set()
        for key_node, value_node in explicit:
            key = self._key(key_node, deep=deep)
            if key in seen:
                raise _Refused(f"duplicate key {_show(key)}", key_node.start_mark)
            seen.add(key)
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping

    def _key(self, key_node: yaml.Node, *, deep: bool) -> Any:
        key = self.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:
            raise _Refused("a mapping key must be a scalar", key_node.start_mark) from None
        return key

    def _split(self, node: yaml.MappingNode) -> tuple[_Pairs, _Pairs]:
        """(pairs merged in by `<<`, lowest precedence first; the node's own pairs)."""
        inherited: _Pairs = []
        explicit: _Pairs = []
        for key_node, value_node in node.value:
            if key_node.tag != _MERGE_TAG:
                explicit.append((key_node, value_node))
                continue
            if not self.merges:
                raise _Refused("merge keys (<<) are not supported", key_node.start_mark)
            sequence = isinstance(value_node, yaml.SequenceNode)
            sources = value_node.value if sequence else [value_node]
            for source in reversed(sources):  # the first mapping of a list takes precedence
                if not isinstance(source, yaml.MappingNode):
                    raise _Refused("a merge key (<<) needs a mapping or a list of mappings",
                                   source.start_mark)
                below, own = self._split(source)
                inherited.extend(below + own)
        return inherited, explicit

    def construct_yaml_value(self, node: yaml.ScalarNode) -> str:
        # A plain `=` resolves to the YAML 1.1 "value" tag, which SafeLoader cannot construct.
        return str(self.construct_scalar(node))


class _MergingLoader(_Loader):
    """`_Loader` for `Dialect.aliases`: merge keys are resolved as kubectl resolves them."""

    merges = True


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
    dialect: Dialect = STRICT,
) -> list[Document]:
    """Like `load_documents`, keeping each document's node tree for line numbers.

    `dialect` widens what is accepted (`KUBECTL` for `seal check`); the default is `STRICT`.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"data must be bytes, not {type(data).__name__}")
    text = _decode(bytes(data), source=source, max_bytes=max_bytes, dialect=dialect)
    loader = _MergingLoader if dialect.aliases else _Loader
    try:
        _check_events(text, loader=loader, dialect=dialect, max_documents=max_documents,
                      max_depth=max_depth)
        return list(_construct(text, loader=loader, dialect=dialect, source=source))
    except _Refused as exc:
        raise _located(exc.problem, exc.mark, source=source) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        if "duplicate anchor" in (exc.context or ""):
            problem = "duplicate anchor"  # PyYAML's problem text is just "second occurrence"
        raise _located(problem, mark, source=source) from None
    except yaml.reader.ReaderError as exc:
        # libyaml reports a byte offset into the UTF-8 form of `text`
        where = _position(text.encode("utf-8", "surrogatepass"), max(0, exc.position))
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


def _decode(data: bytes, *, source: str, max_bytes: int, dialect: Dialect) -> str:
    if len(data) > max_bytes:
        raise ParseError(f"{len(data)} bytes exceed the limit of {max_bytes} bytes", source=source)
    for bom, codec in _BOMS:
        if data.startswith(bom):
            if not dialect.byte_order_marks:
                raise ParseError(
                    "byte-order mark found; save the file as UTF-8 without a BOM",
                    source=source,
                    line=1,
                    column=1,
                )
            return _decode_marked(data[len(bom) :], codec=codec, source=source)
    nul = data.find(b"\x00")
    if nul >= 0:
        raise ParseError("NUL byte found", source=source, **_position(data, nul))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError("invalid UTF-8", source=source, **_position(data, exc.start)) from None


def _decode_marked(data: bytes, *, codec: str, source: str) -> str:
    """Text after a byte-order mark, in the encoding the mark names (strict: no surrogates)."""
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        raise ParseError(f"invalid {codec.upper()} after its byte-order mark",
                         source=source) from None
    nul = text.find("\x00")
    if nul >= 0:
        line_start = text.rfind("\n", 0, nul) + 1
        where = {"line": text.count("\n", 0, nul) + 1, "column": nul - line_start + 1}
        raise ParseError("NUL character found", source=source, **where)
    return text


def _position(data: bytes, offset: int) -> dict[str, int]:
    line_start = data.rfind(b"\n", 0, offset) + 1
    return {"line": data.count(b"\n", 0, offset) + 1, "column": offset - line_start + 1}


def _check_events(
    text: str, *, loader: type[_Loader], dialect: Dialect, max_documents: int, max_depth: int
) -> None:
    events = loader(text)
    try:
        _yamlguard.check_events(events, max_documents=max_documents, max_depth=max_depth,
                                max_nodes=dialect.max_nodes, aliases=dialect.aliases)
    finally:
        events.dispose()


def _construct(
    text: str, *, loader: type[_Loader], dialect: Dialect, source: str
) -> Iterator[Document]:
    nodes = loader(text)
    try:
        while nodes.check_node():
            node = nodes.get_node()
            value = nodes.construct_document(node)
            if value is None:
                continue
            if not isinstance(node, yaml.MappingNode) or not isinstance(value, dict):
                if dialect.any_document:
                    continue
                raise _Refused("a document must be a mapping (an object)", node.start_mark)
            yield Document(value=value, node=node, source=source)
    finally:
        nodes.dispose()


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
