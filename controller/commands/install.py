"""`sealops install`: print (`--export`) or apply the CRDs and the controller, like
`flux install`.

The objects come from the manifests shipped in the package (`controller.manifests.plan`), the
same files as crds/ and deploy/ in the repository. Applying uses our own client with
server-side apply (field manager `sealops-install`, conflicts forced, as `flux install` does,
so an install made with `kubectl apply -k deploy/` is taken over instead of refused):

1. every object's kind is checked to be served (kinds our CRDs add excepted), and every
   `--tenant-namespace` to exist, before anything is written: an API server too old for an
   asked-for component fails the install with the object and what it needs, unchanged;
2. the CRDs are applied and waited for (`Established`), except one that already exists and
   is not ours (neither labelled `app.kubernetes.io/part-of: sealops` nor applied by
   `sealops-install`): Bitnami's own `sealedsecrets.bitnami.com`, or kopf's peering CRDs
   installed by another operator, are kept as they are (and said so on stderr);
3. the Namespace, then everything else, in the rendered order.

Nothing is waited for after that: `kubectl rollout status` says when the pods are up.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

import click

from sealer import errors

if TYPE_CHECKING:
    from sealer.kube import client

__all__ = ["install"]

FIELD_MANAGER = "sealops-install"
CRD_WAIT_S = 120.0
# What an asked-for object needs when the API server does not serve its kind.
_NEEDS = {("policy/v1", "PodDisruptionBudget"): "Kubernetes 1.21+ (--component pdb)"}


@click.command()
@click.option("--export", is_flag=True,
              help="Print the manifests as YAML instead of applying them.")
@click.option("-n", "--namespace", default="sealops-system", show_default=True,
              help="The controller's namespace (created; key generations live there).")
@click.option("--image", required=True, metavar="REF",
              help="The controller image, fully qualified: registry host, repository, tag or "
                   "digest (build it from the Dockerfile; there is no published image).")
@click.option("--replicas", type=click.IntRange(1, 20), default=2, show_default=True)
@click.option("--bitnami-compat", is_flag=True,
              help="Also install the bitnami.com SealedSecret CRD and run the controller "
                   "with --bitnami-compat (it then owns `kubectl get sealedsecrets`).")
@click.option("--component", "components", multiple=True,
              type=click.Choice(["pdb", "network-policy", "pod-security"]),
              help="Optional parts from deploy/components (repeatable): pdb (1.21+), "
                   "network-policy (needs an enforcing CNI), pod-security (enforced 1.23+).")
@click.option("--gitops", type=click.Choice(["tenant", "admin"]), default=None,
              help="Also the rights GitSyncs apply with: admin = deploy/gitops-admin "
                   "(cluster-admin account), tenant = deploy/gitops-tenant per "
                   "--tenant-namespace.")
@click.option("--tenant-namespace", "tenant_namespaces", multiple=True, metavar="NS",
              help="With --gitops tenant: a namespace (existing) whose GitSyncs may apply "
                   "there (repeatable).")
@click.option("--kubeconfig", type=click.Path(dir_okay=False), default=None,
              help="Kubeconfig file (default: the one given to `sealops`, $KUBECONFIG, "
                   "~/.kube/config).")
@click.option("--context", "kube_context", default=None, help="Kubeconfig context.")
@click.pass_context
def install(ctx: click.Context, export: bool, namespace: str, image: str, replicas: int,  # noqa: PLR0917
            bitnami_compat: bool, components: tuple[str, ...], gitops: str | None,
            tenant_namespaces: tuple[str, ...], kubeconfig: str | None,
            kube_context: str | None) -> None:
    """Install the CRDs and the controller, or print them with --export.

    \b
    sealops install --image registry.example.com/sealops:0.1.0
    sealops install --export --image registry.example.com/sealops:0.1.0 > sealops.yaml

    Exit codes: 0 applied (or printed); 2 bad options; 3 the shipped manifests cannot be
    rendered; 7 the cluster refused or lacks something (a kind it does not serve or a missing
    --tenant-namespace is found before anything is written).
    """
    from controller.manifests import kustomize, plan

    options = plan.Options(image=image, namespace=namespace, replicas=replicas,
                           bitnami_compat=bitnami_compat, components=tuple(components),
                           gitops=gitops, tenant_namespaces=tuple(tenant_namespaces))
    try:
        objects = plan.render(options)
    except plan.OptionsError as exc:
        raise errors.UsageError(str(exc)) from None
    except kustomize.UnsupportedError as exc:
        raise errors.ManifestError(f"shipped manifests: {exc}") from None
    if export:
        _export(objects)
        return
    from sealer.kube import config

    kube = config.connect(kubeconfig=kubeconfig or (ctx.obj or {}).get("kubeconfig"),
                          context=kube_context, timeout=30.0, pool_size=2)
    try:
        apply_all(kube, objects, tenant_namespaces=tenant_namespaces)
    finally:
        kube.close()
    click.echo(f"sealops: installed; wait for it with `kubectl -n {namespace} rollout status "
               "deployment/sealops-controller`", err=True)


def _export(objects: list[dict[str, Any]]) -> None:
    import yaml

    for obj in objects:
        sys.stdout.write("---\n")
        sys.stdout.write(yaml.safe_dump(obj, sort_keys=False, default_flow_style=False))


def apply_all(kube: client.KubeClient, objects: list[dict[str, Any]], *,
              tenant_namespaces: tuple[str, ...] = ()) -> None:
    """Pre-flight, CRDs, wait, then the rest (see the module docstring)."""
    crds = [o for o in objects if o["kind"] == "CustomResourceDefinition"]
    rest = [o for o in objects if o["kind"] != "CustomResourceDefinition"]
    _preflight(kube, rest, crds=crds, tenant_namespaces=tenant_namespaces)
    crd_resource = kube.resource("apiextensions.k8s.io/v1", "CustomResourceDefinition")
    for crd in crds:
        name = crd["metadata"]["name"]
        existing = kube.get(crd_resource, name)
        if existing is not None and not _ours(existing):
            click.echo(f"sealops: kept CustomResourceDefinition {name}: it exists and was not "
                       "installed by sealops", err=True)
            continue
        _apply(kube, crd_resource, crd)
    _wait_established(kube, crd_resource, [c["metadata"]["name"] for c in crds])
    kube.forget_discovery()
    for obj in rest:
        _apply(kube, kube.resource(obj["apiVersion"], obj["kind"]), obj)


def _preflight(kube: client.KubeClient, objects: list[dict[str, Any]], *,
               crds: list[dict[str, Any]], tenant_namespaces: tuple[str, ...]) -> None:
    from sealer.kube import client
    from sealer.kube import errors as kerrors

    ours = {c["spec"]["group"] for c in crds}
    for obj in objects:
        api_version, kind = obj["apiVersion"], obj["kind"]
        if api_version.partition("/")[0] in ours:
            continue
        try:
            kube.resource(api_version, kind)
        except kerrors.ApiError as exc:
            if exc.status != 404:
                raise
            needs = _NEEDS.get((api_version, kind), "a newer Kubernetes")
            raise errors.ClusterError(
                f"{kind} {obj['metadata']['name']}: {api_version} is not served by this API "
                f"server; it needs {needs}. Nothing was applied.") from None
    for tenant in tenant_namespaces:
        if kube.get(client.NAMESPACES, tenant) is None:
            raise errors.ClusterError(f"--tenant-namespace {tenant}: namespace not found. "
                                      "Nothing was applied.")


def _apply(kube: client.KubeClient, res: client.Resource, obj: dict[str, Any]) -> None:
    kube.apply(res, obj, field_manager=FIELD_MANAGER, force=True)
    group = f".{res.group}" if res.group else ""
    click.echo(f"{res.kind.lower()}{group}/{obj['metadata']['name']} serverside-applied")


def _ours(obj: dict[str, Any]) -> bool:
    meta = obj.get("metadata") or {}
    if (meta.get("labels") or {}).get("app.kubernetes.io/part-of") == "sealops":
        return True
    return any(m.get("manager") == FIELD_MANAGER for m in meta.get("managedFields") or [])


def _wait_established(kube: client.KubeClient, res: client.Resource,
                      names: list[str]) -> None:
    deadline = time.monotonic() + CRD_WAIT_S
    for name in names:
        while not _established(kube.get(res, name)):
            if time.monotonic() > deadline:
                raise errors.ClusterError(f"CustomResourceDefinition {name}: not Established "
                                          f"after {CRD_WAIT_S:.0f} s")
            time.sleep(0.5)


def _established(crd: dict[str, Any] | None) -> bool:
    conditions = ((crd or {}).get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Established" and c.get("status") == "True"
               for c in conditions)
