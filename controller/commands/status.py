"""`sealops get|reconcile|suspend|resume|version`: what the controller did, and asking it again.

Flux-style status and control commands (a thin shell over the API server; nothing here talks
to Vault or Git, and no command reads a Secret):

    get KIND [-A | -n NS]        a table: NAME READY REASON <KEY|REVISION|REFRESHED> AGE
                                 (NAMESPACE first with -A); KIND is sealedsecrets,
                                 vaultsecrets, gitsyncs, stores or all
    reconcile KIND NAME          set `sealops.dev/reconcile-requested-at` to a new timestamp,
                                 wait until `status.lastHandledReconcileAt` echoes it, print the
                                 Ready condition; exit 1 when it is False or the wait times out
    suspend|resume gitsync NAME  spec.suspend true/false (resume then reconciles and waits)
    version                      this client's version and the controller Deployment's image

The namespace is -n, else the kubeconfig context's namespace, else `default` (as kubectl).
Exit codes: 0 success, 1 failure (not Ready, timeout, not found), 2 usage.
"""

from __future__ import annotations

import dataclasses
import datetime
import time
from collections.abc import Callable
from typing import Any

import click

from sealer import errors

__all__ = ["COMMANDS", "get", "reconcile", "resume", "suspend", "version"]

EXIT_FAILURE = 1
POLL_S = 0.5
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


class _Failed(click.ClickException):
    """Exit 1, printing the message to stderr."""

    exit_code = EXIT_FAILURE

    def show(self, file: Any = None) -> None:
        click.echo(self.message, err=True)


def _guarded(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except errors.SealopsError as exc:
        raise _Failed(f"error: {exc}") from None


def _connect(ctx: click.Context) -> Any:
    from sealer.kube import config
    return config.connect(kubeconfig=ctx.obj.get("kubeconfig"), context=ctx.obj.get("context"))


def default_namespace(kubeconfig: str | None, context: str | None = None) -> str:
    """The kubeconfig context's namespace, else `default` (kubectl's rule)."""
    try:
        from kubernetes.config import kube_config
        contexts, active = kube_config.list_kube_config_contexts(  # type: ignore[no-untyped-call]
            config_file=kubeconfig)
    except Exception:  # no kubeconfig (in-cluster): `default`, as kubectl
        return "default"
    chosen = next((c for c in contexts or [] if c.get("name") == context), None) \
        if context else active
    namespace = ((chosen or {}).get("context") or {}).get("namespace")
    return str(namespace) if namespace else "default"


def _namespace(ctx: click.Context, namespace: str | None) -> str:
    return namespace or default_namespace(ctx.obj.get("kubeconfig"), ctx.obj.get("context"))


def _namespace_option(func: Any) -> Any:
    return click.option("-n", "--namespace", default=None,
                        help="Namespace (default: the kubeconfig context's, else default).")(func)


def _parse_timeout(ctx: click.Context, param: click.Parameter, value: str) -> float:
    from controller.settings import parse_duration
    try:
        seconds = parse_duration(value).total_seconds() if not value.isdigit() else float(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None
    if seconds <= 0:
        raise click.BadParameter("must be more than 0", ctx=ctx, param=param)
    return seconds


def _timeout_option(func: Any) -> Any:
    return click.option("--timeout", default="2m", show_default=True, callback=_parse_timeout,
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
@_namespace_option
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
    ns = None if all_namespaces else _namespace(ctx, namespace)
    now = datetime.datetime.now(datetime.UTC)

    def run() -> None:
        kube = _connect(ctx)
        try:
            _print_tables(kube, GROUPS[what], namespace=ns, prefix=what == "all", now=now)
        finally:
            kube.close()

    _guarded(run)


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


# -- reconcile, suspend, resume -----------------------------------------------------------------

def request_stamp(now: datetime.datetime) -> str:
    """A new annotation value each call (RFC 3339 with microseconds, like Flux's RFC3339Nano)."""
    return now.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _request(kube: Any, kind: Kind, name: str, *, namespace: str,
             spec: dict[str, Any] | None = None) -> str:
    from controller import status
    stamp = request_stamp(datetime.datetime.now(datetime.UTC))
    patch: dict[str, Any] = {"metadata": {"annotations": {status.RECONCILE_REQUESTED_AT: stamp}}}
    if spec is not None:
        patch["spec"] = spec
    kube.patch(kind.resource, name, patch, namespace=namespace)
    return stamp


def _await(kube: Any, kind: Kind, name: str, *, namespace: str, stamp: str,
           timeout: float) -> dict[str, Any]:
    from controller import status
    deadline = time.monotonic() + timeout
    while True:
        obj = kube.get(kind.resource, name, namespace=namespace)
        if obj is None:
            raise _Failed(f"error: {kind.kind} {namespace}/{name} was deleted while waiting")
        if (obj.get("status") or {}).get(status.LAST_HANDLED) == stamp:
            return dict(obj)
        if time.monotonic() >= deadline:
            raise _Failed(f"error: timed out after {timeout:g}s waiting for the controller to "
                          f"handle the reconcile request of {kind.kind} {namespace}/{name} "
                          "(is the controller running and watching this namespace?)")
        time.sleep(POLL_S)


def _outcome(kind: Kind, obj: dict[str, Any], *, with_source: bool) -> None:
    meta = obj["metadata"]
    ready, reason, message = (printable(part) for part in ready_of(obj))
    ident = f"{kind.name}/{meta['name']}"
    if with_source:
        for line in _source_lines(kind, obj):
            click.echo(f"  {printable(line)}")
    if ready != "True":
        raise _Failed(f"✗ {ident} not ready: {reason}: {message}")
    click.echo(f"✔ {ident} reconciled: {message}")


def _source_lines(kind: Kind, obj: dict[str, Any]) -> list[str]:
    """What the run read from its source: GitSync and VaultSecret re-read theirs (git
    ls-remote, the Vault paths) on every reconcile, so the request already covered it."""
    state = obj.get("status") or {}
    if kind.name == "gitsync":
        return [f"source revision {state.get('lastAttemptedRevision') or 'unknown'} "
                f"(applied: {state.get('lastAppliedRevision') or 'none'})"]
    if kind.name == "vaultsecret":
        return [f"Vault path {v.get('path')} version {v.get('version', '-')}"
                for v in state.get("versions") or []] or ["no Vault versions recorded"]
    return [f"opened with key generation {state.get('keyId') or 'unknown'}"]


def _reconcile(ctx: click.Context, kind: Kind, name: str, *, namespace: str | None,
               timeout: float, with_source: bool, spec: dict[str, Any] | None = None) -> None:
    ns = _namespace(ctx, namespace)

    def run() -> dict[str, Any]:
        kube = _connect(ctx)
        try:
            obj = kube.get(kind.resource, name, namespace=ns)
            if obj is None:
                raise _Failed(f"error: {kind.kind} {ns}/{name} not found")
            if spec is None and (obj.get("spec") or {}).get("suspend") is True:
                raise _Failed(f"error: {kind.kind} {ns}/{name} is suspended; "
                              f"run `sealops resume {kind.name} {name} -n {ns}`")
            stamp = _request(kube, kind, name, namespace=ns, spec=spec)
            click.echo(f"► {kind.name}/{name}: reconcile requested at {stamp}; waiting")
            return _await(kube, kind, name, namespace=ns, stamp=stamp, timeout=timeout)
        finally:
            kube.close()

    _outcome(kind, _guarded(run), with_source=with_source)


@click.command()
@click.argument("kind", type=click.Choice(["gitsync", "vaultsecret", "sealedsecret"]))
@click.argument("name")
@_namespace_option
@click.option("--with-source", is_flag=True,
              help="Also print what was read from the source (GitSync: the fetched revision; "
                   "VaultSecret: the Vault versions; SealedSecret: the key generation). Both "
                   "GitSync and VaultSecret re-read their source on every reconcile.")
@_timeout_option
@click.pass_context
def reconcile(  # noqa: PLR0917  (click passes every option as a parameter)
        ctx: click.Context, kind: str, name: str, namespace: str | None,
        with_source: bool, timeout: float) -> None:
    """Ask the controller to reconcile NAME now, wait, and print the outcome.

    Sets the annotation sealops.dev/reconcile-requested-at; done when the object's
    status.lastHandledReconcileAt shows the same value. Exit 1 when not Ready or on timeout.
    """
    _reconcile(ctx, KINDS[kind], name, namespace=namespace, timeout=timeout,
               with_source=with_source)


@click.command()
@click.argument("kind", type=click.Choice(["gitsync"]))
@click.argument("name")
@_namespace_option
@click.pass_context
def suspend(ctx: click.Context, kind: str, name: str, namespace: str | None) -> None:
    """Stop reconciling a GitSync (spec.suspend: true); its objects stay as they are."""
    res, ns = KINDS[kind], _namespace(ctx, namespace)

    def run() -> None:
        kube = _connect(ctx)
        try:
            if kube.get(res.resource, name, namespace=ns) is None:
                raise _Failed(f"error: {res.kind} {ns}/{name} not found")
            kube.patch(res.resource, name, {"spec": {"suspend": True}}, namespace=ns)
        finally:
            kube.close()

    _guarded(run)
    click.echo(f"► {kind}/{name} suspended")


@click.command()
@click.argument("kind", type=click.Choice(["gitsync"]))
@click.argument("name")
@_namespace_option
@_timeout_option
@click.pass_context
def resume(ctx: click.Context, kind: str, name: str, namespace: str | None,
           timeout: float) -> None:
    """Resume a suspended GitSync (spec.suspend: false), then reconcile it and wait."""
    _reconcile(ctx, KINDS[kind], name, namespace=namespace, timeout=timeout,
               with_source=False, spec={"suspend": False})


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
        kube = _connect(ctx)
        try:
            found: dict[str, Any] | None = kube.get(res, deployment,
                                                    namespace=controller_namespace)
            return found
        finally:
            kube.close()

    found = _guarded(run)
    if found is None:
        raise _Failed(f"error: no Deployment {controller_namespace}/{deployment}: the "
                      "controller is not installed there (see --controller-namespace)")
    for line in describe_deployment(found):
        click.echo(line)


COMMANDS = (get, reconcile, suspend, resume, version)
