"""Rendering: a checkout (a directory tree) becomes a list of Kubernetes objects.

Modules (imported as namespaces by the controller):

    build        `render(checkout_root, *, path, limits)`: the one entry point
    paths        `secure_join`, symlink-bounds policy, regular-file reads, checkout scan
    directory    plain YAML/JSON directories
    kustomize    `kustomize build` / `kubectl kustomize`, fenced in (no network)
    kustomization  every file and directory a kustomization names: no URL, nothing outside
    documents    parsing with `sealer.manifests.safeyaml` and per-object checks
    limits       `Limits`, the caps of one render
    errors       `RenderError`, `PathEscapeError`, `MissingPathError`

This package never touches git or the cluster; it reads the checkout given to it.
"""

from __future__ import annotations

from controller.render.build import render
from controller.render.errors import MissingPathError, PathEscapeError, RenderError
from controller.render.limits import Limits
from controller.render.paths import secure_join

__all__ = ["Limits", "MissingPathError", "PathEscapeError", "RenderError", "render", "secure_join"]
