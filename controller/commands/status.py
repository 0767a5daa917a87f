"""`sealops get|version`: what the controller did, and what runs; helpers `control` shares.

Flux-style status commands (a thin shell over the API server; nothing here talks to Vault or
Git, and no command reads a Secret); `controller.commands.control` holds the ones that act:

    get KIND [-A | -n NS]   a table: NAME READY REASON <KEY|REVISION|REFRESHED> AGE
                            (NAMESPACE first with -A); KIND is sealedsecrets, vaultsecrets,
                            gitsyncs, stores or all
    version                 this client's version and the controller Deployment's image

The namespace is -n, else the kubeconfig context's namespace, else `default` (as kubectl).
Exit codes: 0 success, 1 failure (no Deployment, an API error), 2 usage.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable
from typing import Any

import click

from controller.commands import clusteropts
from sealer import errors

__all__ = ["COMMANDS", "KINDS", "Failed", "connect", "get", "guarded", "namespace_of",
           "namespace_option", "printable", "ready_of", "timeout_option", "version"]

EXIT_FAILURE = 1
GROUP, VERSION = "sealops.dev", "v1alpha1"


@dataclasses.dataclass(frozen=True)
class Kind:
    """One sealops kind as these commands show it: its resource and its fourth column."""

    name: str  # the singular lower-case name users type
    kind: str
    plural: str
    namespaced: bool
    column: str
    value: Callable[[dict[str, Any]], str]

    @property
    def resource(self) -> Any:
        from sealer.kube import client
        return client.Resource(GROUP, VERSION, self.kind, self.plural, self.namespaced)


def _status(obj: dict[str, Any], field: str) -> str:
    return str((obj.get("status") or {}).get(field) or "")


KINDS = {
    "sealedsecret": Kind("sealedsecret", "SealedSecret", "sealedsecrets", True, "KEY",
                         lambda o: _status(o, "keyId")[:16]),
    "vaultsecret": Kind("vaultsecret", "VaultSecret", "vaultsecrets", True, "REFRESHED",
                        lambda o: _status(o, "refreshTime")),
    "gitsync": Kind("gitsync", "GitSync", "gitsyncs", True, "REVISION",
                    lambda o: _status(o, "lastAppliedRevision")),
    "vaultstore": Kind("vaultstore", "VaultStore", "vaultstores", True, "SERVER",
                       lambda o: str((o.get("spec") or {}).get("server") or "")),
    "clustervaultstore": Kind("clustervaultstore", "ClusterVaultStore", "clustervaultstores",
                              False, "SERVER",
                              lambda o: str((o.get("spec") or {}).get("server") or "")),
}
GROUPS = {
    "sealedsecrets": ("sealedsecret",), "vaultsecrets": ("vaultsecret",),
    "gitsyncs": ("gitsync",), "stores": ("vaultstore", "clustervaultstore"),
    "all": ("sealedsecret", "vaultsecret", "gitsync", "vaultstore", "clustervaultstore"),
}
ALIASES = {"sealedsecret": "sealedsecrets", "ss": "sealedsecrets",
           "vaultsecret": "vaultsecrets", "vs": "vaultsecrets", "gitsync": "gitsyncs",
           "gs": "gitsyncs", "store": "stores", "vaultstores": "stores"}


class Failed(click.ClickException):
    """Exit 1, printing the message to stderr."""

    exit_code = EXIT_FAILURE

    def show(self, file: Any = None) -> None:
        click.echo(self.message, err=True)


def guarded(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except errors.SealopsError as exc:
        raise Failed(f"error: {exc}") from None


def connect(ctx: click.Context) -> Any:
    return clusteropts.connect(ctx)


def default_namespace(kubeconfig: str | None, context: str | None = None) -> str:
    """The kubeconfig context's namespace, else `default` (kubectl's rule)."""
    from sealer import kubeconfig as kubeconfigs

    return kubeconfigs.select(kubeconfig, context).namespace


def namespace_of(ctx: click.Context, namespace: str | None) -> str:
    return namespace or guarded(lambda: default_namespace(*clusteropts.target(ctx)))


def namespace_option(func: Any) -> Any:
    """`-n/--namespace`, `--kubeconfig` and `--context`: every command here reaches a cluster."""
    func = clusteropts.kube_options(func)
    return click.option("-n", "--namespace", default=None,
                        help="Namespace (default: the kubeconfig context's, else default).")(func)


def parse_timeout(ctx: click.Context, param: click.Parameter, value: str) -> float:
    from controller.settings import parse_duration
    try:
        seconds = parse_duration(value).total_seconds() if not value.isdigit() else float(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None
    if seconds <= 0:
        raise click.BadParameter("must be more than 0", ctx=ctx, param=param)
    return seconds


def timeout_option(func: Any) -> Any:
    return click.option("--timeout", default="2m", show_default=True, callback=parse_timeout,
                        help="How long to wait for the controller (e.g. 90s, 5m).")(func)


# -- get -------------------------------------------------------------------------------------

def ready_of(obj: dict[str, Any]) -> tuple[str, str, str]:
    """(status, reason, message) of the Ready condition; Unknown while none was written."""
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return (str(cond.get("status") or "Unknown"), str(cond.get("reason") or ""),
                    str(cond.get("message") or ""))
    return "Unknown", "", ""


def age(created: str | None, *, now: datetime.datetime) -> str:
    """kubectl's short age: 45s, 12m, 5h, 3d."""
    if not created:
        return ""
    try:
        then = datetime.datetime.fromisoformat(created.replace("Z", "+00:00"))
    except ValueError:
        return ""
    seconds = max(0, int((now - then).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def rows(kind: Kind, objects: list[dict[str, Any]], *, all_namespaces: bool, prefix: bool,
         now: datetime.datetime) -> list[list[str]]:
    """The table for one kind, header first (pure: tested without a cluster)."""
    header = ["NAME", "READY", "REASON", kind.column, "AGE"]
    if kind.name == "gitsync":
        header.insert(4, "SUSPENDED")
    if all_namespaces:
        header.insert(0, "NAMESPACE")
    table = [header]
    for obj in sorted(objects, key=lambda o: (o["metadata"].get("namespace") or "",
                                              o["metadata"]["name"])):
        meta = obj["metadata"]
        ready, reason, _ = ready_of(obj)
        name = f"{kind.name}/{meta['name']}" if prefix else meta["name"]
        row = [name, ready, reason, kind.value(obj), age(meta.get("creationTimestamp"), now=now)]
        if kind.name == "gitsync":
            row.insert(4, str(bool((obj.get("spec") or {}).get("suspend"))).lower())
        if all_namespaces:
            row.insert(0, str(meta.get("namespace") or ""))
        table.append(row)
    return table


def printable(text: str) -> str:
    """`text` safe for a terminal: control and bidi characters become `?`. Status fields come
    from the controller, but anyone who may write an object's status could put escape
    sequences there, and this output goes to an operator's terminal."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def render(table: list[list[str]]) -> str:
    table = [[printable(cell) for cell in row] for row in table]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    return "\n".join("   ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))
                     .rstrip() for row in table)


def _list(kube: Any, kind: Kind, *, namespace: str | None) -> list[dict[str, Any]] | None:
    """The objects, or None when the cluster does not serve the kind (CRD not installed)."""
    from sealer.kube import errors as kerrors
    try:
        return list(kube.list(kind.resource, namespace=namespace if kind.namespaced else None))
    except kerrors.ApiError as exc:
        if exc.status == 404:
            return None
        raise


@click.command()
@click.argument("what", default="all", metavar="[sealedsecrets|vaultsecrets|gitsyncs|stores|all]")
@namespace_option
@click.option("-A", "--all-namespaces", is_flag=True, help="List across all namespaces.")
@click.pass_context
def get(ctx: click.Context, what: str, namespace: str | None, all_namespaces: bool) -> None:
    """Show sealops objects with their Ready condition, reason, key or revision and age."""
    what = ALIASES.get(what.lower(), what.lower())
    if what not in GROUPS:
        raise click.BadParameter(f"unknown kind {what!r}; one of {', '.join(GROUPS)}",
                                 param_hint="KIND")
    if all_namespaces and namespace:
        raise click.UsageError("-A and -n exclude each other")
    ns = None if all_namespaces else namespace_of(ctx, namespace)
    now = datetime.datetime.now(datetime.UTC)

    def run() -> None:
        kube = connect(ctx)
        try:
            _print_tables(kube, GROUPS[what], namespace=ns, prefix=what == "all", now=now)
        finally:
            kube.close()

    guarded(run)


def _print_tables(kube: Any, names: tuple[str, ...], *, namespace: str | None, prefix: bool,
                  now: datetime.datetime) -> None:
    printed = False
    for name in names:
        kind = KINDS[name]
        found = _list(kube, kind, namespace=namespace)
        if found is None:
            click.echo(f"warning: the cluster serves no {kind.plural}.{GROUP} "
                       "(are the sealops CRDs installed?)", err=True)
            continue
        if not found:
            continue
        if printed:
            click.echo()
        click.echo(render(rows(kind, found, all_namespaces=namespace is None and
                               kind.namespaced, prefix=prefix, now=now)))
        printed = True
    if not printed:
        where = "any namespace" if namespace is None else f"namespace {namespace}"
        click.echo(f"no sealops objects found in {where}", err=True)


# -- version -----------------------------------------------------------------------------------

DEPLOYMENT = "sealops-controller"


def client_version() -> str:
    from importlib import metadata
    try:
        return metadata.version("sealops")
    except metadata.PackageNotFoundError:
        return "unknown (not installed as a package)"


def describe_deployment(deployment: dict[str, Any]) -> list[str]:
    """The controller's build as its Deployment states it: image(s), version label, replicas."""
    meta = deployment["metadata"]
    labels = meta.get("labels") or {}
    spec = deployment.get("spec") or {}
    images = [c.get("image", "?") for c in
              ((spec.get("template") or {}).get("spec") or {}).get("containers") or []]
    state = deployment.get("status") or {}
    lines = [f"controller: {', '.join(images) or 'no containers'} "
             f"(Deployment {meta['namespace']}/{meta['name']}, "
             f"{state.get('readyReplicas') or 0}/{spec.get('replicas', 1)} ready)"]
    version = labels.get("app.kubernetes.io/version")
    if version:
        lines.append(f"controller version label: {version}")
    return lines


@click.command()
@clusteropts.kube_options
@click.option("--client", "client_only", is_flag=True, help="Only the client's version.")
@click.option("--controller-namespace", default="sealops-system", show_default=True,
              help="Where the controller Deployment runs.")
@click.option("--deployment", default=DEPLOYMENT, show_default=True,
              help="The controller Deployment's name.")
@click.pass_context
def version(ctx: click.Context, client_only: bool, controller_namespace: str,
            deployment: str) -> None:
    """Print this client's version and the controller's build (its Deployment's image)."""
    click.echo(f"client: sealops {client_version()}")
    if client_only:
        return

    def run() -> dict[str, Any] | None:
        from sealer.kube import client
        res = client.Resource("apps", "v1", "Deployment", "deployments", True)
        kube = connect(ctx)
        try:
            found: dict[str, Any] | None = kube.get(res, deployment,
                                                    namespace=controller_namespace)
            return found
        finally:
            kube.close()

    found = guarded(run)
    if found is None:
        raise Failed(f"error: no Deployment {controller_namespace}/{deployment}: the "
                      "controller is not installed there (see --controller-namespace)")
    for line in describe_deployment(found):
        click.echo(line)


COMMANDS = (get, version)
