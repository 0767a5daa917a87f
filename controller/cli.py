"""The `sealops` CLI: run the controller; one-shot GitOps commands; cluster key backup.

Thin: parse -> call the library -> print. Errors map to exit codes once, in `main`, with the
codes and the `Error: ` prefix of `seal` (the table: `sealer.cli.options.EXIT_CODES`).
"""

from __future__ import annotations

import datetime
import re
import sys

import click

from controller import logformat
from controller.commands import clusteropts
from controller.commands import control as control_commands
from controller.commands import dashboard as dashboard_commands
from controller.commands import gitops as gitops_commands
from controller.commands import install as install_commands
from controller.commands import keygens as keygen_commands
from controller.commands import keys as keys_commands
from controller.commands import status as status_commands
from sealer import errors
from sealer.cli import options

DURATION = options.DURATION  # the one duration type of both CLIs (sealer.durations)
_ACCOUNT = re.compile(r"^[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?$")


def _account_name(value: str | None, param: click.Parameter,
                  ctx: click.Context) -> str | None:
    if value is not None and not _ACCOUNT.match(value):
        raise click.BadParameter("must be a valid ServiceAccount name", ctx=ctx, param=param)
    return value


def _shard_name(value: str | None, param: click.Parameter, ctx: click.Context) -> str | None:
    from controller import sharding
    try:
        return None if value is None else sharding.check_name(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"],
                               "auto_envvar_prefix": "SEALOPS"},
             epilog=options.EXIT_CODES_EPILOG)
@click.version_option(package_name="sealops")
@click.option("--kubeconfig", type=click.Path(dir_okay=False), default=None,
              help=clusteropts.KUBECONFIG_HELP)
@click.option("--context", default=None, help=clusteropts.CONTEXT_HELP)
@click.option("--log-format", type=click.Choice(logformat.FORMATS), default="text",
              show_default=True, help="Log lines as text or as one JSON object per line.")
@click.option("--log-level", type=click.Choice(logformat.LEVELS, case_sensitive=False),
              default="info", show_default=True, help="The lowest level logged.")
@click.option("-v", "--verbose", is_flag=True, help="Log at DEBUG level (--log-level debug).")
@click.pass_context
def cli(ctx: click.Context, kubeconfig: str | None, context: str | None,
        log_format: str, log_level: str, verbose: bool) -> None:
    """sealops: the operator's tool for the sealops controller.

    \b
    Run the controller:        sealops controller --namespace sealops-system
    Apply a repository once:   sealops sync ./gitops-repo --path apps/shop/overlays/dev
    Back up the cluster keys:  sealops keys backup --namespace sealops-system --out keys.backup
    What the controller did:   sealops get all -A
    Ask for a run now:         sealops reconcile gitsync shop-dev -n shop-dev
    --kubeconfig and --context are taken here or after any subcommand that reaches a cluster.
    """
    logformat.configure(log_format=log_format, level="debug" if verbose else log_level)
    ctx.obj = {"kubeconfig": kubeconfig, "context": context}


@cli.command()
@click.option("-n", "--namespace", required=True,
              help="Where key generations live (the namespace must exist).")
@click.option("--watch-namespace", "watch_namespaces", multiple=True,
              help="Watch only these namespaces (repeatable; default: all).")
@click.option("--bitnami-compat", is_flag=True,
              help="Also load Bitnami key Secrets and reconcile bitnami.com SealedSecrets.")
@click.option("--key-renewal", type=DURATION, default="720h", show_default=True,
              help="Create a new key generation this often (0 disables).")
@click.option("--key-cutoff-time", type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S%z",
                                                               "%Y-%m-%dT%H:%M:%SZ"]),
              default=None, help="Create a new generation if the newest is older than this.")
@click.option("--listen", default="0.0.0.0:8080", show_default=True,
              help="Address of the HTTP endpoints (cert, verify, rotate, metrics).")
@click.option("--priority", type=int, default=0,
              help="Peering priority (default: random, so replicas never tie).")
@click.option("--workers", type=click.IntRange(1, 64), default=4, show_default=True)
@click.option("--allow-local-sources", is_flag=True, help="Allow file:// Git sources.")
@click.option("--rate-limit", type=click.IntRange(1, 100000), default=60, show_default=True,
              help="Requests per minute to /v1/verify and /v1/rotate (one shared bucket).")
@click.option("--default-service-account", metavar="NAME", default=None,
              callback=lambda ctx, param, value: _account_name(value, param, ctx),
              help="Tenant GitSyncs without spec.serviceAccountName impersonate this "
                   "ServiceAccount of their own namespace (it must exist there).")
@click.option("--refuse-privileged-pods", is_flag=True,
              help="Tenant GitSyncs may not apply workloads with hostPath volumes, host "
                   "namespaces or privileged containers.")
@click.option("--shard", metavar="NAME", default=None,
              callback=lambda ctx, param, value: _shard_name(value, param, ctx),
              help="Reconcile only objects labelled sharding.sealops.dev/key=NAME (default: "
                   "only objects without that label); peers as sealops-shard-NAME.")
@clusteropts.kube_options
@click.pass_context
def controller(ctx: click.Context, namespace: str, watch_namespaces: tuple[str, ...],
               bitnami_compat: bool, key_renewal: datetime.timedelta,
               key_cutoff_time: datetime.datetime | None, listen: str, priority: int,
               workers: int, allow_local_sources: bool, rate_limit: int,
               default_service_account: str | None, refuse_privileged_pods: bool,
               shard: str | None) -> None:
    """Run the controller (kopf operator with mandatory peering)."""
    from controller import operator, sharding
    from controller.settings import ControllerSettings

    host, _, port = listen.rpartition(":")
    cutoff = key_cutoff_time
    if cutoff is not None and cutoff.tzinfo is None:
        cutoff = cutoff.replace(tzinfo=datetime.UTC)
    settings = ControllerSettings(
        namespace=namespace, watch_namespaces=tuple(watch_namespaces),
        bitnami_compat=bitnami_compat,
        key_renewal=key_renewal if key_renewal.total_seconds() > 0 else None,
        key_cutoff=cutoff, listen_host=host or "0.0.0.0", listen_port=int(port),  # noqa: S104
        priority=priority, workers=workers, allow_local_sources=allow_local_sources,
        rate_limit_per_minute=rate_limit, default_service_account=default_service_account,
        refuse_privileged_pods=refuse_privileged_pods, shard=shard,
        peering_name=sharding.peering_name("sealops", shard))
    kubeconfig, context = clusteropts.target(ctx)
    operator.Controller(settings, kubeconfig=kubeconfig, context=context).run()


cli.add_command(keys_commands.keys_group)
cli.add_command(install_commands.install)
cli.add_command(dashboard_commands.dashboard)
for _command in keygen_commands.COMMANDS:
    keys_commands.keys_group.add_command(_command)
for _command in (*gitops_commands.COMMANDS, *status_commands.COMMANDS,
                 *control_commands.COMMANDS):
    cli.add_command(_command)


# What `pip install sealops` leaves out: the operator stack, in the `controller` extra.
CONTROLLER_STACK = frozenset({"kopf", "kubernetes", "hvac", "aiohttp", "prometheus_client"})
EXIT_MISSING_STACK = 1


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] not in CONTROLLER_STACK:
            raise
        click.echo(f"error: sealops needs the controller extra (missing Python package "
                   f"{exc.name!r}); install it with: pip install 'sealops[controller]'",
                   err=True)
        return EXIT_MISSING_STACK


def _main(argv: list[str] | None) -> int:
    try:
        cli.main(args=argv, standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except errors.SealopsError as exc:
        click.echo(f"Error: {exc}", err=True)  # the prefix `seal` (click) prints too
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
