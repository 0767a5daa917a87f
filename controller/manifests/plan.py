"""What `sealops install` puts on a cluster: its options -> the ordered objects (pure).

The same files as `kubectl apply -f crds/` + `kubectl apply -k deploy/` (plus the components
and GitOps directories asked for), rendered by `controller.manifests.kustomize`, then changed
only where an option says so:

    namespace      every mention of the controller namespace: the Namespace, metadata.namespace,
                   ServiceAccount subjects, the controller's `--namespace` argument
    image          the controller container's image (required: there is no published image,
                   and a bare `sealops:0.1.0` would be looked up on a public registry)
    replicas       the Deployment's replicas
    bitnami_compat the bitnami.com SealedSecret CRD (crds/compat/) and `--bitnami-compat`
    components     deploy/components/<name>
    gitops         deploy/gitops-admin, or deploy/gitops-tenant once per tenant namespace

Order: CRDs first, then Namespaces, then everything else, so a single pass of server-side
applies works on an empty cluster (the caller waits for the CRDs in between).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from controller import manifests
from controller.manifests import kustomize

__all__ = ["COMPONENTS", "GITOPS", "Options", "OptionsError", "render", "valid_image"]

JSON = dict[str, Any]
COMPONENTS = ("pdb", "network-policy", "pod-security")
GITOPS = ("admin", "tenant")
_LABEL = re.compile(r"^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$")
# A registry host (with a dot or a port, or localhost), a path, and a tag or digest.
_IMAGE = re.compile(
    r"^(?:localhost|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+|[A-Za-z0-9-]+(?=:[0-9]))(?::[0-9]{1,5})?"
    r"(?:/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)+"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[0-9a-f]{64})$")


class OptionsError(ValueError):
    """Options that cannot make a sensible install (the message names the option)."""


@dataclasses.dataclass(frozen=True)
class Options:
    image: str
    namespace: str = manifests.CONTROLLER_NAMESPACE
    replicas: int = 2
    bitnami_compat: bool = False
    components: tuple[str, ...] = ()
    gitops: str | None = None
    tenant_namespaces: tuple[str, ...] = ()

    def check(self) -> None:
        if not valid_image(self.image):
            raise OptionsError(
                "--image must name a registry host, a repository and a tag or digest "
                "(e.g. registry.example.com/sealops:0.1.0)")
        for flag, value in [("--namespace", self.namespace),
                            *(("--tenant-namespace", t) for t in self.tenant_namespaces)]:
            if not _LABEL.fullmatch(value):
                raise OptionsError(f"{flag} must be a namespace name (DNS-1123 label)")
        if self.replicas < 1:
            raise OptionsError("--replicas must be at least 1")
        unknown = sorted(set(self.components) - set(COMPONENTS))
        if unknown:
            raise OptionsError(f"--component: unknown {unknown}; known: {list(COMPONENTS)}")
        if "pdb" in self.components and self.replicas < 2:
            raise OptionsError("--component pdb needs --replicas 2 or more (with one replica "
                               "the budget would block every node drain)")
        if self.gitops not in (None, *GITOPS):
            raise OptionsError(f"--gitops must be one of {list(GITOPS)}")
        if (self.gitops == "tenant") != bool(self.tenant_namespaces):
            raise OptionsError("--tenant-namespace goes with --gitops tenant, which needs at "
                               "least one")
        if self.namespace in self.tenant_namespaces:
            raise OptionsError("--tenant-namespace may not be the controller namespace")


def valid_image(ref: str) -> bool:
    return len(ref) <= 512 and _IMAGE.fullmatch(ref) is not None


def render(options: Options) -> list[JSON]:
    """Every object of the install, CRDs first, then Namespaces, then the rest."""
    options.check()
    crds = _crds(bitnami_compat=options.bitnami_compat)
    objects = _controller(options)
    if options.gitops == "admin":
        objects += kustomize.render(manifests.deploy_dir().joinpath("gitops-admin"))
    for tenant in options.tenant_namespaces:
        objects += _tenant(tenant)
    objects = _unique([_move(o, options.namespace) for o in objects])
    namespaces = [o for o in objects if o["kind"] == "Namespace"]
    return crds + namespaces + [o for o in objects if o["kind"] != "Namespace"]


def _crds(*, bitnami_compat: bool) -> list[JSON]:
    root = manifests.crd_dir()
    files = sorted((f for f in root.iterdir() if f.name.endswith(".yaml")),
                   key=lambda f: f.name)
    if bitnami_compat:
        files += sorted((f for f in root.joinpath("compat").iterdir()
                         if f.name.endswith(".yaml")), key=lambda f: f.name)
    return [doc for f in files for doc in kustomize.load_documents(f)]


def _controller(options: Options) -> list[JSON]:
    """deploy/ with the components, the image, the replicas and the compat switch."""
    objects = kustomize.render(manifests.deploy_dir())
    for name in options.components:
        objects = kustomize.apply_component(
            objects, manifests.deploy_dir().joinpath("components", name))
    deployments = [o for o in objects if o["kind"] == "Deployment"]
    if len(deployments) != 1:
        raise kustomize.UnsupportedError("deploy/ must hold exactly one Deployment")
    spec = deployments[0]["spec"]
    spec["replicas"] = options.replicas
    container = spec["template"]["spec"]["containers"][0]
    container["image"] = options.image
    if options.bitnami_compat:
        container["args"].append("--bitnami-compat")
    return objects


def _tenant(namespace: str) -> list[JSON]:
    """deploy/gitops-tenant as an overlay with `namespace: NAMESPACE` renders it."""
    objects = kustomize.render(manifests.deploy_dir().joinpath("gitops-tenant"))
    kustomize.set_namespace(objects, namespace)
    return objects


def _move(obj: JSON, namespace: str) -> JSON:
    """`obj` with the shipped controller namespace replaced by `namespace`."""
    shipped = manifests.CONTROLLER_NAMESPACE
    meta = obj["metadata"]
    if obj["kind"] == "Namespace" and meta["name"] == shipped:
        meta["name"] = namespace
    if meta.get("namespace") == shipped:
        meta["namespace"] = namespace
    for subject in obj.get("subjects") or []:
        if subject.get("namespace") == shipped:
            subject["namespace"] = namespace
    if obj["kind"] == "Deployment":
        for container in obj["spec"]["template"]["spec"]["containers"]:
            args = container.get("args") or []
            for i, arg in enumerate(args[:-1]):
                if arg == "--namespace" and args[i + 1] == shipped:
                    args[i + 1] = namespace
    return obj


def _unique(objects: list[JSON]) -> list[JSON]:
    """One copy of each object (the tenant ClusterRole comes once per tenant)."""
    seen: dict[tuple[str, str, str], JSON] = {}
    for obj in objects:
        key = (obj["kind"], obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
        if key in seen and seen[key] != obj:
            raise kustomize.UnsupportedError(f"{key[0]}/{key[2]} rendered twice, differently")
        seen.setdefault(key, obj)
    return list(seen.values())
