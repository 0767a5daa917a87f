"""`sealops sync|diff|build`: the GitOps pipeline once, from a laptop or CI (a thin shell).

    sync   apply PATH_OR_URL like a GitSync would (stages, waits, prune with --prune; a mass
           prune of more than half the inventory needs --confirm-prune); secret-
           bearing objects are applied and the in-cluster controller materializes them, so
           sealing keys never leave the cluster. Inventory: ConfigMap sealops-inventory-<name>.
    diff   server-side dry run; a unified diff per changed object, Secret values masked
    build  the rendered, labelled objects as YAML; no cluster, nothing decrypted

Exit codes are those of `seal` (`sealer.cli.options.EXIT_CODES`): an error exits with its
class's code, a failed run with the code of the stage that failed (`STAGE_EXIT_CODES`), and
`diff` exits 1 when changes are pending, as `kubectl diff` does; 0 means success (diff: no
changes).
"""

from __future__ import annotations

import datetime
from typing import Any

import click

from controller.commands import clusteropts
from sealer import errors
from sealer.cli import options

__all__ = ["COMMANDS", "build", "diff", "sync"]

EXIT_FAILURE = 1
EXIT_CHANGES = 1  # kubectl diff and flux diff: 1 when there are differences
# A failed run exits with the code of the error class its stage stands for.
STAGE_EXIT_CODES = {
    "FetchFailed": errors.ClusterError.exit_code,
    "RenderFailed": errors.ManifestError.exit_code,
    "PolicyViolation": errors.PolicyError.exit_code,
    "SecretsFailed": errors.ClusterError.exit_code,
    "ApplyFailed": errors.ClusterError.exit_code,
    "PruneFailed": errors.ClusterError.exit_code,
    "PruneBlocked": errors.PolicyError.exit_code,  # the mass-prune guard refused
}


class _Failed(click.ClickException):
    """Exit with `exit_code` (default 1), printing `Error: <message>` to stderr."""

    def __init__(self, message: str, *, exit_code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click declares a ClassVar

    def show(self, file: Any = None) -> None:
        click.echo(f"Error: {self.message}", err=True)


def _seconds(timeout: datetime.timedelta) -> float:
    seconds = timeout.total_seconds()
    if not 1 <= seconds <= 86400:
        raise click.BadParameter("must be between 1s and 24h", param_hint="'--timeout'")
    return seconds


def _outcome_failed(outcome: Any) -> _Failed:
    return _Failed(f"{outcome.reason}: {outcome.message}",
                   exit_code=STAGE_EXIT_CODES.get(outcome.reason, EXIT_FAILURE))


class _ChangesPending(click.ClickException):
    """`diff` found changes: exit 3, the diff itself is the output."""

    exit_code = EXIT_CHANGES

    def __init__(self) -> None:
        super().__init__("changes pending")

    def show(self, file: Any = None) -> None:
        return


def _source_options(func: Any) -> Any:
    options = [
        click.argument("path_or_url"),
        click.option("--ref", default=None,
                     help="Branch (default main), tag:NAME, commit:SHA or a bare SHA."),
        click.option("--path", "subpath", default=".", show_default=True,
                     help="Directory inside the source."),
        click.option("-n", "--namespace", default="default", show_default=True,
                     help="Namespace for objects that name none; holds the inventory."),
        click.option("--name", default=None,
                     help="Name of this sync (label and inventory); default: from the source."),
        click.option("--allow-plaintext-secrets", is_flag=True,
                     help="Allow core Secrets with data in the source."),
        click.option("--allow-empty", is_flag=True, help="Allow a render with no objects."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _request(opts: dict[str, Any], **extra: Any) -> Any:
    from controller.apply import inventory, plan
    from controller.gitops import oneshot, pipeline

    name = opts["name"] or oneshot.default_name(opts["path_or_url"])
    policy = plan.SyncPolicy(
        sync_namespace=opts["namespace"], sync_name=name, target_namespace=opts["namespace"],
        allow_plaintext_secrets=opts["allow_plaintext_secrets"],
        allow_empty=opts["allow_empty"], allow_crds=True)  # the caller's own rights decide
    return pipeline.Request(policy=policy, path=opts["subpath"],
                            owner_uid=inventory.CLI_OWNER_UID,
                            confirm_hint="run again with --confirm-prune", **extra)


def _run(ctx: click.Context, opts: dict[str, Any], *, dry_run: bool, prune: bool,
         timeout: float, confirm_prune: bool = False) -> tuple[Any, Any]:
    """(outcome, request) of one pipeline run against the cluster."""
    from controller.apply import scope
    from controller.gitops import oneshot, pipeline
    from sealer.kube import client

    own = clusteropts.connect(ctx, pool_size=16)
    kube = own
    if opts.get("service_account"):
        kube = own.impersonating(client.Impersonation.service_account(
            opts["namespace"], opts["service_account"]))
    try:
        request = _request(opts, prune=prune, timeout=timeout, dry_run=dry_run,
                           wait=not dry_run, confirm_all_prunes=confirm_prune)
        policy = request.policy
        previous = oneshot.load_inventory(kube, namespace=opts["namespace"],
                                          name=policy.sync_name)
        request = _replace(request, previous=previous)
        with oneshot.source(opts["path_or_url"], ref=opts["ref"], timeout=timeout) as fetch:
            outcome = pipeline.run(fetch, request, kube=kube, cluster=scope.Live(own))
        if not dry_run and outcome.inventory != previous:
            _save(kube, outcome, opts=opts, name=policy.sync_name)
        return outcome, request
    finally:
        kube.close()


def _save(kube: Any, outcome: Any, *, opts: dict[str, Any], name: str) -> None:
    """Store the inventory; when the sync itself failed, its error is the one reported."""
    from controller.gitops import oneshot

    try:
        oneshot.save_inventory(kube, outcome, namespace=opts["namespace"], name=name,
                               label=oneshot.label_for(opts["namespace"], name))
    except errors.ClusterError as exc:
        if outcome.ok:
            raise
        click.echo(f"Warning: inventory not saved: {exc}", err=True)


def _account_name(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    import re
    if value is not None and not re.fullmatch(r"[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?", value):
        raise click.BadParameter("must be a valid ServiceAccount name", ctx=ctx, param=param)
    return value


def _service_account_option(func: Any) -> Any:
    return click.option(
        "--service-account", "service_account", metavar="NAME", default=None,
        callback=_account_name,
        help="Act as this ServiceAccount of --namespace (impersonation), as a GitSync with "
             "spec.serviceAccountName does: apply, prune, dry run and the inventory.")(func)


def _replace(request: Any, **changes: Any) -> Any:
    import dataclasses
    return dataclasses.replace(request, **changes)


def _guarded(call: Any) -> Any:
    try:
        return call()
    except errors.UsageError as exc:
        raise click.UsageError(str(exc)) from None
    except errors.SealopsError as exc:
        raise _Failed(str(exc), exit_code=exc.exit_code) from None


@click.command()
@_source_options
@_service_account_option
@click.option("--prune", is_flag=True, help="Delete objects that left the source.")
@click.option("--confirm-prune", is_flag=True,
              help="Allow --prune to delete more than half of the inventory.")
@click.option("--dry-run", is_flag=True, help="Server-side dry run: report, write nothing.")
@clusteropts.kube_options
@click.option("--timeout", type=options.SECONDS_OR_DURATION, default="5m", show_default=True,
              help="For the whole sync, waits for secrets included (5m, 90s, or seconds).")
@click.pass_context
def sync(ctx: click.Context, /, prune: bool, confirm_prune: bool, dry_run: bool,
         timeout: datetime.timedelta, **opts: Any) -> None:
    """Apply PATH_OR_URL to the cluster: CRDs and Namespaces, then secrets, then the rest.

    \b
    PATH_OR_URL is a local directory or a Git URL (https, ssh, loopback http, file://).
    Git credentials come from the environment: SEALOPS_GIT_USERNAME and SEALOPS_GIT_PASSWORD
    (or SEALOPS_GIT_TOKEN), SEALOPS_GIT_IDENTITY_FILE, SEALOPS_GIT_KNOWN_HOSTS_FILE.
    SealedSecrets are applied and unsealed by the controller in the cluster; the command
    waits until each one is Ready and its Secret exists before applying the rest.
    The inventory (for --prune) is the ConfigMap sealops-inventory-NAME in --namespace;
    objects that left the source stay in it until a --prune run deletes them. Pruning more
    than half of it (and more than 3 objects) needs --confirm-prune; without it the sync
    applies, prunes nothing and exits 6. Exit codes: sealops --help; a failed stage exits
    with its class's code (render 3, policy 6, fetch/apply/secrets/prune 7).
    """
    outcome, _ = _guarded(lambda: _run(ctx, opts, dry_run=dry_run, prune=prune,
                                       timeout=_seconds(timeout),
                                       confirm_prune=confirm_prune))
    verb = "would be " if dry_run else ""
    for item in outcome.applied:
        if item.action != "unchanged":
            click.echo(f"{item.entry} {verb}{item.action}")
    for entry in outcome.pruned.deleted:
        click.echo(f"{entry} {verb}pruned")
    if not outcome.ok:
        raise _outcome_failed(outcome)
    click.echo(f"{outcome.revision}: {outcome.counts}" + (" (dry run)" if dry_run else ""))


@click.command()
@_source_options
@_service_account_option
@click.option("--prune", is_flag=True, help="Also show objects a sync --prune would delete.")
@clusteropts.kube_options
@click.option("--timeout", type=options.SECONDS_OR_DURATION, default="5m", show_default=True,
              help="For the whole dry run (5m, 90s, or seconds).")
@click.pass_context
def diff(ctx: click.Context, /, prune: bool, timeout: datetime.timedelta,
         **opts: Any) -> None:
    """Show what `sync` would change (server-side dry run; Secret values masked).

    Exit codes: 0 no changes, 1 changes pending (as kubectl diff), others as sealops --help.
    """
    from controller.apply import diff as diffing
    from controller.gitops import pipeline

    outcome, _ = _guarded(lambda: _run(ctx, opts, dry_run=True, prune=prune,
                                       timeout=_seconds(timeout)))
    if outcome.reason == pipeline.PRUNE_BLOCKED:
        click.echo(f"Warning: {outcome.message}", err=True)
    elif not outcome.ok:
        raise _outcome_failed(outcome)
    changes = [a for a in outcome.applied if a.action != "unchanged"]
    for item in changes:
        click.echo(diffing.unified(item.before, item.after) or f"{item.entry} {item.action}\n",
                   nl=False)
    for entry in outcome.pruned.deleted:
        click.echo(f"{entry} would be pruned")
    if changes or outcome.pruned.deleted:
        raise _ChangesPending


@click.command()
@_source_options
@click.option("--timeout", type=options.SECONDS_OR_DURATION, default="2m", show_default=True,
              help="For a Git fetch (2m, 90s, or seconds).")
def build(timeout: datetime.timedelta, **opts: Any) -> None:
    """Print the objects a sync would apply (labelled, namespaced); needs no cluster."""
    from controller.apply import plan, scope
    from controller.gitops import oneshot, pipeline
    from sealer.manifests import safeyaml

    def rendered() -> Any:
        request = _request(opts)
        with oneshot.source(opts["path_or_url"], ref=opts["ref"],
                            timeout=_seconds(timeout)) as fetch:
            objects = pipeline.default_render(request.path)(fetch())
        offline = scope.Offline(oneshot.static_scope)
        return plan.plan(objects, policy=request.policy, cluster=offline)

    planned = _guarded(rendered)
    if planned.objects:
        click.echo(safeyaml.dump([dict(obj) for obj in planned.objects]), nl=False)


COMMANDS = (sync, diff, build)
