"""`sealops dashboard`: serve the read-only web view on loopback (a thin shell).

The view reads with the caller's own kubeconfig and context, so it shows what that identity
may read and nothing more (`controller.dashboard`). It listens on 127.0.0.1 unless told
otherwise; a non-loopback address needs `--allow-non-loopback`, because anyone who can reach
the port then reads the cluster with the caller's rights.
"""

from __future__ import annotations

from typing import Any

import click

__all__ = ["dashboard"]

DEFAULT_PORT = 9333
API_TIMEOUT_S = 15.0  # one slow list leaves its section stale, not the page hanging for long


@click.command()
@click.option("--kubeconfig", type=click.Path(dir_okay=False), default=None,
              help="Kubeconfig file (default: the one given to sealops, $KUBECONFIG, "
                   "~/.kube/config).")
@click.option("--context", default=None, help="Kubeconfig context (default: the current one).")
@click.option("-n", "--namespace", default=None,
              help="Show this namespace (default: the context's namespace, else default).")
@click.option("-A", "--all-namespaces", is_flag=True, help="Show every namespace.")
@click.option("--controller-namespace", default="sealops-system", show_default=True,
              help="Where the controller publishes its public keys.")
@click.option("--address", default="127.0.0.1", show_default=True,
              help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, show_default=True,
              help="Port to listen on (0: any free port).")
@click.option("--allow-non-loopback", is_flag=True,
              help="Allow an --address that is not loopback (the view then reads the cluster "
                   "with your rights for anyone who can reach it).")
@click.option("--refresh", type=click.IntRange(0, 3600), default=10, show_default=True,
              help="Seconds between page refreshes (0: never).")
@click.option("--open/--no-open", "open_browser", default=False, show_default=True,
              help="Open the dashboard in a web browser.")
@click.pass_context
def dashboard(ctx: click.Context, /, **opts: Any) -> None:
    """Serve a read-only web view of GitSyncs, secrets, stores, keys and Events."""
    import asyncio

    from controller.dashboard import server
    from sealer.kube import config

    if opts["all_namespaces"] and opts["namespace"]:
        raise click.UsageError("give either --namespace or --all-namespaces")
    address = opts["address"]
    if not server.is_loopback(address) and not opts["allow_non_loopback"]:
        raise click.UsageError(f"{address} is not a loopback address; "
                               "pass --allow-non-loopback to listen there")
    kubeconfig = opts["kubeconfig"] or (ctx.obj or {}).get("kubeconfig")
    context = opts["context"]
    scope: str | None = None
    if not opts["all_namespaces"]:
        scope = opts["namespace"] or config.context_namespace(
            kubeconfig=kubeconfig, context=context) or "default"
    kube = config.connect(kubeconfig=kubeconfig, context=context, timeout=API_TIMEOUT_S)
    settings = server.Settings(namespace=scope,
                               controller_namespace=opts["controller_namespace"],
                               refresh_seconds=opts["refresh"])
    try:
        asyncio.run(_serve(server.Dashboard(kube, settings), address=address,
                           port=opts["port"], open_browser=opts["open_browser"], scope=scope))
    except OSError as exc:  # the port is taken, or the address is not this machine's
        raise click.ClickException(
            f"cannot listen on {address}:{opts['port']}: {exc.strerror or type(exc).__name__}"
        ) from None
    finally:
        kube.close()


async def _serve(board: Any, *, address: str, port: int, open_browser: bool,
                 scope: str | None) -> None:
    import asyncio
    import signal
    import webbrowser

    from controller.dashboard import server

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)

    def ready(url: str) -> None:
        shown = f"namespace {scope}" if scope else "all namespaces"
        click.echo(f"sealops dashboard (read-only, {shown}) at {url}  (Ctrl-C to stop)")
        if open_browser:
            webbrowser.open(url)

    await server.serve(board, host=address, port=port, ready=ready, stop=stop)
