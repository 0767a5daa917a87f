"""Whether a kind is namespaced: the cluster decides; CRDs in a render may only add new kinds.

A render is untrusted input, so it never gets to say how a kind the cluster already serves is
scoped (HOSTILE-INPUTS S18; a repo that shipped fake CRDs declaring `ClusterRoleBinding` and
`CustomResourceDefinition` "Namespaced" once passed the namespace policy and created a binding
to cluster-admin). `resolver(objects, cluster=..., ...)` returns the `is_namespaced` the planner
uses:

    kind served by the cluster (API discovery)      the cluster's answer, always
    kind not served, described by a render CRD      that CRD's `spec.scope`, only if the CRD
                                                    passes every check below
    neither                                         `cluster.unserved_scope` (live: refused)

Every CRD in the render is checked first, whether or not any object uses it; any failure is a
`PolicyError` (or `ManifestError` when malformed) naming the CRD, before anything is applied:

- the GitSync may apply CRDs at all (`allow_crds`; the admin's GitSyncs only);
- `metadata.name` is `<spec.names.plural>.<spec.group>`, `spec.scope` is Namespaced or Cluster;
- `spec.group` is not built in: not in `STATIC_BUILTIN_GROUPS`, and not a group the cluster
  serves without a CRD (core, apps, rbac.authorization.k8s.io, apiextensions.k8s.io, ...,
  aggregated APIs); a CRD describes kinds of its own `spec.group` only, by construction;
- a CRD of that name that already exists carries this GitSync's ownership label (a CRD someone
  else installed is adopted only after the admin labels it `sealops.dev/sync=<ns>.<name>`).

`Live` answers from the real cluster with the controller's own client (discovery is open to
every authenticated user; the one CRD LIST happens only when the render holds a CRD). `Offline`
is for `sealops build`, which has no cluster: built-in groups answer from a static function.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sealer import errors
from sealer.kube import client
from sealer.kube import errors as kerrors

__all__ = ["CRDS", "STATIC_BUILTIN_GROUPS", "SYNC_LABEL", "Cluster", "Live", "Offline",
           "resolver"]

IsNamespaced = Callable[[str, str], bool]
SYNC_LABEL = "sealops.dev/sync"  # re-exported as plan.SYNC_LABEL
CRDS = client.Resource("apiextensions.k8s.io", "v1", "CustomResourceDefinition",
                       "customresourcedefinitions", False)
_CRD_KEY = ("apiextensions.k8s.io", "CustomResourceDefinition")
# Built in to every Kubernetes release we support, whether or not this cluster serves them.
STATIC_BUILTIN_GROUPS = frozenset({
    "", "apps", "batch", "autoscaling", "policy", "extensions",
    "admission.k8s.io", "admissionregistration.k8s.io", "apiextensions.k8s.io",
    "apiregistration.k8s.io", "authentication.k8s.io", "authorization.k8s.io",
    "certificates.k8s.io", "coordination.k8s.io", "discovery.k8s.io", "events.k8s.io",
    "flowcontrol.apiserver.k8s.io", "internal.apiserver.k8s.io", "networking.k8s.io",
    "node.k8s.io", "rbac.authorization.k8s.io", "resource.k8s.io", "scheduling.k8s.io",
    "storage.k8s.io", "storagemigration.k8s.io", "metrics.k8s.io",
})


class Cluster(Protocol):
    """What the resolver needs to know about the cluster."""

    def served_scope(self, api_version: str, kind: str) -> bool | None:
        """True/False when the cluster serves the kind (namespaced or not), None if not."""

    def builtin_groups(self) -> frozenset[str]:
        """Groups that are not defined by CRDs (never redefinable)."""

    def crd_labels(self, name: str) -> Mapping[str, str] | None:
        """The labels of the live CRD `name`, None when there is none."""

    def unserved_scope(self, api_version: str, kind: str) -> bool:
        """A kind neither served nor described by a render CRD: an answer, or an error."""


def group_of(api_version: str) -> str:
    return api_version.rpartition("/")[0]


@dataclass(frozen=True)
class _Declared:
    namespaced: bool
    versions: frozenset[str]


def resolver(objects: Sequence[Mapping[str, Any]], *, cluster: Cluster, allow_crds: bool,
             label: str) -> IsNamespaced:
    """The `is_namespaced` for this render (see the module docstring); raises on a bad CRD."""
    declared: dict[tuple[str, str], _Declared] = {}
    crds = [obj for obj in objects
            if (group_of(str(obj.get("apiVersion", ""))), obj.get("kind")) == _CRD_KEY]
    if crds:
        builtin = STATIC_BUILTIN_GROUPS | cluster.builtin_groups()
        for crd in crds:
            key, found = _check_crd(crd, cluster=cluster, allow_crds=allow_crds, label=label,
                                    builtin=builtin)
            declared[key] = found

    def is_namespaced(api_version: str, kind: str) -> bool:
        served = cluster.served_scope(api_version, kind)
        if served is not None:
            return served
        found = declared.get((group_of(api_version), kind))
        if found is not None and api_version.rpartition("/")[2] in found.versions:
            return found.namespaced
        return cluster.unserved_scope(api_version, kind)

    return is_namespaced


def _check_crd(crd: Mapping[str, Any], *, cluster: Cluster, allow_crds: bool, label: str,
               builtin: frozenset[str]) -> tuple[tuple[str, str], _Declared]:
    name = str((crd.get("metadata") or {}).get("name", "?"))[:253]
    what = f"CustomResourceDefinition {name}"
    spec = crd.get("spec")
    names = spec.get("names") if isinstance(spec, Mapping) else None
    if not isinstance(spec, Mapping) or not isinstance(names, Mapping):
        raise errors.ManifestError(f"{what}: spec.names must be a mapping")
    group, kind, plural = (spec.get("group"), names.get("kind"), names.get("plural"))
    if not all(isinstance(v, str) and v for v in (group, kind, plural)):
        raise errors.ManifestError(f"{what}: spec.group, spec.names.kind and "
                                   "spec.names.plural are required strings")
    if name != f"{plural}.{group}":
        raise errors.ManifestError(f"{what}: the name must be <spec.names.plural>.<spec.group>")
    if spec.get("scope") not in ("Namespaced", "Cluster"):
        raise errors.ManifestError(f"{what}: spec.scope must be Namespaced or Cluster")
    if str(group) in builtin:
        raise errors.PolicyError(
            f"{what}: group {str(group)[:100]!r} is built into the cluster; a CRD may not "
            "redefine its kinds")
    if not allow_crds:
        raise errors.PolicyError(f"{what}: this GitSync may not apply CustomResourceDefinitions")
    live = cluster.crd_labels(name)
    if live is not None and live.get(SYNC_LABEL) != label:
        raise errors.PolicyError(
            f"{what} already exists and is not managed by this sync (label it "
            f"{SYNC_LABEL}={label} to hand it over)")
    versions = spec.get("versions")
    served = frozenset(str(v.get("name")) for v in versions if isinstance(v, Mapping)) \
        if isinstance(versions, list) else frozenset()
    return (str(group), str(kind)), _Declared(spec["scope"] == "Namespaced", served)


class Live:
    """Cluster facts from the API server; cached for the life of the object (one reconcile)."""

    def __init__(self, kube: client.KubeClient) -> None:
        self._kube = kube
        self._lock = threading.Lock()
        self._crds: dict[str, Mapping[str, str]] | None = None
        self._crd_groups: frozenset[str] = frozenset()

    def served_scope(self, api_version: str, kind: str) -> bool | None:
        try:
            return self._kube.resource(api_version, kind).namespaced
        except kerrors.ApiError as exc:
            if exc.status == 404:
                return None
            raise

    def builtin_groups(self) -> frozenset[str]:
        self._load_crds()
        served = {""}
        doc = self._kube.request("GET", "/apis", what="API discovery")
        for group in (doc or {}).get("groups") or []:
            if isinstance(group, Mapping) and isinstance(group.get("name"), str):
                served.add(group["name"])
        return frozenset(served) - self._crd_groups

    def crd_labels(self, name: str) -> Mapping[str, str] | None:
        return self._load_crds().get(name)

    def unserved_scope(self, api_version: str, kind: str) -> bool:
        raise errors.ManifestError(
            f"kind {kind[:100]} of {api_version[:100]} is not served by the cluster "
            "(is its CRD installed?)")

    def _load_crds(self) -> dict[str, Mapping[str, str]]:
        with self._lock:
            if self._crds is None:
                items = self._kube.list(CRDS)
                self._crds = {str(c["metadata"]["name"]):
                              dict(c["metadata"].get("labels") or {}) for c in items}
                self._crd_groups = frozenset(str((c.get("spec") or {}).get("group", ""))
                                             for c in items)
            return self._crds


class Offline:
    """No cluster (`sealops build`): kinds of built-in groups answer from `is_namespaced`, and
    so do custom kinds that no CRD in the render describes."""

    def __init__(self, is_namespaced: IsNamespaced) -> None:
        self._is_namespaced = is_namespaced

    def served_scope(self, api_version: str, kind: str) -> bool | None:
        if group_of(api_version) in STATIC_BUILTIN_GROUPS:
            return self._is_namespaced(api_version, kind)
        return None

    def builtin_groups(self) -> frozenset[str]:
        return frozenset()

    def crd_labels(self, name: str) -> Mapping[str, str] | None:
        return None

    def unserved_scope(self, api_version: str, kind: str) -> bool:
        return self._is_namespaced(api_version, kind)
