"""`render`: a checkout and a configured path in, the list of objects out.

A path holding a kustomization file is built with Kustomize (`kustomize`); any other
directory is read file by file (`directory`). Both return checked objects (`documents`) or
raise a `ManifestError` (mostly `RenderError`); there is no partial result.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from controller.render import directory, errors, kustomization, kustomize, limits, paths

__all__ = ["DEFAULT_LIMITS", "render"]

DEFAULT_LIMITS = limits.Limits()


def render(
    checkout_root: Path, *, path: str, limits: limits.Limits = DEFAULT_LIMITS
) -> list[dict[str, Any]]:
    """Every object under `path` (repo-relative) of the checkout at `checkout_root`."""
    root_real = paths.real_root(checkout_root)
    base = paths.resolve_within(root_real, root_real, paths.check_relative(path))
    if not os.path.isdir(base):
        raise errors.RenderError(f"{paths.relative(root_real, base)}: not a directory")
    if kustomization.find_kustomization(root_real, base) is not None:
        return kustomize.render(root_real, base, caps=limits)
    return directory.render(root_real, base, caps=limits)
