"""`seal check`: find plaintext Secrets and malformed sealed values in YAML/JSON files.

Owns the walk over files and directories (`*.yaml`, `*.yml`, `*.json` in any letter case;
hidden directories skipped; symlinks below a directory not followed, a path named directly is),
the findings (file, line from the YAML node marks, object, item key, message - never a value)
and the envelope sanity check that needs no key: strict canonical base64, a plausible v1 length
prefix or a known v2 magic/version/suite, enough bytes.

`template.data` of SealedSecrets and VaultSecrets must hold templates that read a sealed item
(`sealer.templating.policy`); a literal there is plaintext in Git and a finding.

The verdict comes from the parsed documents of every file, never from a text pre-filter: a file
is read as kubectl would read it (`safeyaml.KUBECTL`: anchors, aliases and merge keys resolved,
with alias expansion capped; UTF-16/32 text with a byte-order mark decoded). A file that cannot
be parsed, cannot be read or is larger than the cap is itself a finding, since it may hide a
Secret. Special files (FIFOs, devices, sockets) are never opened: they are stat'ed first,
skipped and reported as `Skipped`; regular files are opened with O_NONBLOCK and checked again
with fstat, so a file swapped for a FIFO meanwhile cannot block the walk.
`sealer.manifests.rewrite` replaces offending Secret documents for `check --fix`.
Called by the CLI and the pre-commit hook.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import os
import stat
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from sealer import errors
from sealer.manifests import safeyaml

__all__ = [
    "Finding",
    "Report",
    "Skipped",
    "check_data",
    "check_paths",
    "envelope_problem",
    "iter_files",
    "objects",
    "scan",
]

SUFFIXES = frozenset({".yaml", ".yml", ".json"})
MAX_B64_CHARS = 1_572_864  # keyring.MAX_B64_CHARS, without importing cryptography here
_V2_MAGIC = b"SO\x02"
_V2_HEADER_LEN = 12
_V2_ENC_LEN = {1: 32, 2: 1120}  # suite -> HPKE enc length (see sealer.crypto.envelope)
_TAG_LEN = 16
_FILE_KINDS = (
    (stat.S_ISFIFO, "a FIFO, not a regular file"),
    (stat.S_ISCHR, "a character device, not a regular file"),
    (stat.S_ISBLK, "a block device, not a regular file"),
    (stat.S_ISSOCK, "a socket, not a regular file"),
    (stat.S_ISLNK, "a symbolic link (not followed below a directory)"),
)


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
        if not what and not item:
            return f"{where} {self.message}"
        return f"{where}{what}{item}: {self.message}"


@dataclasses.dataclass(frozen=True)
class Skipped:
    """A path that was not opened, and why; `str()` is `file: skipped: why`."""

    file: str
    why: str

    def __str__(self) -> str:
        return f"{self.file}: skipped: {self.why}"


@dataclasses.dataclass
class Report:
    """What `scan` found: findings (the check fails) and skipped special files (it does not)."""

    findings: list[Finding] = dataclasses.field(default_factory=list)
    skipped: list[Skipped] = dataclasses.field(default_factory=list)


def iter_files(paths: Iterable[str | os.PathLike[str]]) -> Iterator[tuple[Path, bool]]:
    """(path, named directly) for paths named directly and, below directories, every entry
    whose name ends in a `SUFFIXES` suffix, sorted; nothing is opened here."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from ((found, False) for found in _walk(path))
        elif path.exists() or path.is_symlink():
            yield path, True
        else:
            raise errors.UsageError(f"{path}: no such file or directory")


def _walk(root: Path) -> Iterator[Path]:
    def unreadable(exc: OSError) -> None:
        raise errors.UsageError(f"cannot list {exc.filename}: {exc.strerror}")

    for dirpath, dirnames, filenames in os.walk(root, onerror=unreadable):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            path = Path(dirpath, name)
            if path.suffix.lower() in SUFFIXES:
                yield path


def scan(
    paths: Iterable[str | os.PathLike[str]], *, max_bytes: int = safeyaml.MAX_BYTES
) -> Report:
    """Findings and skipped special files for every file in `paths` (see `iter_files`)."""
    report = Report()
    for path, named in iter_files(paths):
        result = _check_file(path, follow=named, max_bytes=max_bytes)
        if isinstance(result, Skipped):
            report.skipped.append(result)
        else:
            report.findings.extend(result)
    return report


def check_paths(
    paths: Iterable[str | os.PathLike[str]], *, max_bytes: int = safeyaml.MAX_BYTES
) -> list[Finding]:
    """The findings of `scan`."""
    return scan(paths, max_bytes=max_bytes).findings


def _check_file(path: Path, *, follow: bool, max_bytes: int) -> list[Finding] | Skipped:
    data = _read_checked(path, follow=follow, max_bytes=max_bytes)
    if isinstance(data, Finding):
        return [data]
    if isinstance(data, Skipped):
        return data
    return check_data(data, source=str(path), max_bytes=max_bytes)


def _read_checked(path: Path, *, follow: bool, max_bytes: int) -> bytes | Finding | Skipped:
    """The bytes of a regular file; stat before opening, so special files are never opened."""
    try:
        info = path.stat() if follow else path.lstat()
        if not stat.S_ISREG(info.st_mode):
            return Skipped(file=str(path), why=_describe(info.st_mode))
        if info.st_size > max_bytes:
            return _too_large(path, size=info.st_size, max_bytes=max_bytes)
        data = _read_regular(path, follow=follow, max_bytes=max_bytes)
    except OSError as exc:
        return _file_finding(path, f"cannot check: {exc.strerror}")
    if isinstance(data, bytes) and len(data) > max_bytes:
        return _too_large(path, size=len(data), max_bytes=max_bytes)
    return data


def _read_regular(path: Path, *, follow: bool, max_bytes: int) -> bytes | Skipped:
    """At most `max_bytes + 1` bytes; O_NONBLOCK and fstat: a FIFO swapped in cannot block."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY
    fd = os.open(path, flags if follow else flags | os.O_NOFOLLOW)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            return Skipped(file=str(path), why=_describe(mode))
        chunks: list[bytes] = []
        left = max_bytes + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _describe(mode: int) -> str:
    for test, kind in _FILE_KINDS:
        if test(mode):
            return kind
    return "not a regular file"


def _file_finding(path: Path, message: str) -> Finding:
    return Finding(file=str(path), line=0, object="", item=None, message=message)


def _too_large(path: Path, *, size: int, max_bytes: int) -> Finding:
    return _file_finding(
        path, f"cannot check: {size} bytes exceed the limit of {max_bytes} bytes (--max-bytes)"
    )


def check_data(data: bytes, *, source: str, max_bytes: int = safeyaml.MAX_BYTES) -> list[Finding]:
    """Findings for one file's bytes, read as kubectl would (`safeyaml.KUBECTL`).

    Bytes that cannot be parsed are one finding: they may hide a Secret.
    """
    try:
        documents = safeyaml.load_located(
            data, source=source, max_bytes=max_bytes, dialect=safeyaml.KUBECTL
        )
    except safeyaml.ParseError as exc:
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
        yield from _template_findings(obj, doc=doc, path=path)
        described = f"SealedSecret {_ref(obj)}"
        spec = obj.get("spec")
        items = spec.get("encryptedData") if isinstance(spec, Mapping) else None
        go_std = str(obj.get("apiVersion") or "").partition("/")[0] == "bitnami.com"
        for key, value in items.items() if isinstance(items, Mapping) else ():
            problem = envelope_problem(value, go_std=go_std)
            if problem is not None:
                yield Finding(
                    file=doc.source,
                    line=doc.line_of(*path, "spec", "encryptedData", str(key)),
                    object=described,
                    item=str(key),
                    message=problem,
                )


    elif kind == "VaultSecret":
        yield from _template_findings(obj, doc=doc, path=path)


def _template_findings(
    obj: Mapping[str, Any], *, doc: safeyaml.Document, path: tuple[str | int, ...]
) -> Iterator[Finding]:
    """`template.data` values that are not templates reading a sealed item (plaintext in Git)."""
    spec = obj.get("spec")
    spec = spec if isinstance(spec, Mapping) else {}
    target = spec.get("target")
    if not _has_data(spec.get("template")) and not (
        isinstance(target, Mapping) and _has_data(target.get("template"))
    ):
        return  # the common case stays free of the template engine's import
    from sealer.templating import policy

    for problem in policy.problems(obj):
        yield Finding(
            file=doc.source,
            line=doc.line_of(*path, *problem.path),
            object=f"{obj.get('kind')} {_ref(obj)}",
            item=problem.key,
            message=problem.message,
        )


def _has_data(template: object) -> bool:
    return isinstance(template, Mapping) and template.get("data") is not None


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


def envelope_problem(value: object, *, go_std: bool = False) -> str | None:
    """Why `value` cannot be an envelope (checked without a key), or None if it looks fine.

    `go_std` reads the text as Bitnami's controller does for bitnami.com objects (Go's
    StdEncoding: CR and LF ignored, non-zero trailing bits allowed; `seal.base64_rules`), so
    `seal check` passes what the controller opens; sealops.dev values must be canonical.
    """
    if not isinstance(value, str):
        return "sealed value is not a string"
    if len(value) > MAX_B64_CHARS:
        return f"sealed value is {len(value)} characters, over the limit of {MAX_B64_CHARS}"
    text = value.replace("\r", "").replace("\n", "") if go_std else value
    try:
        blob = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        return "sealed value is not valid base64"
    if not go_std and base64.b64encode(blob).decode("ascii") != value:
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
