"""Rewriting YAML/JSON files document by document, keeping what is not rewritten.

Owns the text surgery behind `seal check --fix` (plaintext Secrets -> SealedSecrets) and
`seal reencrypt` (SealedSecrets re-sealed to a new key): only the lines of the documents a
transform changes are replaced; other documents, comments between documents and `---`
separators stay byte for byte. A JSON file (one document starting with `{`) is rewritten as
JSON. Pure text in, text out; the CLI does the atomic file writes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sealer import errors
from sealer.manifests import check, safeyaml, secrets

__all__ = ["Transform", "rewrite_documents", "sealing_transform"]

# Returns the replacement for one object, or None to keep it.
Transform = Callable[[Mapping[str, Any]], dict[str, Any] | None]


def rewrite_documents(
    data: bytes,
    *,
    source: str,
    transform: Transform,
    max_bytes: int = safeyaml.MAX_BYTES,
) -> tuple[str, int] | None:
    """The new text of a file after `transform` on every object, and how many objects changed.

    Objects are the documents and the items of `kind: List` documents. None when nothing
    changed. Raises what `transform` raises (nothing is half-done: the caller writes or not).
    """
    documents = safeyaml.load_located(data, source=source, max_bytes=max_bytes)
    text = bytes(data).decode("utf-8")
    lines = safeyaml.split_lines(text)
    replacements: list[tuple[int, int, dict[str, Any]]] = []
    changed = 0
    for doc in documents:
        new_value, count = _transform_document(doc.value, transform=transform)
        if count:
            if doc.node.start_mark.column:
                raise errors.ManifestError(
                    f"{source}:{doc.line}: cannot rewrite a document that does not start a line"
                )
            changed += count
            replacements.append((doc.line - 1, _end_index(lines, doc), new_value))
    if not changed:
        return None
    if len(documents) == 1 and text.lstrip().startswith("{"):
        return safeyaml.dump([replacements[0][2]], fmt="json"), changed
    for start, end, value in reversed(replacements):
        lines[start:end] = [safeyaml.dump([value])]
    return "".join(lines), changed


def sealing_transform(
    seal: Callable[[secrets.SecretManifest], dict[str, Any]], *, namespace: str | None = None
) -> Transform:
    """A transform that seals every Secret holding data (for `seal check --fix`)."""

    def transform(obj: Mapping[str, Any]) -> dict[str, Any] | None:
        if obj.get("kind") == "Secret" and (obj.get("data") or obj.get("stringData")):
            return seal(secrets.parse_secret(obj, namespace=namespace))
        return None

    return transform


def _transform_document(
    value: dict[str, Any], *, transform: Transform
) -> tuple[dict[str, Any], int]:
    new_value = dict(value)
    count = 0
    for path, obj in check.objects(value):
        replaced = transform(obj)
        if replaced is None:
            continue
        count += 1
        if not path:
            return replaced, 1
        items = new_value["items"] = list(new_value["items"])
        items[int(path[1])] = replaced
    return new_value, count


def _end_index(lines: list[str], doc: safeyaml.Document) -> int:
    """Exclusive 0-based end line of `doc`, leaving trailing comments and blank lines in place."""
    end = min(doc.end_line - 1, len(lines))
    while end > doc.line and (not lines[end - 1].strip() or lines[end - 1].startswith("#")):
        end -= 1
    return end
