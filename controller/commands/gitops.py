"""`sealops sync|diff|build`: the GitOps pipeline once, from a laptop or CI (a thin shell).

    sync   apply PATH_OR_URL like a GitSync would (stages, waits, prune with --prune; a mass
           prune of more than half the inventory needs --confirm-prune); secret-
           bearing objects are applied and the in-cluster controller materializes them, so
           sealing keys never leave the cluster. Inventory: ConfigMap sealops-inventory-<name>.
    diff   server-side dry run; a unified diff per changed object, Secret values masked
    build  the rendered, labelled objects as YAML; no cluster, nothing decrypted

Exit codes: 0 success (diff: no changes), 1 failure, 2 usage, 3 (diff only) changes pending.
"""

from __future__ import annotations

from typing import Any

import click

from sealer import errors

__all__ = ["COMMANDS", "build", "diff", "sync"]

EXIT_FAILURE = 1
EXIT_CHANGES = 3


class _Failed(click.ClickException):
    """Exit 1, printing the message to stderr."""

    exit_code = EXIT_FAILURE

    def show(self, file: Any = None) -> None:
        click.echo(self.message, err=True)


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
        click.option("--namespace", "-n", default="default", show_default=True,
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
    from sealer.kube import client, config

    own = config.connect(kubeconfig=ctx.obj.get("kubeconfig"))
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
        click.echo(f"warning: inventory not saved: {exc}", err=True)


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
        raise _Failed(f"error: {exc}") from None


@click.command()
@_source_options
@_service_account_option
@click.option("--prune", is_flag=True, help="Delete objects that left the source.")
@click.option("--confirm-prune", is_flag=True,
              help="Allow --prune to delete more than half of the inventory.")
@click.option("--dry-run", is_flag=True, help="Server-side dry run: report, write nothing.")
@click.option("--timeout", type=click.FloatRange(1, 86400), default=300.0, show_default=True,
              help="Seconds for the whole sync, waits for secrets included.")
@click.pass_context
def sync(ctx: click.Context, /, prune: bool, confirm_prune: bool, dry_run: bool,
         timeout: float, **opts: Any) -> None:
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
    applies, prunes nothing and exits 1. Exit codes: 0 success, 1 failure, 2 usage.
    """
    outcome, _ = _guarded(lambda: _run(ctx, opts, dry_run=dry_run, prune=prune,
                                       timeout=timeout, confirm_prune=confirm_prune))
    verb = "would be " if dry_run else ""
    for item in outcome.applied:
        if item.action != "unchanged":
            click.echo(f"{item.entry} {verb}{item.action}")
    for entry in outcome.pruned.deleted:
        click.echo(f"{entry} {verb}pruned")
    if not outcome.ok:
        raise _Failed(f"error: {outcome.reason}: {outcome.message}")
    click.echo(f"{outcome.revision}: {outcome.counts}" + (" (dry run)" if dry_run else ""))


@click.command()
@_source_options
@_service_account_option
@click.option("--prune", is_flag=True, help="Also show objects a sync --prune would delete.")
@click.option("--timeout", type=click.FloatRange(1, 86400), default=300.0, show_default=True)
@click.pass_context
def diff(ctx: click.Context, /, prune: bool, timeout: float, **opts: Any) -> None:
    """Show what `sync` would change (server-side dry run; Secret values masked).

    Exit codes: 0 no changes, 1 failure, 2 usage, 3 changes pending.
    """
    from controller.apply import diff as diffing
    from controller.gitops import pipeline

    outcome, _ = _guarded(lambda: _run(ctx, opts, dry_run=True, prune=prune, timeout=timeout))
    if outcome.reason == pipeline.PRUNE_BLOCKED:
        click.echo(f"warning: {outcome.message}", err=True)
    elif not outcome.ok:
        raise _Failed(f"error: {outcome.reason}: {outcome.message}")
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
@click.option("--timeout", type=click.FloatRange(1, 86400), default=120.0, show_default=True,
              help="Seconds for a Git fetch.")
def build(timeout: float, **opts: Any) -> None:
    """Print the objects a sync would apply (labelled, namespaced); needs no cluster."""
    from controller.apply import plan, scope
    from controller.gitops import oneshot, pipeline
    from sealer.manifests import safeyaml

    def rendered() -> Any:
        request = _request(opts)
        with oneshot.source(opts["path_or_url"], ref=opts["ref"], timeout=timeout) as fetch:
            objects = pipeline.default_render(request.path)(fetch())
        offline = scope.Offline(oneshot.static_scope)
        return plan.plan(objects, policy=request.policy, cluster=offline)

    planned = _guarded(rendered)
    if planned.objects:
        click.echo(safeyaml.dump([dict(obj) for obj in planned.objects]), nl=False)


COMMANDS = (sync, diff, build)
