"""The `seal` command group: error mapping and the (lazily imported) command table.

Owns the one place where library errors become exit codes (`SealopsError.exit_code`, printed
as `Error: <message>` on stderr, the prefix `sealops` uses too; the table is
`options.EXIT_CODES`) and the command table. Command modules are imported when their
command runs, and they import only click and the standard library at module level: each command
imports the library when it runs, so `seal --help` and offline commands never load kubernetes,
kopf or hvac, and `seal secret` loads nothing it does not use.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import click

from sealer import errors
from sealer.cli import cluster, envpolicy, options
from sealer.cli import context as cli_context

__all__ = ["EXIT_INTERRUPTED", "SealGroup", "main"]

EXIT_INTERRUPTED = 130  # as `sealops` and shells: 128 + SIGINT


class _Failure(click.ClickException):
    """A `SealopsError` on its way out, with the error's exit code."""

    def __init__(self, error: errors.SealopsError) -> None:
        super().__init__(str(error))
        self.exit_code = error.exit_code  # type: ignore[misc]  # click declares a ClassVar


class SealGroup(envpolicy.Group):
    """A click group that maps `SealopsError` to its exit code, once, for every subcommand.

    `lazy_commands` maps command names to `"module:attribute"`; a module is imported only when
    its command runs (or help lists it), so `seal secret` never loads the other commands.
    Every command must be an `envpolicy.Command` or `envpolicy.Group`, so that what the
    environment sets is announced and what it may not set is refused.
    """

    def __init__(
        self, *args: Any, lazy_commands: Mapping[str, str] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = self.lazy_commands.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module_name, _, attribute = target.partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, envpolicy.Command | envpolicy.Group):
            raise TypeError(f"{target} is not an envpolicy.Command or envpolicy.Group")
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except errors.SealopsError as exc:
            raise _Failure(exc) from None
        except (KeyboardInterrupt, click.exceptions.Abort):
            # click would print "Aborted!" and exit 1, the code of "the answer is no".
            click.echo("aborted", err=True)
            ctx.exit(EXIT_INTERRUPTED)


EPILOG = """\b
Examples:
  seal cert > public.pem                      # the cluster's keys, through the API
  seal secret secret.yaml -w sealed.yaml      # no --cert: fetched from the cluster
  seal keys generate --out keys/
  seal secret secret.yaml --cert keys/public.pem -w sealed.yaml
  kubectl create secret generic db --from-file=password=pw.txt --dry-run=client -o yaml \\
    | seal secret --cert keys/public.pem > sealed.yaml
  seal check deploy/

"""


@click.group(
    "seal",
    cls=SealGroup,
    lazy_commands={
        "secret": "sealer.cli.sealing:secret",
        "raw": "sealer.cli.sealing:raw",
        "unseal": "sealer.cli.sealing:unseal",
        "keys": "sealer.cli.keycommands:keys_group",
        "reencrypt": "sealer.cli.checking:reencrypt",
        "check": "sealer.cli.checking:check",
        "cert": "sealer.cli.clustercommands:cert",
        "verify": "sealer.cli.clustercommands:verify",
    },
    epilog=EPILOG + options.EXIT_CODES_EPILOG,
    context_settings={"auto_envvar_prefix": "SEAL", "help_option_names": ["-h", "--help"]},
)
@click.version_option(package_name="sealops", prog_name="seal")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Seal Kubernetes Secrets into SealedSecrets that are safe to commit to Git.

    Only the cluster's controller (or someone holding its private keys) can open them.
    Without --cert, the public keys are read from the cluster (ConfigMap sealops-public-keys
    in --controller-namespace, default sealops-system). Options can also be set by an
    environment variable: SEAL_<COMMAND>_<OPTION>, for example SEAL_SECRET_CERT=keys/public.pem;
    each one used is announced on stderr. Options that write files, rewrite them in place or
    lift a safety check are taken from the command line only, and SEAL_*_SCOPE never widens the
    scope a Secret's own annotations give.
    """
    if ctx.obj is None:
        ctx.obj = cli_context.CliContext(fetch_public_keys=cluster.fetch_public_keys)
