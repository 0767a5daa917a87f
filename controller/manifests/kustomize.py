"""The subset of Kustomize that deploy/ uses, in Python, so `sealops install` needs no kubectl.

Supported (and nothing else: any other field is refused with its name, so a future edit of
deploy/ that needs more fails loudly in tests instead of rendering something different):

    resources    files, or directories holding a kustomization.yaml
    components   directories holding a Component
    namespace    sets metadata.namespace of namespaced objects, and the namespace of
                 ServiceAccount subjects that name a ServiceAccount of this same render
                 (what Kustomize does; other subjects are left alone)
    labels       `pairs` with `includeSelectors: false` (metadata.labels only)
    patches      `path:` strategic-merge patches of maps, targeted by the patch's kind + name

tests/integration/deploy/test_install_command.py renders every shipped kustomization both with
this module and with `kubectl kustomize` and requires identical objects.
"""

from __future__ import annotations

import copy
from importlib.resources.abc import Traversable
from typing import Any

import yaml

__all__ = ["CLUSTER_SCOPED", "UnsupportedError", "apply_component", "load_documents", "render",
           "set_namespace"]

JSON = dict[str, Any]
KUSTOMIZATION = "kustomization.yaml"
_KNOWN = frozenset({"apiVersion", "kind", "resources", "components", "namespace", "labels",
                    "patches"})
# The cluster-scoped kinds deploy/ and crds/ hold; an unknown kind is refused, not guessed.
CLUSTER_SCOPED = frozenset({"Namespace", "ClusterRole", "ClusterRoleBinding",
                            "CustomResourceDefinition", "ClusterKopfPeering"})
NAMESPACED = frozenset({"ServiceAccount", "Role", "RoleBinding", "Deployment", "Service",
                        "PodDisruptionBudget", "NetworkPolicy", "ConfigMap", "Secret"})


class UnsupportedError(ValueError):
    """A kustomization uses something this subset does not render."""


def load_documents(file: Traversable) -> list[JSON]:
    """Every non-empty YAML document of a shipped file."""
    docs = [d for d in yaml.safe_load_all(file.read_text(encoding="utf-8")) if d]
    for doc in docs:
        if not isinstance(doc, dict) or "kind" not in doc:
            raise UnsupportedError(f"{file.name}: not a Kubernetes object")
    return docs


def render(directory: Traversable, *, _component: bool = False) -> list[JSON]:
    """The objects `kubectl kustomize DIRECTORY` prints, in Kustomize's resource order."""
    spec = _kustomization(directory, component=_component)
    objects: list[JSON] = []
    for entry in spec.get("resources") or []:
        target = _child(directory, entry)
        objects += render(target) if target.is_dir() else load_documents(target)
    for entry in spec.get("components") or []:
        objects = apply_component(objects, _child(directory, entry))
    return _transform(objects, spec, directory)


def apply_component(objects: list[JSON], directory: Traversable) -> list[JSON]:
    """A Component adds its resources to, and runs its transformers over, the parent's."""
    spec = _kustomization(directory, component=True)
    added: list[JSON] = []
    for entry in spec.get("resources") or []:
        target = _child(directory, entry)
        added += render(target) if target.is_dir() else load_documents(target)
    return _transform(objects + added, spec, directory)


def _transform(objects: list[JSON], spec: JSON, directory: Traversable) -> list[JSON]:
    objects = [copy.deepcopy(o) for o in objects]
    for entry in spec.get("patches") or []:
        if set(entry) != {"path"}:
            raise UnsupportedError(f"{directory.name}: patches support only `path`")
        for patch in load_documents(_child(directory, entry["path"])):
            _patch(objects, patch, where=directory.name)
    if "namespace" in spec:
        set_namespace(objects, str(spec["namespace"]))
    for entry in spec.get("labels") or []:
        if set(entry) - {"pairs", "includeSelectors"} or entry.get("includeSelectors"):
            raise UnsupportedError(f"{directory.name}: labels support only `pairs` "
                                   "with includeSelectors: false")
        for obj in objects:
            obj["metadata"].setdefault("labels", {}).update(entry["pairs"])
    return objects


def _kustomization(directory: Traversable, *, component: bool) -> JSON:
    spec = yaml.safe_load(directory.joinpath(KUSTOMIZATION).read_text(encoding="utf-8"))
    if not isinstance(spec, dict):
        raise UnsupportedError(f"{directory.name}/{KUSTOMIZATION}: not a mapping")
    unknown = sorted(set(spec) - _KNOWN)
    if unknown:
        raise UnsupportedError(f"{directory.name}/{KUSTOMIZATION}: unsupported {unknown}")
    if (spec.get("kind") == "Component") != component:
        raise UnsupportedError(f"{directory.name}/{KUSTOMIZATION}: kind {spec.get('kind')}")
    return spec


def _child(directory: Traversable, entry: object) -> Traversable:
    """A path below a shipped directory; `..` and absolute paths stay out of the package."""
    parts = str(entry).strip("/").split("/")
    if str(entry).startswith("/") or ".." in parts or "" in parts:
        raise UnsupportedError(f"{directory.name}: path {entry!r} leaves the directory")
    target = directory
    for part in parts:
        if part != ".":
            target = target.joinpath(part)
    return target


def _patch(objects: list[JSON], patch: JSON, *, where: str) -> None:
    name = patch.get("metadata", {}).get("name")
    matches = [o for o in objects if o["kind"] == patch["kind"]
               and o["metadata"]["name"] == name]
    if len(matches) != 1:
        raise UnsupportedError(f"{where}: patch for {patch['kind']}/{name} matches "
                               f"{len(matches)} objects")
    _merge(matches[0], patch, where=where)


def _merge(into: JSON, patch: JSON, *, where: str) -> None:
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value, where=where)
        elif isinstance(value, list):
            raise UnsupportedError(f"{where}: patches of lists ({key}) are not supported")
        else:
            into[key] = copy.deepcopy(value)


def set_namespace(objects: list[JSON], namespace: str) -> None:
    accounts = {(o["metadata"].get("namespace"), o["metadata"]["name"])
                for o in objects if o["kind"] == "ServiceAccount"}
    for obj in objects:
        kind = obj["kind"]
        if kind not in CLUSTER_SCOPED | NAMESPACED:
            raise UnsupportedError(f"{kind}/{obj['metadata']['name']}: unknown scope")
        if kind in NAMESPACED:
            obj["metadata"]["namespace"] = namespace
        for subject in obj.get("subjects") or [] if kind.endswith("Binding") else []:
            if subject.get("kind") == "ServiceAccount" and \
                    (subject.get("namespace"), subject["name"]) in accounts:
                subject["namespace"] = namespace
