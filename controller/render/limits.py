"""Caps that bound one render in time and memory (HOSTILE-INPUTS Y23, F31)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Limits"]


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 4 << 20  # per manifest file, checked with stat() before reading
    max_total_bytes: int = 64 << 20  # all manifest bytes read, or kustomize's output
    max_files: int = 10_000  # manifest files read
    max_entries: int = 100_000  # directory entries looked at by any walk
    max_documents: int = 10_000  # objects in the whole render
    max_depth: int = 100  # YAML nesting
    kustomize_timeout: float = 60.0
