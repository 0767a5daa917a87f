"""`sealops keys backup|restore`: every key generation of a cluster in one encrypted file.

    backup   every Secret labelled `sealops.dev/sealing-key` in --namespace (with
             --include-bitnami also Bitnami's `sealedsecrets.bitnami.com/sealed-secrets-key`)
             whose label value is `active` (others are named and skipped), encrypted exactly
             as `seal keys backup` does (`sealer.keystore.backup`: Argon2id + SecretBox over
             the keys' private PEM, one generation after another), so `seal keys restore` and
             `seal unseal --key` can use it off-cluster too.
    restore  one key Secret per key in --namespace: our generations in the layout of
             `controller.keys.stored`, RSA-only (kubeseal) keys in Bitnami's layout. A key whose
             id is already present is skipped, and an existing Secret is never overwritten, so
             a restore can be repeated; a new controller on that namespace opens the old
             SealedSecrets (Bitnami keys need --bitnami-compat).

The restored key Secrets carry the label value `active`, the only state the controller knows.
Passphrases come from --passphrase-file or a hidden prompt, never argv. Messages name Secrets
and key ids, never key material. Pure parts (`backup_pem`, `restore_plan`, `legacy_secret`) are
separate from the click commands, which only read, call and print.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from controller.commands import clusteropts
from sealer import errors
from sealer.cli import backupfiles

if TYPE_CHECKING:
    from sealer.crypto import keys
    from sealer.kube import client

__all__ = ["COMMANDS", "RestorePlan", "backup_pem", "keys_group", "legacy_secret", "records",
           "restore_plan"]

BITNAMI_NAME_PREFIX = "sealed-secrets-key-"
namespace_option = click.option(
    "-n", "--namespace", required=True, help="The controller's key namespace (its --namespace)."
)


# --- pure parts ---------------------------------------------------------------------------


def backup_pem(secrets: list[dict[str, Any]]) -> tuple[bytes, list[str]]:
    """The private PEM of every key Secret, oldest first, and their key ids.

    A Secret that holds no readable key fails the whole backup (naming it): a backup that
    silently lacks a generation is discovered only when it is needed.
    """
    from controller.keys import stored  # lazy import
    from sealer.crypto import keys

    found: dict[bytes, stored.Key] = {}
    for secret in secrets:
        key = stored.from_secret(secret)
        found.setdefault(key.key_id, key)
    if not found:
        raise errors.KeyMaterialError("no key Secrets to back up")
    ordered = sorted(found.values(), key=stored.created_at)
    return b"".join(keys.private_pem(k) for k in ordered), [k.key_id_hex for k in ordered]


def records(secrets: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """The key Secrets that are the controller's own records, and (name, why not) for the rest.

    A label alone makes no key (issue 10 item 2): a look-alike Secret, e.g. one a SealedSecret
    wrote, must not enter a backup, or a restore would make its key a real generation.
    A Secret whose key cannot be read stays in: `backup_pem` then fails naming it.
    """
    from controller.keys import stored  # lazy import

    kept: list[dict[str, Any]] = []
    skipped: list[tuple[str, str]] = []
    for secret in secrets:
        try:
            reason = stored.not_a_record(secret, stored.from_secret(secret))
        except errors.SealopsError:
            reason = None
        if reason is None:
            kept.append(secret)
        else:
            skipped.append((str((secret.get("metadata") or {}).get("name")), reason))
    return kept, skipped


def legacy_secret(key: keys.LegacyKey, *, namespace: str) -> dict[str, Any]:
    """A Bitnami key Secret (`tls.key`, `tls.crt`) for an RSA-only kubeseal key."""
    import base64

    from cryptography.hazmat.primitives import serialization

    from controller.keys import stored

    pem = key.rsa.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption())
    data = {"tls.key": base64.b64encode(pem).decode("ascii")}
    if key.certificate is not None:
        cert = key.certificate.public_bytes(serialization.Encoding.PEM)
        data["tls.crt"] = base64.b64encode(cert).decode("ascii")
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/tls",
        "metadata": {
            "name": BITNAMI_NAME_PREFIX + key.key_id_hex,
            "namespace": namespace,
            "labels": {stored.BITNAMI_KEY_LABEL: "active"},
        },
        "data": data,
    }


@dataclasses.dataclass(frozen=True)
class RestorePlan:
    """What a restore creates, and the key ids it skips because they are present already."""

    create: list[dict[str, Any]]
    present: list[str]


def restore_plan(restored: list[keys.KeyGeneration | keys.LegacyKey], *,
                 existing: list[dict[str, Any]], namespace: str) -> RestorePlan:
    """Key Secrets to create for `restored`, given the key Secrets already in `namespace`."""
    from controller.keys import stored  # lazy import
    from sealer.crypto import keys

    have = set()
    for secret in existing:
        try:
            have.add(stored.from_secret(secret).key_id)
        except errors.KeyMaterialError:
            continue  # not ours to judge here; its name still blocks a clash (409)
    create, present, seen = [], [], set()
    for key in restored:
        if key.key_id in have or key.key_id in seen:
            present.append(key.key_id_hex)
            continue
        seen.add(key.key_id)
        if isinstance(key, keys.KeyGeneration):
            create.append(stored.to_secret(key, namespace=namespace))
        else:
            create.append(legacy_secret(key, namespace=namespace))
    return RestorePlan(create=create, present=present)


# --- cluster I/O --------------------------------------------------------------------------


def _key_secrets(kube: client.KubeClient, *, namespace: str,
                 include_bitnami: bool) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The key Secrets labelled `active`, and those labelled otherwise (e.g. compromised)."""
    from controller.keys import stored  # lazy import
    from sealer.kube import client

    labels = [stored.KEY_LABEL] + ([stored.BITNAMI_KEY_LABEL] if include_bitnami else [])
    active: list[dict[str, Any]] = []
    other: list[dict[str, Any]] = []
    for label in labels:  # the label present, whatever its value
        for secret in kube.list(client.SECRETS, namespace=namespace, label_selector=label):
            labelled = ((secret.get("metadata") or {}).get("labels") or {}).get(label)
            (active if labelled == "active" else other).append(secret)
    return active, other


def _connect(ctx: click.Context) -> client.KubeClient:
    return clusteropts.connect(ctx)


def _create_all(kube: client.KubeClient, plan: RestorePlan, *, namespace: str) -> list[str]:
    """Create the planned Secrets; names that exist meanwhile are skipped, never replaced."""
    from sealer.kube import client
    from sealer.kube import errors as kerrors

    exists = []
    for body in plan.create:
        try:
            kube.create(client.SECRETS, body, namespace=namespace)
        except kerrors.ApiError as exc:
            if exc.status != 409:
                raise
            exists.append(body["metadata"]["name"])
    return exists


# --- commands -----------------------------------------------------------------------------


@click.group(
    "keys",
    epilog="""\b
Examples:
  sealops keys backup --namespace sealops-system --out cluster-keys.backup
  sealops keys restore cluster-keys.backup --namespace sealops-system
  seal keys restore cluster-keys.backup --out keys/    # the same file, off-cluster
""",
)
def keys_group() -> None:
    """Back up and restore the cluster's key generations (Secrets in the key namespace)."""


@keys_group.command("backup")
@namespace_option
@clusteropts.kube_options
@backupfiles.out_option
@backupfiles.passphrase_option
@click.option("--include-bitnami", is_flag=True,
              help="Also back up Bitnami Sealed Secrets key Secrets in the namespace.")
@backupfiles.strength_option
@click.pass_context
def backup(  # noqa: PLR0917  (click passes every option as a parameter)
    ctx: click.Context, namespace: str, out_file: Path, passphrase_file: Path | None,
    include_bitnami: bool, strength: str,
) -> None:
    """Encrypt every key generation in NAMESPACE into a backup file under a passphrase."""
    backupfiles.refuse_existing(out_file)
    kube = _connect(ctx)
    try:
        found, inactive = _key_secrets(kube, namespace=namespace,
                                       include_bitnami=include_bitnami)
    finally:
        kube.close()
    for secret in inactive:
        # A restore makes every key active: a key someone retired must not come back that way.
        name = (secret.get("metadata") or {}).get("name")
        click.echo(f"skipped Secret {namespace}/{name}: its key label is not 'active'", err=True)
    found, foreign = records(found)
    for name, reason in foreign:
        click.echo(f"skipped Secret {namespace}/{name}: not a key record ({reason})", err=True)
    if not found:
        raise errors.KeyMaterialError(f"no key Secrets in namespace {namespace}")
    pem, key_ids = backup_pem(found)
    backupfiles.write(pem, out_file=out_file, passphrase_file=passphrase_file,
                      strength=strength)
    click.echo(f"backed up {len(key_ids)} key(s) from namespace {namespace} to {out_file}: "
               f"{', '.join(key_ids)}", err=True)


@keys_group.command("restore")
@click.argument("backup_file", type=click.Path(dir_okay=False, path_type=Path))
@namespace_option
@clusteropts.kube_options
@backupfiles.passphrase_option
@click.pass_context
def restore(ctx: click.Context, backup_file: Path, namespace: str,
            passphrase_file: Path | None) -> None:
    """Create the key Secrets of a backup file in NAMESPACE (present keys are skipped)."""
    from sealer.crypto import keys  # lazy import

    restored = keys.parse_private_pem(
        backupfiles.read(backup_file, passphrase_file=passphrase_file))
    kube = _connect(ctx)
    try:
        # Every key present counts, active or not: a retired key is not revived by a restore.
        active, inactive = _key_secrets(kube, namespace=namespace, include_bitnami=True)
        plan = restore_plan(restored, existing=active + inactive, namespace=namespace)
        clashes = _create_all(kube, plan, namespace=namespace)
    finally:
        kube.close()
    created = [b["metadata"]["name"] for b in plan.create if b["metadata"]["name"] not in clashes]
    for name in created:
        click.echo(f"created Secret {namespace}/{name}", err=True)
    for key_id in plan.present:
        click.echo(f"skipped key {key_id}: already in namespace {namespace}", err=True)
    for name in clashes:
        click.echo(f"skipped Secret {namespace}/{name}: it exists; not overwritten", err=True)
    click.echo(f"restored {len(created)} of {len(restored)} key(s) into namespace {namespace}",
               err=True)


COMMANDS = [keys_group]
