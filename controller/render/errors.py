"""Errors of the render stage; every one maps to the `RenderFailed` Reason.

    ManifestError (sealer.errors)
    └── RenderError             a checkout that cannot become a list of objects   RenderFailed
        ├── PathEscapeError     a path or symlink that leaves the checkout root
        └── MissingPathError    a path that does not exist in the checkout

Messages name repo-relative paths (never the cache directory) and never file contents.
"""

from __future__ import annotations

from sealer import errors

__all__ = ["MissingPathError", "PathEscapeError", "RenderError"]


class RenderError(errors.ManifestError):
    reason = "RenderFailed"


class PathEscapeError(RenderError):
    """e.g. `out of bounds symlink: app/x.yaml`; the target is never opened."""


class MissingPathError(RenderError):
    """A configured path, or a component of it, does not exist."""
