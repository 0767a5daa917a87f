"""The `sealops` CLI: run the controller; one-shot GitOps commands; cluster key backup.

Thin: parse -> call the library -> print. Errors map to exit codes once, in `main`.
"""

from __future__ import annotations

import datetime
import logging
import re
import sys
from typing import Any

import click

from controller.commands import gitops as gitops_commands
from controller.commands import keys as keys_commands
from sealer import errors


class _Duration(click.ParamType):  # type: ignore[type-arg]
    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> datetime.timedelta:
        if isinstance(value, datetime.timedelta):
            return value
        from controller.settings import parse_duration
        try:
            return parse_duration(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


DURATION = _Duration()
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
                               "auto_envvar_prefix": "SEALOPS"})
@click.version_option(package_name="sealops")
@click.option("--kubeconfig", type=click.Path(dir_okay=False), default=None,
              help="Kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster).")
@click.option("-v", "--verbose", is_flag=True, help="Log at DEBUG level.")
@click.pass_context
def cli(ctx: click.Context, kubeconfig: str | None, verbose: bool) -> None:
    """sealops: the operator's tool for the sealops controller.

    \b
    Run the controller:        sealops controller --namespace sealops-system
    Apply a repository once:   sealops sync ./gitops-repo --path apps/shop/overlays/dev
    Back up the cluster keys:  sealops keys backup --namespace sealops-system --out keys.backup
    """
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ctx.obj = {"kubeconfig": kubeconfig}


@cli.command()
@click.option("--namespace", required=True, help="Where key generations live.")
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
    operator.Controller(settings, kubeconfig=ctx.obj["kubeconfig"]).run()


cli.add_command(keys_commands.keys_group)
for _command in gitops_commands.COMMANDS:
    cli.add_command(_command)


def main(argv: list[str] | None = None) -> int:
    try:
        cli.main(args=argv, standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except errors.SealopsError as exc:
        click.echo(f"error: {exc}", err=True)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
