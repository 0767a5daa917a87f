"""Rendering a plain directory: every `*.yaml`, `*.yml` and `*.json` file below it.

The walk is deterministic: a directory's manifest files in name order, then its
subdirectories in name order, depth-first. Hidden names (starting with `.`) are skipped at every
level below the configured path. Entries are classified by type, never by name: a
directory named `x.yaml` is walked like any directory; a manifest-named FIFO, socket or device
is an error. In-bounds symlinks are followed (see `paths`); a directory symlink that points at
one of its own ancestors is a loop and an error. Caps: files, entries, bytes, documents.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from controller.render import documents, errors, limits, paths

__all__ = ["MANIFEST_SUFFIXES", "manifest_files", "render"]

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass
class _Budget:
    caps: limits.Limits
    entries: int = 0
    files: int = 0
    bytes: int = 0
    objects: int = 0

    def count_entry(self) -> None:
        self.entries += 1
        if self.entries > self.caps.max_entries:
            raise errors.RenderError(f"more than {self.caps.max_entries} directory entries")


def render(root_real: str, base_real: str, *, caps: limits.Limits) -> list[dict[str, Any]]:
    """The objects of every manifest file under `base_real`, file by file in walk order."""
    budget = _Budget(caps)
    objects: list[dict[str, Any]] = []
    for real, rel in manifest_files(root_real, base_real, budget=budget):
        budget.files += 1
        if budget.files > caps.max_files:
            raise errors.RenderError(f"more than {caps.max_files} manifest files")
        data = paths.read_regular(root_real, real, max_bytes=caps.max_file_bytes)
        budget.bytes += len(data)
        if budget.bytes > caps.max_total_bytes:
            raise errors.RenderError(f"manifests exceed {caps.max_total_bytes} bytes in total")
        found = documents.parse(data, source=rel, budget=caps, max_bytes=caps.max_file_bytes)
        budget.objects += len(found)
        if budget.objects > caps.max_documents:
            raise errors.RenderError(f"more than {caps.max_documents} objects")
        objects.extend(found)
    return objects


def manifest_files(
    root_real: str, base_real: str, *, budget: _Budget
) -> Iterator[tuple[str, str]]:
    """(real path, repo-relative path as walked) of each manifest file under `base_real`, in
    walk order (module docstring); messages use the walked path, which is what the user wrote."""
    base_rel = paths.relative(root_real, base_real)
    stack: list[Iterator[tuple[str, str, frozenset[str]]]] = [
        iter([(base_real, base_rel, frozenset())])
    ]
    while stack:
        item = next(stack[-1], None)
        if item is None:
            stack.pop()
            continue
        directory, logical, ancestors = item
        ancestors = ancestors | {directory}
        children: list[tuple[str, str, frozenset[str]]] = []
        for name in sorted(_list(root_real, directory)):
            budget.count_entry()
            if name.startswith("."):
                continue
            manifest = name.endswith(MANIFEST_SUFFIXES)
            classified = _classify(root_real, directory, name, manifest=manifest)
            if classified is None:
                continue
            real, mode = classified
            shown = os.path.normpath(os.path.join(logical, name))
            if stat.S_ISDIR(mode):
                if real in ancestors:
                    raise errors.RenderError(
                        f"symlink loop: {shown} leads back to {paths.relative(root_real, real)}"
                    )
                children.append((real, shown, ancestors))
            elif manifest:
                if not stat.S_ISREG(mode):
                    raise errors.RenderError(f"{shown}: not a regular file")
                yield real, shown
        stack.append(iter(children))


def _classify(
    root_real: str, directory: str, name: str, *, manifest: bool
) -> tuple[str, int] | None:
    """The real path and mode of an entry, symlinks resolved within the root.

    A dangling in-bounds symlink is skipped unless it has a manifest name.
    """
    try:
        real = paths.resolve_within(root_real, directory, [name])
    except errors.MissingPathError:
        if manifest:
            raise
        return None
    return real, paths.lstat(root_real, real).st_mode


def _list(root_real: str, directory: str) -> list[str]:
    try:
        return os.listdir(directory)
    except OSError as exc:
        raise errors.RenderError(
            f"{paths.relative(root_real, directory)}: cannot list ({exc.strerror})"
        ) from None
