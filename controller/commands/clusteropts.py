"""`--kubeconfig` and `--context` on every `sealops` command that talks to a cluster.

kubectl takes them before or after the subcommand; so does `sealops`: the group's options
(`sealops --kubeconfig K sync ...`) and a subcommand's (`sealops sync ... --kubeconfig K`)
land in the root context object (`ctx.find_root().obj`, a dict), the subcommand's winning.
`connect(ctx)` builds the client from them; errors name the file or context
(`sealer.kube.config`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from sealer.kube import client

__all__ = ["connect", "kube_options", "target"]

F = TypeVar("F", bound=Callable[..., Any])
KUBECONFIG_HELP = "Kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster)."
CONTEXT_HELP = "Kubeconfig context to use (default: the current context)."


def _store(key: str) -> Callable[[click.Context, click.Parameter, Any], Any]:
    def callback(ctx: click.Context, _param: click.Parameter, value: Any) -> Any:
        if value is not None:
            root = ctx.find_root()
            root.obj = {**(root.obj or {}), key: value}
        return value

    return callback


def kube_options(func: F) -> F:
    """Add `--kubeconfig` and `--context` to a subcommand (values go to the root object)."""
    func = click.option("--context", expose_value=False, callback=_store("context"),
                        help=CONTEXT_HELP)(func)
    return click.option("--kubeconfig", type=click.Path(dir_okay=False), expose_value=False,
                        callback=_store("kubeconfig"), help=KUBECONFIG_HELP)(func)


def target(ctx: click.Context) -> tuple[str | None, str | None]:
    """(kubeconfig, context) of the running command; None: the defaults."""
    obj = ctx.find_root().obj or {}
    return obj.get("kubeconfig"), obj.get("context")


def connect(ctx: click.Context, *, pool_size: int = 2) -> client.KubeClient:
    from sealer.kube import config  # lazy: loads the kubernetes package

    kubeconfig, context = target(ctx)
    return config.connect(kubeconfig=kubeconfig, context=context, pool_size=pool_size)
