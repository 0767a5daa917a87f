"""How `seal` finds a cluster: the shared options and the two ways of reaching it.

Commands that may need the cluster take `cluster_options` (`--controller-namespace`,
`--kubeconfig`, `--context`, `--request-timeout`); those that talk to the controller also
`controller_url_option`.
The option values land in `ctx.meta` (not in the command's parameters), where

- `fetch_public_keys()` - the default `CliContext.fetch_public_keys` hook installed by
  `app.main` - reads them to fetch the published public keys (ConfigMap `sealops-public-keys`)
  when a command got no `--cert`, and
- `controller_client(ctx)` builds the client for `/v1/verify` and `/v1/rotate`: the
  `--controller-url` when given, else the API server's service proxy to the Service
  `sealops-controller`, port 8080, in the controller namespace.

`context_namespace(ctx, what=...)` is the namespace of the kubeconfig context for a Secret or
value that names none (kubeseal's rule), read from the file by `sealer.kubeconfig` without
loading a cluster client.

Only click and the standard library are imported here; `sealer.kube` (and with it the
`kubernetes` package) is imported inside the functions, so offline commands never load it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from sealer.cli import context as cli_context
from sealer.cli import options

if TYPE_CHECKING:
    from sealer.crypto import keys
    from sealer.kube import client, controller, publickeys

__all__ = [
    "DEFAULT_NAMESPACE",
    "ClusterTarget",
    "cluster_options",
    "connect",
    "context_namespace",
    "controller_client",
    "controller_url_option",
    "fetch_public_keys",
    "fetch_published",
    "target",
]

DEFAULT_NAMESPACE = "sealops-system"
_META_KEY = "sealops.cluster"
F = TypeVar("F", bound=Callable[..., Any])


@dataclasses.dataclass(frozen=True)
class ClusterTarget:
    """Where the controller is: its namespace, and how to reach the API server."""

    namespace: str = DEFAULT_NAMESPACE
    kubeconfig: str | None = None
    context: str | None = None
    controller_url: str | None = None
    request_timeout: float = 30.0  # seconds, per request (kubectl's --request-timeout)


def _remember(field: str) -> Callable[[click.Context, click.Parameter, Any], Any]:
    def callback(ctx: click.Context, _param: click.Parameter, value: Any) -> Any:
        found = ctx.meta.get(_META_KEY, ClusterTarget())
        if value is not None:
            ctx.meta[_META_KEY] = dataclasses.replace(found, **{field: value})
        else:
            ctx.meta[_META_KEY] = found
        return value

    return callback


_namespace_option = click.option(
    "--controller-namespace",
    default=DEFAULT_NAMESPACE,
    show_default=True,
    envvar="SEAL_CONTROLLER_NAMESPACE",
    expose_value=False,
    callback=_remember("namespace"),
    help="Namespace of the sealops controller (where it publishes its public keys).",
)
_kubeconfig_option = click.option(
    "--kubeconfig",
    type=click.Path(dir_okay=False),
    expose_value=False,
    callback=_remember("kubeconfig"),
    help="Kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster).",
)
_context_option = click.option(
    "--context",
    expose_value=False,
    callback=_remember("context"),
    help="Kubeconfig context to use (default: the current context).",
)
def _remember_timeout(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    seconds = value.total_seconds() if value is not None else None
    if seconds is not None and seconds <= 0:
        raise click.BadParameter("must be more than 0 (e.g. 30s, 2m)", ctx=ctx, param=param)
    return _remember("request_timeout")(ctx, param, seconds)


_timeout_option = click.option(
    "--request-timeout",
    type=options.SECONDS_OR_DURATION,
    default="30s",
    show_default=True,
    expose_value=False,
    callback=_remember_timeout,
    help="How long one request to the API server or the controller may take (30s, 2m).",
)
controller_url_option = click.option(
    "--controller-url",
    envvar="SEAL_CONTROLLER_URL",
    expose_value=False,
    callback=_remember("controller_url"),
    help="URL of the controller's HTTP endpoints (e.g. http://127.0.0.1:8080 after "
    "`kubectl port-forward`). Default: through the API server's service proxy to the Service "
    "sealops-controller, port 8080, in --controller-namespace. Env: SEAL_CONTROLLER_URL.",
)


def cluster_options(func: F) -> F:
    """Add `--controller-namespace`, `--kubeconfig`, `--context`, `--request-timeout`."""
    for option in (_timeout_option, _context_option, _kubeconfig_option, _namespace_option):
        func = option(func)
    return func


def target(ctx: click.Context | None = None) -> ClusterTarget:
    """The cluster options of the running command (defaults when it has none)."""
    ctx = ctx or click.get_current_context()
    found = ctx.meta.get(_META_KEY)
    return found if isinstance(found, ClusterTarget) else ClusterTarget()


def context_namespace(ctx: click.Context, *, what: str) -> str:
    """The kubeconfig context's namespace (else `default`) for `what`, which names none;
    said on stderr. kubeseal's rule; read without loading any cluster client."""
    from sealer import kubeconfig  # lazy import
    from sealer.manifests import secrets

    where = target(ctx)
    found = kubeconfig.select(where.kubeconfig, where.context)
    secrets.validate_namespace(found.namespace)  # a kubeconfig is input like any other
    click.echo(f"seal: {what} names no namespace; using {found.namespace!r} ({found.source})",
               err=True)
    return found.namespace


def connect(where: ClusterTarget) -> client.KubeClient:
    from sealer.kube import config  # lazy: loads the kubernetes package

    return config.connect(kubeconfig=where.kubeconfig, context=where.context,
                          timeout=where.request_timeout, pool_size=2)


def fetch_published(where: ClusterTarget) -> publickeys.Published:
    """The public keys in ConfigMap `sealops-public-keys` of the controller namespace."""
    from sealer.kube import publickeys  # lazy import

    kube = connect(where)
    try:
        return publickeys.fetch(kube, namespace=where.namespace)
    finally:
        kube.close()


def fetch_public_keys() -> keys.PublicKeys:
    """The default `CliContext.fetch_public_keys`: the running command's cluster's keys."""
    published = fetch_published(target())
    click.echo(f"seal: sealing to key {published.public.key_id_hex} from {published.source}",
               err=True)
    return published.public


def controller_client(ctx: click.Context | None = None) -> controller.ControllerClient:
    """A client for the controller: `--controller-url`, else the API server's service proxy."""
    ctx = ctx or click.get_current_context()
    hook = cli_context.get(ctx).connect_controller
    if hook is not None:
        return hook()
    from sealer.kube import config  # lazy import
    from sealer.kube import controller as controllers

    where = target(ctx)
    transport: controllers.Transport
    if where.controller_url:
        transport = controllers.DirectTransport(where.controller_url,
                                                timeout=where.request_timeout)
    else:
        connection = config.load(kubeconfig=where.kubeconfig, context=where.context)
        transport = controllers.ProxyTransport(connection, namespace=where.namespace,
                                               timeout=where.request_timeout)
    return controllers.ControllerClient(transport)
