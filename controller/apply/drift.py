"""Drift detection: does a live object already hold what we would apply? Pure functions.

The applier asks two questions so that a re-sync of unchanged objects writes nothing:

1. `in_sync(desired, live, field_manager=...)`, answered from the live object alone (no
   request): every field of `desired` is present in `live` with the same value (`contains`),
   and every field our manager owns in `live.metadata.managedFields` is still in `desired`
   (`owned_fields_present`), so a field removed from Git counts as drift. Values the API
   server normalises (`cpu: 0.5` -> `500m`) or list items whose merge keys it defaults
   (`protocol: TCP`) make the answer "not known to be in sync", never a false "in sync".
2. When (1) says no, the applier runs a server-side-apply dry run and asks
   `same_result(dry_run, live, field_manager=...)`: equal once metadata noise is removed
   (managedFields, resourceVersion, generation, timestamps) and our manager owns the same
   field set. Only when that is False is the object written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["comparable", "contains", "in_sync", "owned_fields", "owned_fields_present",
           "same_result"]

_NOISE = ("managedFields", "resourceVersion", "generation", "creationTimestamp", "selfLink",
          "uid")
_TOP_LEVEL_SKIPPED = ("apiVersion", "kind", "status")


def contains(desired: Any, live: Any) -> bool:
    """True when every field of `desired` is in `live` with an equal value.

    Lists must have the same length and match item by item; an empty mapping or list or a
    null in `desired` matches an absent field (the API server drops them).
    """
    if isinstance(desired, Mapping):
        if not isinstance(live, Mapping):
            return False
        return all(_field_contained(value, key in live, live.get(key))
                   for key, value in desired.items())
    if isinstance(desired, list):
        return isinstance(live, list) and len(desired) == len(live) and all(
            contains(d, v) for d, v in zip(desired, live, strict=True))
    if isinstance(desired, bool) or isinstance(live, bool):
        return desired is live
    return bool(desired == live)


def _field_contained(value: Any, present: bool, live_value: Any) -> bool:
    if not present:
        return value is None or value in ({}, [])
    return contains(value, live_value)


def owned_fields(obj: Mapping[str, Any], *, field_manager: str) -> Any:
    """The fieldsV1 tree `field_manager` owns through Apply on `obj`, or None."""
    for entry in (obj.get("metadata") or {}).get("managedFields") or []:
        if entry.get("manager") == field_manager and entry.get("operation") == "Apply" \
                and entry.get("subresource", "") == "":
            return entry.get("fieldsV1") or {}
    return None


def owned_fields_present(fields: Mapping[str, Any], desired: Any) -> bool:
    """True when every path in the fieldsV1 tree `fields` exists in `desired`."""
    claimed: dict[int, int] = {}
    for key, sub in fields.items():
        if key == ".":
            continue
        found = _locate(key, desired)
        if found is _MISSING:
            return False
        if key.startswith("k:"):
            # Two owned list items that match one desired item leniently (a defaulted key
            # field): the other one was removed from Git.
            claimed[id(found)] = claimed.get(id(found), 0) + 1
            if claimed[id(found)] > 1:
                return False
        if isinstance(sub, Mapping) and sub and not owned_fields_present(sub, found):
            return False
    return True


_MISSING = object()


def _locate(key: str, value: Any) -> Any:
    kind, _, rest = key.partition(":")
    if kind == "f":
        return value[rest] if isinstance(value, Mapping) and rest in value else _MISSING
    if not isinstance(value, list):
        return _MISSING
    try:
        decoded = json.loads(rest)
    except ValueError:
        return _MISSING
    return _locate_in_list(kind, decoded, value)


def _locate_in_list(kind: str, decoded: Any, items: list[Any]) -> Any:
    if kind == "k" and isinstance(decoded, dict):
        return _match_item(decoded, items)
    if kind == "v" and decoded in items:
        return decoded
    if kind == "i" and isinstance(decoded, int) and 0 <= decoded < len(items):
        return items[decoded]
    return _MISSING


def _match_item(keys: Mapping[str, Any], items: list[Any]) -> Any:
    """The item whose key fields equal `keys`; a key field absent from the item (the API
    server defaults it, e.g. `protocol`) is not held against it."""
    for item in items:
        if isinstance(item, Mapping) and all(
                k not in item or item[k] == v for k, v in keys.items()) and any(
                k in item for k in keys):
            return item
    return _MISSING


def in_sync(desired: Mapping[str, Any], live: Mapping[str, Any], *, field_manager: str) -> bool:
    """True when applying `desired` would certainly change nothing (see module docstring)."""
    fields = owned_fields(live, field_manager=field_manager)
    if fields is None:
        return False
    body = {k: v for k, v in desired.items() if k not in _TOP_LEVEL_SKIPPED}
    return contains(body, live) and owned_fields_present(fields, desired)


def comparable(obj: Mapping[str, Any]) -> dict[str, Any]:
    """`obj` without the fields an apply changes even when nothing else changes (and without
    `status`, which an apply never writes but controllers change at any time)."""
    result = {k: v for k, v in obj.items() if k not in _TOP_LEVEL_SKIPPED}
    metadata = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in _NOISE}
    result["metadata"] = metadata
    return result


def same_result(dry_run: Mapping[str, Any], live: Mapping[str, Any], *,
                field_manager: str) -> bool:
    """True when the dry run's object equals the live one and our ownership is unchanged."""
    return comparable(dry_run) == comparable(live) and owned_fields(
        dry_run, field_manager=field_manager) == owned_fields(live, field_manager=field_manager)
