"""Parsing manifest bytes into objects and checking each one's identity fields (Y26).

Every document must be a mapping with a non-empty string `apiVersion` and `kind` and a
`metadata` mapping with a non-empty string `name` (and, if given, a string `namespace`).
`kind: List` (and any `*List` kind carrying `items`) is refused rather than expanded: a List
hides objects from review and kustomize never emits one. Any invalid document fails the whole
render, naming the file and the document's 1-based index; nothing is ever dropped.
"""

from __future__ import annotations

from typing import Any

from controller.render import errors, limits
from sealer.manifests import safeyaml

__all__ = ["check_object", "parse"]


def parse(
    data: bytes, *, source: str, budget: limits.Limits, max_bytes: int
) -> list[dict[str, Any]]:
    """The checked objects in `data` (YAML or JSON), in document order."""
    docs = safeyaml.load_documents(
        data,
        source=source,
        max_bytes=max_bytes,
        max_documents=budget.max_documents,
        max_depth=budget.max_depth,
    )
    return [check_object(doc, source=source, index=i) for i, doc in enumerate(docs, start=1)]


def check_object(doc: Any, *, source: str, index: int) -> dict[str, Any]:
    """`doc` itself if it is a well-formed object; `RenderError` naming source and index."""
    where = f"{source}: document {index}"
    if not isinstance(doc, dict):
        raise errors.RenderError(f"{where}: not a mapping")
    for field in ("apiVersion", "kind"):
        value = doc.get(field)
        if not isinstance(value, str) or not value.strip():
            raise errors.RenderError(f"{where}: missing or invalid {field}")
    metadata = doc.get("metadata")
    if not isinstance(metadata, dict):
        raise errors.RenderError(f"{where}: missing metadata")
    name = metadata.get("name")
    if not isinstance(name, str) or not name:
        raise errors.RenderError(f"{where}: missing or invalid metadata.name")
    namespace = metadata.get("namespace")
    if namespace is not None and not isinstance(namespace, str):
        raise errors.RenderError(f"{where}: metadata.namespace must be a string")
    kind = doc["kind"]
    if kind == "List" or (kind.endswith("List") and "items" in doc):
        raise errors.RenderError(
            f"{where}: kind {kind} is not supported; write each object as its own document"
        )
    return doc
