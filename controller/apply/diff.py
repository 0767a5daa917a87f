"""What `sealops diff` prints: a unified diff of live vs dry-run objects, secret values masked.

Pure text functions over plain dicts; `controller.commands.gitops` feeds them the live object
and the server-side dry-run result of each planned object.

Masking (never print Secret data, never print ciphertext): every value under `data` and
`stringData` of a core `Secret`, and under `spec.encryptedData` / `spec.template.data` of
SealedSecrets, is replaced by `***`, and so is the client-side-apply annotation (it holds a
copy of the whole object); on the "after" side a value that differs from the "before"
side reads `*** (changed)`, so a reviewer sees which keys change without seeing any value.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Mapping
from typing import Any

from controller.apply import drift, ordering
from sealer.manifests import safeyaml

__all__ = ["MASK", "describe", "mask_pair", "unified"]

MASK = "***"
CHANGED = "*** (changed)"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def describe(obj: Mapping[str, Any]) -> str:
    """`Kind namespace/name` (or `Kind name` for cluster-scoped objects)."""
    metadata = obj.get("metadata") or {}
    namespace = metadata.get("namespace")
    name = str(metadata.get("name", "?"))
    return f"{obj.get('kind', '?')} {namespace + '/' if namespace else ''}{name}"


def _secret_paths(obj: Mapping[str, Any]) -> list[tuple[str, ...]]:
    api_version, kind = str(obj.get("apiVersion", "")), str(obj.get("kind", ""))
    if kind == "Secret" and ordering.group_of(api_version) == "":
        return [("data",), ("stringData",)]
    if ordering.is_secret_bearing(api_version, kind):
        return [("spec", "encryptedData"), ("spec", "template", "data"), ("spec", "data")]
    return []


def _values_at(obj: Mapping[str, Any] | None, path: tuple[str, ...]) -> dict[str, Any] | None:
    node: Any = obj
    for step in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(step)
    return node if isinstance(node, dict) else None


def mask_pair(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None,
              ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Deep copies of both objects with every secret value masked (see module docstring)."""
    paths = _secret_paths(after or before or {})
    masked_before = copy.deepcopy(dict(before)) if before is not None else None
    masked_after = copy.deepcopy(dict(after)) if after is not None else None
    for path in paths:
        old = _values_at(masked_before, path)
        new = _values_at(masked_after, path)
        reference = dict(old) if old is not None else {}
        if new is not None:
            for key in new:
                new[key] = MASK if key in reference and reference[key] == new[key] else CHANGED
        if old is not None:
            for key in old:
                old[key] = MASK
    return masked_before, masked_after


def unified(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> str:
    """A unified diff of the two objects (metadata noise removed, secrets masked); empty when
    they are equal."""
    masked_before, masked_after = mask_pair(before, after)
    old = _text(masked_before)
    new = _text(masked_after)
    if old == new:
        return ""
    title = describe(after or before or {})
    lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                 fromfile=f"live: {title}", tofile=f"git: {title}", n=3)
    return "".join(lines)


def _text(obj: Mapping[str, Any] | None) -> str:
    if obj is None:
        return ""
    body = drift.comparable(obj)
    annotations = body["metadata"].get("annotations")
    if isinstance(annotations, dict) and LAST_APPLIED in annotations:
        # Client-side apply keeps the whole object, Secret data included, in this annotation.
        body["metadata"]["annotations"] = {**annotations, LAST_APPLIED: MASK}
    return safeyaml.dump([body])
