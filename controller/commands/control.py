"""`sealops reconcile|suspend|resume`: ask the controller for a run now, and wait for it.

    reconcile KIND NAME          set `sealops.dev/reconcile-requested-at` to a new timestamp,
                                 wait until `status.lastHandledReconcileAt` echoes it, print the
                                 Ready condition; exit 1 when it is False or the wait times out
    suspend|resume gitsync NAME  spec.suspend true/false (resume then reconciles and waits)

One annotation for every kind (see `controller.status`); a suspended GitSync is refused up
front, since the controller records nothing for it. Exit codes: 0 Ready, 1 not Ready, timeout
or not found, 2 usage.
"""

from __future__ import annotations

import datetime
import time
from typing import Any

import click

from controller import status as conditions
from controller.commands import status

__all__ = ["COMMANDS", "reconcile", "request_stamp", "resume", "suspend"]

POLL_S = 0.5


def request_stamp(now: datetime.datetime) -> str:
    """A new annotation value each call (RFC 3339 with microseconds, like Flux's RFC3339Nano)."""
    return now.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _request(kube: Any, kind: status.Kind, name: str, *, namespace: str,
             spec: dict[str, Any] | None = None) -> str:
    stamp = request_stamp(datetime.datetime.now(datetime.UTC))
    annotations = {conditions.RECONCILE_REQUESTED_AT: stamp}
    patch: dict[str, Any] = {"metadata": {"annotations": annotations}}
    if spec is not None:
        patch["spec"] = spec
    kube.patch(kind.resource, name, patch, namespace=namespace)
    return stamp


def _await(kube: Any, kind: status.Kind, name: str, *, namespace: str, stamp: str,
           timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        obj = kube.get(kind.resource, name, namespace=namespace)
        if obj is None:
            raise status.Failed(f"error: {kind.kind} {namespace}/{name} was deleted while waiting")
        if (obj.get("status") or {}).get(conditions.LAST_HANDLED) == stamp:
            return dict(obj)
        if time.monotonic() >= deadline:
            raise status.Failed(
                f"error: timed out after {timeout:g}s waiting for the controller to handle "
                f"the reconcile request of {kind.kind} {namespace}/{name} "
                "(is the controller running and watching this namespace?)")
        time.sleep(POLL_S)


def _outcome(kind: status.Kind, obj: dict[str, Any], *, with_source: bool) -> None:
    meta = obj["metadata"]
    ready, reason, message = (status.printable(part) for part in status.ready_of(obj))
    ident = f"{kind.name}/{meta['name']}"
    if with_source:
        for line in _source_lines(kind, obj):
            click.echo(f"  {status.printable(line)}")
    if ready != "True":
        raise status.Failed(f"✗ {ident} not ready: {reason}: {message}")
    click.echo(f"✔ {ident} reconciled: {message}")


def _source_lines(kind: status.Kind, obj: dict[str, Any]) -> list[str]:
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


def _reconcile(ctx: click.Context, kind: status.Kind, name: str, *, namespace: str | None,
               timeout: float, with_source: bool, spec: dict[str, Any] | None = None) -> None:
    ns = status.namespace_of(ctx, namespace)

    def run() -> dict[str, Any]:
        kube = status.connect(ctx)
        try:
            obj = kube.get(kind.resource, name, namespace=ns)
            if obj is None:
                raise status.Failed(f"error: {kind.kind} {ns}/{name} not found")
            if spec is None and (obj.get("spec") or {}).get("suspend") is True:
                raise status.Failed(f"error: {kind.kind} {ns}/{name} is suspended; "
                              f"run `sealops resume {kind.name} {name} -n {ns}`")
            stamp = _request(kube, kind, name, namespace=ns, spec=spec)
            click.echo(f"► {kind.name}/{name}: reconcile requested at {stamp}; waiting")
            return _await(kube, kind, name, namespace=ns, stamp=stamp, timeout=timeout)
        finally:
            kube.close()

    _outcome(kind, status.guarded(run), with_source=with_source)


@click.command()
@click.argument("kind", type=click.Choice(["gitsync", "vaultsecret", "sealedsecret"]))
@click.argument("name")
@status.namespace_option
@click.option("--with-source", is_flag=True,
              help="Also print what was read from the source (GitSync: the fetched revision; "
                   "VaultSecret: the Vault versions; SealedSecret: the key generation). Both "
                   "GitSync and VaultSecret re-read their source on every reconcile.")
@status.timeout_option
@click.pass_context
def reconcile(  # noqa: PLR0917  (click passes every option as a parameter)
        ctx: click.Context, kind: str, name: str, namespace: str | None,
        with_source: bool, timeout: float) -> None:
    """Ask the controller to reconcile NAME now, wait, and print the outcome.

    Sets the annotation sealops.dev/reconcile-requested-at; done when the object's
    status.lastHandledReconcileAt shows the same value. Exit 1 when not Ready or on timeout.
    """
    _reconcile(ctx, status.KINDS[kind], name, namespace=namespace, timeout=timeout,
               with_source=with_source)


@click.command()
@click.argument("kind", type=click.Choice(["gitsync"]))
@click.argument("name")
@status.namespace_option
@click.pass_context
def suspend(ctx: click.Context, kind: str, name: str, namespace: str | None) -> None:
    """Stop reconciling a GitSync (spec.suspend: true); its objects stay as they are."""
    res, ns = status.KINDS[kind], status.namespace_of(ctx, namespace)

    def run() -> None:
        kube = status.connect(ctx)
        try:
            if kube.get(res.resource, name, namespace=ns) is None:
                raise status.Failed(f"error: {res.kind} {ns}/{name} not found")
            kube.patch(res.resource, name, {"spec": {"suspend": True}}, namespace=ns)
        finally:
            kube.close()

    status.guarded(run)
    click.echo(f"► {kind}/{name} suspended")


@click.command()
@click.argument("kind", type=click.Choice(["gitsync"]))
@click.argument("name")
@status.namespace_option
@status.timeout_option
@click.pass_context
def resume(ctx: click.Context, kind: str, name: str, namespace: str | None,
           timeout: float) -> None:
    """Resume a suspended GitSync (spec.suspend: false), then reconcile it and wait."""
    _reconcile(ctx, status.KINDS[kind], name, namespace=namespace, timeout=timeout,
               with_source=False, spec={"suspend": False})



COMMANDS = (reconcile, suspend, resume)
