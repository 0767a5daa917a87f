"""Vault KV data -> Kubernetes Secret data, the path policy and the data hash. Pure: no I/O.

Called by `controller.vault.sync.fetch` (parse a spec, resolve its paths, build the data) and by
the Vault handlers (hash the data so an unchanged Secret is never rewritten).

The sync `spec` this module reads:

    data:      [{secretKey: K, remoteRef: {path: P, property: Q?, version: N?}}]
    dataFrom:  [{path: P, version: N?}]

`data[]` with a `property` takes that one key of the Vault secret; without one it takes the
whole secret as canonical JSON (sorted keys, values must be strings). `dataFrom[]` copies every
key of the Vault secret. Values must be strings (stored as UTF-8); anything else (int, bool,
null, a nested object) is refused. Secret keys must match `[-._a-zA-Z0-9]+`, be at most 253
characters and not `.` or `..`; two entries producing the same key is an error.

Every error is `VaultError(retryable=False)` with a stable reason (`InvalidSpec`,
`PathNotAllowed`, `PropertyNotFound`, `InvalidValue`, `InvalidKey`, `DuplicateKey`,
`TooLarge`) and names the path and the key, never a value.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Mapping, Sequence

import nacl.encoding
import nacl.hash

from sealer import errors

__all__ = [
    "MAX_SECRET_BYTES",
    "DataFromRef",
    "DataRef",
    "Plan",
    "ReadResult",
    "build_data",
    "canonical_encoding",
    "clean_path",
    "data_hash",
    "detach",
    "expand_prefix",
    "parse_spec",
    "resolve_path",
    "show",
    "validate_secret_key",
]

MAX_SECRET_BYTES = 1 << 20
"""Cap on a Secret's data (keys plus values), the apiserver's object size limit."""
MAX_PATH_LENGTH = 1024
MAX_KEY_LENGTH = 253
HASH_KEY_MIN_BYTES = 16

_SECRET_KEY = re.compile(r"[-._a-zA-Z0-9]+")
# Path segments: a conservative ASCII set. `%` is refused so `%2e%2e` can never be decoded
# into `..` by anything downstream; `\\`, `?`, `#`, whitespace and control bytes likewise.
_PATH_SEGMENT = re.compile(r"[A-Za-z0-9._@=+:,~-]+")
_K8S_NAMESPACE = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_PLACEHOLDER = "{namespace}"
_HASH_PERSON = b"sealops.vault.v1"
_HASH_DOMAIN = b"sealops/vault-data/v1\n"


@dataclasses.dataclass(frozen=True, repr=False)
class ReadResult:
    """One Vault secret as read: its key/value data and the KV version (None for KV v1)."""

    path: str
    data: Mapping[str, object]
    version: int | None

    def __repr__(self) -> str:
        return f"ReadResult(path={self.path!r}, version={self.version}, keys={len(self.data)})"


@dataclasses.dataclass(frozen=True)
class DataRef:
    secret_key: str
    path: str
    property: str | None = None
    version: int | None = None


@dataclasses.dataclass(frozen=True)
class DataFromRef:
    path: str
    version: int | None = None


@dataclasses.dataclass(frozen=True)
class Plan:
    """A parsed sync spec: what to read and where each value goes."""

    data: tuple[DataRef, ...]
    data_from: tuple[DataFromRef, ...]

    def reads(self) -> tuple[tuple[str, int | None], ...]:
        """Every distinct (path, version) in first-use order; each is read exactly once."""
        keys = [(r.path, r.version) for r in self.data]
        keys += [(r.path, r.version) for r in self.data_from]
        return tuple(dict.fromkeys(keys))

    def map_paths(self, resolve: Callable[[str], str]) -> Plan:
        return Plan(
            data=tuple(dataclasses.replace(r, path=resolve(r.path)) for r in self.data),
            data_from=tuple(dataclasses.replace(r, path=resolve(r.path)) for r in self.data_from),
        )


def _fail(message: str, reason: str) -> errors.VaultError:
    return errors.VaultError(message, reason=reason, retryable=False)


def show(text: str, limit: int = 80) -> str:
    """A name (key, path) quoted for a message, cut short so hostile names stay bounded."""
    return repr(text if len(text) <= limit else text[:limit] + "...")


# -- names and paths ------------------------------------------------------------------------


def validate_secret_key(key: object, *, where: str) -> str:
    """Return `key` if it is a valid Secret data key, else VaultError(reason="InvalidKey")."""
    if not isinstance(key, str):
        raise _fail(f"{where}: a Secret key must be a string", "InvalidKey")
    if (len(key) > MAX_KEY_LENGTH or key in (".", "..")
            or _SECRET_KEY.fullmatch(key) is None):
        raise _fail(f"{where}: {show(key)} is not a valid Secret key "
                    "([-._a-zA-Z0-9]+, at most 253 characters, not '.' or '..')", "InvalidKey")
    return key


def clean_path(path: object, *, what: str, reason: str = "PathNotAllowed") -> str:
    """Return a relative Vault path, refusing anything that is not already normal.

    Refused: empty, absolute (`/x`), `//`, `.`/`..` segments, a trailing `/`, `%`, `\\`,
    whitespace, control bytes and non-ASCII characters.
    """
    if not isinstance(path, str) or not path:
        raise _fail(f"{what} must be a non-empty string", reason)
    if len(path) > MAX_PATH_LENGTH:
        raise _fail(f"{what} is longer than {MAX_PATH_LENGTH} characters", reason)
    if path.startswith("/"):
        raise _fail(f"{what} {show(path)} must be relative, not absolute", reason)
    for segment in path.split("/"):
        if segment in ("", ".", "..") or _PATH_SEGMENT.fullmatch(segment) is None:
            raise _fail(f"{what} {show(path)} is not a normalised path "
                        "(no '//', '.', '..', '%', '\\', spaces or control characters)", reason)
    return path


def expand_prefix(prefix_template: str, *, namespace: str) -> str:
    """Substitute `{namespace}` (the only placeholder) and check the result is a clean path."""
    if _K8S_NAMESPACE.fullmatch(namespace) is None:
        raise _fail(f"namespace {show(namespace)} is not a valid namespace name",
                    "PathNotAllowed")
    expanded = prefix_template.replace(_PLACEHOLDER, namespace)
    if "{" in expanded or "}" in expanded:
        raise _fail("pathPrefix may only use the placeholder {namespace}", "PathNotAllowed")
    return clean_path(expanded, what="pathPrefix")


def resolve_path(prefix_template: str | None, *, namespace: str, path: str) -> str:
    """Return `path` if it lies under the store's prefix for `namespace`, else refuse.

    `path` is the full path inside the KV mount (as in `remoteRef.path`). It must equal the
    expanded prefix or start with prefix + "/": prefix `shop` admits `shop/db`, never
    `shop-evil/db`. Violations raise VaultError(reason="PathNotAllowed") naming the path.
    """
    clean = clean_path(path, what="path")
    if prefix_template is None:
        return clean
    prefix = expand_prefix(prefix_template, namespace=namespace)
    if clean == prefix or clean.startswith(prefix + "/"):
        return clean
    raise _fail(f"path {show(clean)} is not under the allowed prefix {show(prefix)}",
                "PathNotAllowed")


# -- the spec --------------------------------------------------------------------------------


def _field(obj: Mapping[str, object], name: str, where: str, *, required: bool) -> object:
    value = obj.get(name)
    if value is None and required:
        raise _fail(f"{where}.{name} is required", "InvalidSpec")
    return value


def _mapping(value: object, where: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise _fail(f"{where} must be an object", "InvalidSpec")
    return value


def _version(value: object, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _fail(f"{where}.version must be a positive integer", "InvalidSpec")
    return value


def _list(value: object, where: str) -> Sequence[object]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _fail(f"{where} must be a list", "InvalidSpec")
    return value


def _parse_data(index: int, item: object) -> DataRef:
    where = f"spec.data[{index}]"
    entry = _mapping(item, where)
    key = validate_secret_key(_field(entry, "secretKey", where, required=True), where=where)
    ref = _mapping(_field(entry, "remoteRef", where, required=True), f"{where}.remoteRef")
    path = _field(ref, "path", f"{where}.remoteRef", required=True)
    if not isinstance(path, str):
        raise _fail(f"{where}.remoteRef.path must be a string", "InvalidSpec")
    prop = ref.get("property")
    if prop is not None and (not isinstance(prop, str) or not prop):
        raise _fail(f"{where}.remoteRef.property must be a non-empty string", "InvalidSpec")
    return DataRef(secret_key=key, path=path, property=prop,
                   version=_version(ref.get("version"), f"{where}.remoteRef"))


def _parse_data_from(index: int, item: object) -> DataFromRef:
    where = f"spec.dataFrom[{index}]"
    entry = _mapping(item, where)
    path = _field(entry, "path", where, required=True)
    if not isinstance(path, str):
        raise _fail(f"{where}.path must be a string", "InvalidSpec")
    return DataFromRef(path=path, version=_version(entry.get("version"), where))


def parse_spec(spec: Mapping[str, object]) -> Plan:
    """Parse `spec.data[]` and `spec.dataFrom[]`; at least one entry is required."""
    data = tuple(_parse_data(i, item) for i, item in enumerate(_list(spec.get("data"),
                                                                      "spec.data")))
    data_from = tuple(_parse_data_from(i, item)
                      for i, item in enumerate(_list(spec.get("dataFrom"), "spec.dataFrom")))
    if not data and not data_from:
        raise _fail("spec needs at least one entry in data or dataFrom", "InvalidSpec")
    return Plan(data=data, data_from=data_from)


# -- building the Secret data ---------------------------------------------------------------


def _encode(value: object, *, path: str, key: str) -> bytes:
    if not isinstance(value, str):
        raise _fail(f"Vault secret {show(path)} key {show(key)}: value is not a string "
                    f"(got {type(value).__name__})", "InvalidValue")
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError:
        pass  # raised below, outside the handler: the codec error holds the whole value
    raise _fail(f"Vault secret {show(path)} key {show(key)}: value is not valid Unicode",
                "InvalidValue")


def _whole(secret: Mapping[str, object], *, path: str) -> bytes:
    for key, value in secret.items():
        _encode(value, path=path, key=key)
    text = json.dumps(dict(secret), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


class _Builder:
    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}
        self.size = 0

    def add(self, key: str, value: bytes, *, origin: str) -> None:
        if key in self.data:
            raise _fail(f"Secret key {show(key)} is produced twice ({origin})", "DuplicateKey")
        self.size += len(key) + len(value)
        if self.size > MAX_SECRET_BYTES:
            raise _fail(f"Secret data reaches {self.size} bytes at key {show(key)}, over the "
                        f"{MAX_SECRET_BYTES}-byte cap", "TooLarge")
        self.data[key] = value


def detach(err: errors.VaultError) -> errors.VaultError:
    """`err` without traceback or chained exceptions, ready to raise at a public boundary.

    The frames below the boundary hold Vault data and credentials in their locals; a
    locals-printing traceback handler must not find them (HOSTILE-INPUTS L1). Messages already
    name what failed, so nothing useful is lost.
    """
    err.__cause__ = err.__context__ = None
    return err.with_traceback(None)


def build_data(plan: Plan,
               results: Mapping[tuple[str, int | None], ReadResult]) -> dict[str, bytes]:
    """Build the full Secret data from the secrets read for `plan.reads()`; all or nothing."""
    try:
        return _assemble(plan, results)
    except errors.VaultError as err:
        failure = err
    raise detach(failure)


def _assemble(plan: Plan,
              results: Mapping[tuple[str, int | None], ReadResult]) -> dict[str, bytes]:
    out = _Builder()
    for ref in plan.data:
        secret = results[(ref.path, ref.version)].data
        if ref.property is None:
            value = _whole(secret, path=ref.path)
        elif ref.property not in secret:
            raise _fail(f"Vault secret {show(ref.path)} has no key {show(ref.property)}",
                        "PropertyNotFound")
        else:
            value = _encode(secret[ref.property], path=ref.path, key=ref.property)
        out.add(ref.secret_key, value, origin=f"data entry for {show(ref.path)}")
    for ref_from in plan.data_from:
        secret = results[(ref_from.path, ref_from.version)].data
        for key, raw in secret.items():
            where = f"Vault secret {show(ref_from.path)}"
            validate_secret_key(key, where=where)
            out.add(key, _encode(raw, path=ref_from.path, key=key),
                    origin=f"dataFrom {show(ref_from.path)}")
    return out.data


# -- the data hash --------------------------------------------------------------------------


def canonical_encoding(data: Mapping[str, bytes]) -> bytes:
    """Domain tag, then per key in sorted order: u32 len + key UTF-8, u64 len + value."""
    parts = [_HASH_DOMAIN]
    for key in sorted(data):
        raw_key = key.encode("utf-8")
        value = data[key]
        parts += [len(raw_key).to_bytes(4, "big"), raw_key, len(value).to_bytes(8, "big"), value]
    return b"".join(parts)


def data_hash(data: Mapping[str, bytes], *, key: bytes) -> str:
    """Keyed BLAKE2b-256 (hex) of the Secret data, for "unchanged, do not rewrite" checks.

    Keyed so the hash, which is stored in plain sight (an annotation or status), is no
    offline oracle for guessing low-entropy values. `key` is 16..64 bytes.
    """
    if not isinstance(key, bytes) or not HASH_KEY_MIN_BYTES <= len(key) <= 64:
        raise ValueError("data_hash key must be 16 to 64 bytes")
    digest: bytes = nacl.hash.blake2b(canonical_encoding(data), digest_size=32, key=key,
                                      person=_HASH_PERSON, encoder=nacl.encoding.HexEncoder)
    return digest.decode("ascii")
