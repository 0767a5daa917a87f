"""Key generations and the sealed values per generation (pure; `collect` reads the inputs).

The generations are those the controller publishes in ConfigMap `sealops-public-keys`
(`data.key-ids`, one active key id per line, newest first; `data.key-id` the newest;
`public.pem` the newest generation's certificate, whose NotBefore is its creation time).
Older generations' creation times are not published, so their age is unknown here; private
key Secrets are never read.

Values per generation come from the SealedSecrets the user can read: a v2 envelope names its
key id in its 12-byte header (`sealer.crypto.envelope`), so only the first 16 base64
characters of each value are decoded. A v1 (kubeseal) envelope names no key; it is counted for
the `status.keyId` that opened its object, or as "unknown" before it was opened. A generation
that still holds values but is no longer published shows up as not active: re-encrypt those
values before retiring it.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime
import re
from collections.abc import Iterable, Mapping
from typing import Any

from controller.dashboard import common
from sealer import errors
from sealer.crypto import envelope
from sealer.kube import publickeys

__all__ = ["UNKNOWN", "Generation", "KeyView", "key_view", "values_per_key"]

UNKNOWN = "unknown"
_KEY_ID = re.compile(r"^[0-9a-f]{16}$")
_HEADER_B64 = 16  # base64 characters that decode to exactly the 12-byte v2 header


@dataclasses.dataclass(frozen=True)
class Generation:
    key_id: str
    active: bool
    newest: bool
    created: datetime.datetime | None
    values: int | None  # None: the user may not read SealedSecrets
    objects: int | None


@dataclasses.dataclass(frozen=True)
class KeyView:
    generations: tuple[Generation, ...]
    problem: str = ""  # why the published keys could not be shown, if they could not


def _header_key_id(value: object) -> str | None:
    """The key id in a v2 envelope's header; None for a v1 envelope or unreadable text."""
    if not isinstance(value, str) or len(value) < _HEADER_B64:
        return None
    try:
        header = base64.b64decode(value[:_HEADER_B64], validate=True)
    except (binascii.Error, ValueError):
        return None
    found = envelope.envelope_key_id(header)
    return found.hex() if found is not None else None


def values_per_key(sealed: Iterable[Mapping[str, Any]]) -> dict[str, tuple[int, int]]:
    """key id (or UNKNOWN) -> (values sealed to it, objects holding any of them)."""
    values: dict[str, int] = {}
    objects: dict[str, set[tuple[str, str]]] = {}
    for obj in sealed:
        namespace, name, _ = common.meta(obj)
        status_key = common.text(common.mapping(obj.get("status")).get("keyId"), limit=64)
        opened_by = status_key if _KEY_ID.match(status_key) else UNKNOWN
        encrypted = common.mapping(common.mapping(obj.get("spec")).get("encryptedData"))
        for value in encrypted.values():
            key_id = _header_key_id(value) or opened_by
            values[key_id] = values.get(key_id, 0) + 1
            objects.setdefault(key_id, set()).add((namespace, name))
    return {k: (n, len(objects[k])) for k, n in values.items()}


def _published(configmap: Mapping[str, Any], *, source: str) -> tuple[list[str], str, Any]:
    """(active key ids, newest key id, newest creation time) from the ConfigMap."""
    parsed = publickeys.parse(dict(configmap), source=source)
    newest = parsed.public.key_id_hex
    certificate = parsed.public.certificate
    created = certificate.not_valid_before_utc if certificate is not None else None
    data = common.mapping(configmap.get("data"))
    listed = data.get("key-ids")
    active = [line.strip() for line in listed.splitlines()] if isinstance(listed, str) else []
    active = [k for k in active if _KEY_ID.match(k)]
    if newest not in active:
        active.append(newest)
    return active, newest, created


def key_view(configmap: Mapping[str, Any] | None, *, source: str,
             counts: Mapping[str, tuple[int, int]] | None) -> KeyView:
    """Published generations (newest first), then generations seen only in SealedSecrets.

    `configmap` None: not published (or not readable, said by the caller). `counts` None:
    the SealedSecrets could not be read, so no value counts are shown.
    """
    active: list[str] = []
    newest, created, problem = "", None, ""
    if configmap is not None:
        try:
            active, newest, created = _published(configmap, source=source)
        except errors.SealopsError as exc:
            problem = str(exc)
    seen = counts or {}
    rows = []
    for key_id in [newest, *[k for k in active if k != newest]] if newest else []:
        n, objs = seen.get(key_id, (0, 0))
        rows.append(Generation(key_id=key_id, active=True, newest=key_id == newest,
                               created=created if key_id == newest else None,
                               values=n if counts is not None else None,
                               objects=objs if counts is not None else None))
    for key_id in sorted(k for k in seen if k not in active):
        n, objs = seen[key_id]
        rows.append(Generation(key_id=key_id, active=False, newest=False, created=None,
                               values=n, objects=objs))
    return KeyView(generations=tuple(rows), problem=problem)
