"""`seal check`: find plaintext Secrets and malformed sealed values in YAML/JSON files.

Owns the walk over files and directories (`*.yaml`, `*.yml`, `*.json`; hidden directories
skipped; symlinks not followed), the findings (file, line from the YAML node marks, object,
item key, message - never a value) and the envelope sanity check that needs no key: strict
canonical base64, a plausible v1 length prefix or a known v2 magic/version/suite, enough bytes.
`sealer.manifests.rewrite` replaces offending Secret documents for `check --fix`.
Called by the CLI and the pre-commit hook.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from sealer import errors
from sealer.manifests import safeyaml

__all__ = ["Finding", "check_data", "check_paths", "envelope_problem", "iter_files", "objects"]

SUFFIXES = frozenset({".yaml", ".yml", ".json"})
MAX_B64_CHARS = 1_572_864  # keyring.MAX_B64_CHARS, without importing cryptography here
_V2_MAGIC = b"SO\x02"
_V2_HEADER_LEN = 12
_V2_ENC_LEN = {1: 32, 2: 1120}  # suite -> HPKE enc length (see sealer.crypto.envelope)
_TAG_LEN = 16
_MENTIONS_SECRET = re.compile(rb"""["']?kind["']?\s*:\s*["']?(?:Sealed)?Secret\b""")


@dataclasses.dataclass(frozen=True)
class Finding:
    """One problem; `str()` is `file:line: kind ns/name item 'key': message`."""

    file: str
    line: int
    object: str
    item: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:" if self.line else f"{self.file}:"
        what = f" {self.object}" if self.object else ""
        item = f" item {self.item!a}" if self.item is not None else ""
        return f"{where}{what}{item}: {self.message}"


def iter_files(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """Files named directly, and `*.yaml`/`*.yml`/`*.json` below directories, sorted."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from _walk(path)
        elif path.is_file():
            yield path
        else:
            raise errors.UsageError(f"{path}: no such file or directory")


def _walk(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            path = Path(dirpath, name)
            if path.suffix in SUFFIXES and not name.startswith(".") and not path.is_symlink():
                yield path


def check_paths(
    paths: Iterable[str | os.PathLike[str]], *, max_bytes: int = safeyaml.MAX_BYTES
) -> list[Finding]:
    """Findings for every file in `paths` (see `iter_files`)."""
    findings: list[Finding] = []
    for path in iter_files(paths):
        findings.extend(_check_file(path, max_bytes=max_bytes))
    return findings


def _check_file(path: Path, *, max_bytes: int) -> list[Finding]:
    with path.open("rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        head = handle.read(max_bytes + 1)
    if size > max_bytes or len(head) > max_bytes:
        if not _MENTIONS_SECRET.search(head):
            return []
        message = f"cannot check: {size} bytes exceed the limit of {max_bytes} bytes"
        return [Finding(file=str(path), line=0, object="", item=None, message=message)]
    return check_data(head, source=str(path), max_bytes=max_bytes)


def check_data(data: bytes, *, source: str, max_bytes: int = safeyaml.MAX_BYTES) -> list[Finding]:
    """Findings for one file's bytes.

    A file that cannot be read safely is a finding only when it mentions a Secret kind (other
    YAML, with anchors for instance, is not ours to judge).
    """
    try:
        documents = safeyaml.load_located(data, source=source, max_bytes=max_bytes)
    except safeyaml.ParseError as exc:
        if not _MENTIONS_SECRET.search(data):
            return []
        message = f"cannot check: {exc}"
        return [Finding(file=source, line=exc.line, object="", item=None, message=message)]
    findings: list[Finding] = []
    for doc in documents:
        for path, obj in objects(doc.value):
            findings.extend(_check_object(obj, doc=doc, path=path))
    return findings


def objects(
    value: Mapping[str, Any],
) -> Iterator[tuple[tuple[str | int, ...], Mapping[str, Any]]]:
    """(path, object) for the document itself, or for each item of a `kind: List` / `*List`."""
    kind = value.get("kind")
    items = value.get("items")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(items, list):
        for index, item in enumerate(items):
            if isinstance(item, Mapping):
                yield ("items", index), item
    else:
        yield (), value


def _check_object(
    obj: Mapping[str, Any], *, doc: safeyaml.Document, path: tuple[str | int, ...]
) -> Iterator[Finding]:
    kind = obj.get("kind")
    if kind == "Secret":
        described = f"Secret {_ref(obj)}"
        for field in ("data", "stringData"):
            items = obj.get(field)
            for key in items if isinstance(items, Mapping) else ():
                yield Finding(
                    file=doc.source,
                    line=doc.line_of(*path, field, str(key)),
                    object=described,
                    item=str(key),
                    message="plaintext Secret value; seal it with `seal secret` "
                    "(or `seal check --fix --cert CERT`)",
                )
    elif kind == "SealedSecret":
        described = f"SealedSecret {_ref(obj)}"
        spec = obj.get("spec")
        items = spec.get("encryptedData") if isinstance(spec, Mapping) else None
        for key, value in items.items() if isinstance(items, Mapping) else ():
            problem = envelope_problem(value)
            if problem is not None:
                yield Finding(
                    file=doc.source,
                    line=doc.line_of(*path, "spec", "encryptedData", str(key)),
                    object=described,
                    item=str(key),
                    message=problem,
                )


def _ref(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata")
    meta = meta if isinstance(meta, Mapping) else {}
    name, namespace = meta.get("name"), meta.get("namespace")
    name = _printable(name) if isinstance(name, str) and name else "<unnamed>"
    if isinstance(namespace, str) and namespace:
        return f"{_printable(namespace)}/{name}"
    return name


def _printable(text: str) -> str:
    return text if text.isascii() and text.isprintable() and len(text) <= 253 else ascii(text)[:80]


def envelope_problem(value: object) -> str | None:
    """Why `value` cannot be an envelope (checked without a key), or None if it looks fine."""
    if not isinstance(value, str):
        return "sealed value is not a string"
    if len(value) > MAX_B64_CHARS:
        return f"sealed value is {len(value)} characters, over the limit of {MAX_B64_CHARS}"
    try:
        blob = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        return "sealed value is not valid base64"
    if base64.b64encode(blob).decode("ascii") != value:
        return "sealed value is not canonical base64"
    if blob.startswith(b"SO"):
        return _v2_problem(blob)
    return _v1_problem(blob)


def _v2_problem(blob: bytes) -> str | None:
    if not blob.startswith(_V2_MAGIC):
        return "sealed value has an unknown envelope version"
    if len(blob) < _V2_HEADER_LEN:
        return "sealed value is truncated"
    enc_len = _V2_ENC_LEN.get(blob[3])
    if enc_len is None:
        return "sealed value has an unknown suite"
    if len(blob) < _V2_HEADER_LEN + enc_len + _TAG_LEN:
        return "sealed value is truncated"
    return None


def _v1_problem(blob: bytes) -> str | None:
    if len(blob) < 2:
        return "sealed value is truncated"
    wrapped = int.from_bytes(blob[:2], "big")
    if not 256 <= wrapped <= 2048:  # RSA-2048 .. RSA-16384
        return "sealed value has an implausible v1 length prefix"
    if len(blob) < 2 + wrapped + _TAG_LEN:
        return "sealed value is truncated"
    return None
