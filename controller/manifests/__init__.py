"""The CRDs and the deploy/ Kustomize tree, shipped inside the package for `sealops install`.

`crds/` and `deploy/` here are symlinks to the repository's top-level directories, so a source
checkout has one copy of every manifest; setuptools follows them when it builds the wheel
(package data in pyproject.toml), so an installed wheel holds real files. Everything is read
through `importlib.resources`, never through paths relative to the source tree.

    kustomize  the subset of Kustomize those directories use, rendered in Python (no kubectl)
    plan       `sealops install`'s options -> the ordered list of objects to apply or print
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable

__all__ = ["CONTROLLER_NAMESPACE", "crd_dir", "deploy_dir"]

# The namespace the shipped manifests name; `sealops install --namespace` replaces it.
CONTROLLER_NAMESPACE = "sealops-system"


def _root() -> Traversable:
    return resources.files(__name__)


def crd_dir() -> Traversable:
    return _root().joinpath("crds")


def deploy_dir() -> Traversable:
    return _root().joinpath("deploy")
