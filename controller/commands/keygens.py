"""`sealops keys list|new|retire`: the cluster's key generations, for the compromised-key runbook.

    list     every sealops key Secret in NAMESPACE: key id, created-at, state (active or the
             label's other value), and which one seals (the newest active)
    new      create a generation now (persisted before anything uses it, as the controller's
             own renewal does); every replica reloads on its ADDED event and seals with it
    retire   relabel one generation `sealops.dev/sealing-key=retired`: the controller stops
             opening values with it; `sealops keys backup` skips it and `restore` never revives
             it. The newest active generation cannot be retired (run `new` first), so the
             cluster always has a key to seal with.

The controller reloads its keyring on events of `active` key Secrets; a relabelled Secret
no longer matches that filter, so `retire` also stamps `sealops.dev/keyring-changed-at` on the
newest active generation, whose event makes every replica that watches the controller
namespace reload at once. A replica that does not (`--watch-namespace` without it) picks up
`new` and `retire` with its key-renewal loop, which reloads at least every minute. Nothing
here prints key material: only key ids (hashes of public keys), names and times.
"""

from __future__ import annotations

import datetime
from typing import Any

import click

from controller.commands import clusteropts
from sealer import errors

__all__ = ["COMMANDS", "list_keys", "new", "retire"]

RETIRED = "retired"
CHANGED_AT = "sealops.dev/keyring-changed-at"

def namespace_option(func: Any) -> Any:
    """`--namespace` of the key generations, plus `--kubeconfig` and `--context`."""
    func = clusteropts.kube_options(func)
    return click.option("--namespace", default="sealops-system", show_default=True,
                        help="Where the key generations live.")(func)


def _connect(ctx: click.Context) -> Any:
    return clusteropts.connect(ctx)


def _generations(kube: Any, namespace: str) -> list[dict[str, Any]]:
    """Our key Secrets (any label value), oldest first."""
    from controller.keys import stored
    from sealer.kube import client
    found = [s for s in kube.list(client.SECRETS, namespace=namespace,
                                  label_selector=stored.KEY_LABEL)
             if s["metadata"]["name"].startswith(stored.NAME_PREFIX)]
    return sorted(found, key=lambda s: (_created(s), s["metadata"]["name"]))


def _created(secret: dict[str, Any]) -> str:
    from controller.keys import stored
    return str((secret["metadata"].get("annotations") or {}).get(stored.CREATED_AT) or "")


def _state(secret: dict[str, Any]) -> str:
    from controller.keys import stored
    return str((secret["metadata"].get("labels") or {}).get(stored.KEY_LABEL) or "")


def key_id(secret: dict[str, Any]) -> str:
    from controller.keys import stored
    return str(secret["metadata"]["name"])[len(stored.NAME_PREFIX):]


def newest_active(generations: list[dict[str, Any]]) -> dict[str, Any] | None:
    active = [s for s in generations if _state(s) == "active"]
    return active[-1] if active else None


def table(generations: list[dict[str, Any]]) -> list[list[str]]:
    """KEY ID, CREATED, STATE, SEALS (pure: tested without a cluster)."""
    sealing = newest_active(generations)
    rows = [["KEY ID", "CREATED", "STATE", "SEALS"]]
    for secret in generations:
        rows.append([key_id(secret), _created(secret), _state(secret),
                     "yes" if secret is sealing else ""])
    return rows


@click.command("list")
@namespace_option
@click.pass_context
def list_keys(ctx: click.Context, namespace: str) -> None:
    """List the key generations in NAMESPACE and which one seals."""
    from controller.commands import status

    def run() -> list[dict[str, Any]]:
        kube = _connect(ctx)
        try:
            return _generations(kube, namespace)
        finally:
            kube.close()

    found = run()
    if not found:
        raise errors.KeyMaterialError(f"no key generations in namespace {namespace}")
    click.echo(status.render(table(found)))


@click.command("new")
@namespace_option
@click.pass_context
def new(ctx: click.Context, namespace: str) -> None:
    """Create a key generation now; the controller seals with it once it has seen it."""
    from controller.keys import stored
    from sealer.crypto import keys
    from sealer.kube import client

    gen = keys.generate(now=datetime.datetime.now(datetime.UTC))

    def run() -> None:
        kube = _connect(ctx)
        try:
            kube.create(client.SECRETS, stored.to_secret(gen, namespace=namespace),
                        namespace=namespace)
        finally:
            kube.close()

    run()
    click.echo(f"created key generation {gen.key_id_hex} "
               f"(Secret {namespace}/{stored.NAME_PREFIX}{gen.key_id_hex})")


@click.command("retire")
@click.argument("key_id_hex", metavar="KEY_ID")
@namespace_option
@click.pass_context
def retire(ctx: click.Context, key_id_hex: str, namespace: str) -> None:
    """Stop the controller opening values with generation KEY_ID (see `sealops keys list`).

    Re-encrypt every file sealed to it first (`seal reencrypt`), and rotate the real values:
    whoever holds the key opens every value ever sealed to it, Git history included.
    """
    from controller.keys import stored
    from sealer.kube import client

    def run() -> None:
        kube = _connect(ctx)
        try:
            found = _generations(kube, namespace)
            target = next((s for s in found if key_id(s) == key_id_hex.lower()), None)
            if target is None:
                raise errors.KeyMaterialError(
                    f"no key generation {key_id_hex} in namespace {namespace}")
            sealing = newest_active(found)
            if sealing is None or target is sealing:
                raise errors.KeyMaterialError(
                    f"key generation {key_id_hex} is the one that seals (or none is active); "
                    "create a new one first: sealops keys new")
            name = target["metadata"]["name"]
            kube.patch(client.SECRETS, name, {"metadata": {"labels": {
                stored.KEY_LABEL: RETIRED}}}, namespace=namespace)
            stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            kube.patch(client.SECRETS, sealing["metadata"]["name"], {"metadata": {
                "annotations": {CHANGED_AT: stamp}}}, namespace=namespace)
        finally:
            kube.close()

    run()
    click.echo(f"retired key generation {key_id_hex}; the controller no longer opens values "
               "sealed to it")


COMMANDS = (list_keys, new, retire)
