"""`seal secret`, `seal raw` and `seal unseal`: glue between files and `sealer.manifests.seal`.

Each command parses its options, reads its input (a file or stdin, never argv), calls the
library, builds the whole output and writes it once. Library modules are imported inside the
commands so that importing the CLI stays cheap.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from sealer import errors
from sealer.cli import cluster, envpolicy, options, streams

if TYPE_CHECKING:
    from sealer.crypto import envelope, keys
    from sealer.crypto import keyring as keyrings
    from sealer.manifests import secrets

__all__ = ["cert_option", "raw", "secret", "suite_option", "suite_value", "unseal", "v1_option"]

SCOPES = ("strict", "namespace-wide", "cluster-wide")
MAX_RAW_VALUE_BYTES = 1 << 20
STDIN_HINT = "expecting json/yaml k8s resource in stdin"

cert_option = click.option(
    "--cert",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Public key file: public.pem from `seal keys generate` or `seal cert`, or a kubeseal "
    "certificate (then v1 envelopes are written). Without it, the cluster's published keys "
    "are fetched (see --controller-namespace).",
)
suite_option = click.option(
    "--suite",
    type=click.Choice(["pq", "x25519"]),
    default="pq",
    show_default=True,
    help="v2 envelope suite: pq = ML-KEM-768 + X25519 hybrid, x25519 = classical only.",
)
v1_option = click.option(
    "--v1", "v1", is_flag=True, help="Write v1 envelopes (the kubeseal format) instead of v2."
)
format_option = click.option(
    "-o",
    "--format",
    "fmt",
    type=options.OutputFormat(file_option="-w"),
    default="yaml",
    show_default=True,
    help="Output format, as in kubeseal: yaml or json. Never a file name (that is -w).",
)


def suite_value(name: str) -> envelope.Suite:
    from sealer.crypto import envelope  # lazy import

    return envelope.Suite.PQ if name == "pq" else envelope.Suite.X25519


@click.command(
    "secret",
    cls=envpolicy.Command,
    epilog="""\b
Examples:
  seal secret secret.yaml --cert public.pem -w sealed.yaml
  seal secret secret.yaml -w sealed.yaml        # keys from the cluster (seal cert)
  seal secret secret.yaml --cert public.pem -o json > sealed.json
  kubectl create secret generic db --from-literal=... --dry-run=client -o yaml \\
    | seal secret --cert public.pem --scope namespace-wide > sealed.yaml
  seal secret new-item.yaml --cert public.pem --merge-into sealed.yaml
  seal secret secret.yaml --cert kubeseal.pem --kind bitnami   # for kubeseal's controller
""",
)
@click.argument("file", required=False, type=click.Path(dir_okay=False, allow_dash=True))
@cert_option
@click.option(
    "--scope",
    type=click.Choice(SCOPES),
    help="Where the values may be opened: strict = this name in this namespace (default, or "
    "what the Secret's sealedsecrets.bitnami.com annotations say), namespace-wide = any name "
    "in the namespace, cluster-wide = anywhere.",
)
@click.option(
    "--kind",
    type=click.Choice(["sealops", "bitnami"]),
    default="sealops",
    show_default=True,
    help="sealops.dev/v1alpha1, or bitnami.com/v1alpha1 with v1 envelopes for kubeseal's "
    "controller.",
)
@format_option
@click.option(
    "-w",
    "--sealed-secret-file",
    "sealed_secret_file",
    cls=envpolicy.CommandLineOnly,
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Write the SealedSecret to this file (as kubeseal -w), not stdout.",
)
@click.option(
    "--output",
    "output",
    cls=envpolicy.CommandLineOnly,
    type=click.Path(dir_okay=False, allow_dash=True),
    help="The same as -w.",
)
@click.option(
    "--merge-into",
    cls=envpolicy.CommandLineOnly,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Add or replace items in this existing SealedSecret file (rewritten in place unless -w).",
)
@click.option(
    "-n",
    "--namespace",
    help="Namespace for a Secret that declares none (default: the kubeconfig context's "
    "namespace, else default, as kubeseal).",
)
@suite_option
@v1_option
@click.option("--allow-empty-data", is_flag=True, help="Seal a Secret that has no data at all.")
@cluster.cluster_options
@click.pass_context
def secret(
    ctx: click.Context,
    file: str | None,
    cert: Path | None,
    scope: str | None,
    kind: str,
    fmt: str,
    sealed_secret_file: str | None,
    output: str | None,
    merge_into: Path | None,
    namespace: str | None,
    suite: str,
    v1: bool,
    allow_empty_data: bool,
) -> None:
    """Seal a Kubernetes Secret (YAML or JSON, from FILE or stdin) into a SealedSecret.

    The plaintext is read from FILE or stdin only; the SealedSecret goes to stdout or -w.
    A Secret that names no namespace gets --namespace, else the namespace of the kubeconfig
    context (--kubeconfig, --context), else default - as kubeseal does; said on stderr.
    """
    from sealer.manifests import safeyaml, secrets  # lazy import

    output = streams.one_output(("-w/--sealed-secret-file", sealed_secret_file),
                                ("--output", output))
    data, source = streams.read_input(file, hint=STDIN_HINT)
    documents = safeyaml.load_documents(data, source=source)
    if not documents:
        raise errors.ManifestError(f"{source}: no Secret found")
    parsed = [secrets.parse_secret(doc, namespace=namespace) for doc in documents]
    if merge_into is None:
        parsed = _with_context_namespace(ctx, parsed)
    for item in parsed:
        own = secrets.scope_from_annotations(item.annotations).value
        envpolicy.refuse_env_widening(ctx, scope=scope, own=own, what=f"Secret {item.ref}")
        if not item.data and not allow_empty_data:
            raise errors.ManifestError(
                f"Secret {item.ref} has no data; pass --allow-empty-data if that is intended"
            )
    public = streams.read_public_keys(ctx, cert)
    options: dict[str, Any] = {"version": 1 if v1 else None, "suite": suite_value(suite)}
    if merge_into is not None:
        kind_given = ctx.get_parameter_source("kind") is not click.core.ParameterSource.DEFAULT
        text = _merge(
            parsed,
            target=merge_into,
            public=public,
            scope=scope,
            kind=kind if kind_given else None,
            fmt=fmt,
            options=options,
        )
        streams.emit(text, output=output if output is not None else str(merge_into))
        return
    text = _seal_all(parsed, public=public, scope=scope, kind=kind, fmt=fmt, options=options)
    streams.emit(text, output=output)


def _with_context_namespace(
    ctx: click.Context, parsed: list[secrets.SecretManifest]
) -> list[secrets.SecretManifest]:
    """Secrets that name no namespace get the kubeconfig context's (kubeseal's behaviour)."""
    missing = [item.name for item in parsed if not item.namespace]
    if not missing:
        return parsed
    found = cluster.context_namespace(ctx, what=f"Secret {', '.join(missing)}")
    return [item if item.namespace else dataclasses.replace(item, namespace=found)
            for item in parsed]


def _seal_all(
    parsed: list[secrets.SecretManifest],
    *,
    public: keys.PublicKeys,
    scope: str | None,
    kind: str,
    fmt: str,
    options: dict[str, Any],
) -> str:
    from sealer.crypto import scope as scopes  # lazy import
    from sealer.manifests import safeyaml, seal

    if fmt == "json" and len(parsed) != 1:
        raise errors.UsageError("--format json writes one object; the input holds several")
    sealed_scope = None if scope is None else scopes.Scope(scope)
    sealed = [
        seal.seal_secret(item, public=public, scope=sealed_scope, kind=kind, **options)
        for item in parsed
    ]
    return safeyaml.dump(sealed, fmt="json" if fmt == "json" else "yaml")


def _merge(
    parsed: list[secrets.SecretManifest],
    *,
    target: Path,
    public: keys.PublicKeys,
    scope: str | None,
    kind: str | None,
    fmt: str,
    options: dict[str, Any],
) -> str:
    from sealer.crypto import scope as scopes  # lazy import
    from sealer.manifests import safeyaml, seal, secrets

    if len(parsed) != 1:
        raise errors.UsageError("--merge-into takes exactly one Secret")
    data = streams.read_file(target)
    existing = safeyaml.load_one(data, source=str(target))
    sealed_target = secrets.parse_sealed_secret(existing)
    item = parsed[0]
    if item.name != sealed_target.name or item.namespace not in (None, sealed_target.namespace):
        raise errors.UsageError(
            f"the Secret {item.ref} is not the SealedSecret {sealed_target.ref} in {target}"
        )
    if scope is not None and scopes.Scope(scope) is not sealed_target.annotated_scope:
        raise errors.UsageError(f"--scope {scope} differs from the scope of {target}")
    if kind is not None and kind != sealed_target.kind:
        raise errors.UsageError(f"--kind {kind} differs from the kind of {target}")
    item = dataclasses.replace(item, namespace=sealed_target.namespace)
    sealed = seal.seal_secret(
        item, public=public, scope=sealed_target.annotated_scope, kind=sealed_target.kind, **options
    )
    merged = seal.merge_into(existing, sealed["spec"]["encryptedData"])
    as_json = fmt == "json" or data.lstrip().startswith(b"{")
    return safeyaml.dump([merged], fmt="json" if as_json else "yaml")


@click.command(
    "raw",
    cls=envpolicy.Command,
    epilog="""\b
Examples:
  printf %s "$PASSWORD" | seal raw --cert public.pem --namespace prod --name db --item password
  seal raw --cert public.pem --namespace prod --scope namespace-wide --from-file tls.key
""",
)
@cert_option
@click.option(
    "-n",
    "--namespace",
    help="Namespace of the Secret (strict and namespace-wide scopes; default: the kubeconfig "
    "context's namespace, else default, as kubeseal).",
)
@click.option("--name", help="Name of the Secret (strict scope).")
@click.option("--scope", type=click.Choice(SCOPES), default="strict", show_default=True)
@click.option(
    "--item", help="The Secret data key; v2 envelopes are bound to it (default: file name)."
)
@click.option(
    "--from-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read the value from this file instead of stdin (bytes as they are).",
)
@suite_option
@v1_option
@cluster.cluster_options
@click.pass_context
def raw(
    ctx: click.Context,
    cert: Path | None,
    namespace: str | None,
    name: str | None,
    scope: str,
    item: str | None,
    from_file: Path | None,
    suite: str,
    v1: bool,
) -> None:
    """Seal one value (from stdin or --from-file) and print its base64 envelope.

    The output has no trailing newline; paste it under spec.encryptedData.<item>.
    """
    from sealer.crypto import keyring  # lazy import
    from sealer.crypto import scope as scopes
    from sealer.manifests import seal, secrets

    # A raw value has no annotations of its own: the environment may not widen past strict.
    envpolicy.refuse_env_widening(ctx, scope=scope, own="strict", what="the value")
    if namespace is None and scope != "cluster-wide":
        namespace = cluster.context_namespace(ctx, what="the value")
    label = seal.sealed_label(scopes.Scope(scope), namespace=namespace, name=name)
    if item is None and from_file is not None:
        item = from_file.name
    if item is not None:
        secrets.validate_item_key(item, obj="--item")
    if from_file is not None:
        value = streams.read_file(from_file, max_bytes=MAX_RAW_VALUE_BYTES)
    else:
        value, _source = streams.read_input(
            None, max_bytes=MAX_RAW_VALUE_BYTES,
            hint="expecting the value in stdin (end it with Ctrl-D)")
    public = streams.read_public_keys(ctx, cert)
    version = 1 if v1 else (2 if public.has_v2 else 1)
    if version == 2 and item is None:
        raise errors.UsageError("--item is required: v2 envelopes are bound to the item key")
    if from_file is not None and item is not None:
        _say_item(item, from_file=from_file, given=ctx.get_parameter_source("item"),
                  v2=version == 2)
    text = keyring.seal_value(
        value,
        public=public,
        label=label,
        item=item or "",
        version=version,
        suite=suite_value(suite),
    )
    streams.emit(text, output=None)


def _say_item(item: str, *, from_file: Path, given: Any, v2: bool) -> None:
    """Which item key a `--from-file` value is for: unless --item said it, the file's name."""
    how = (f"the file name of {from_file}; set --item to choose another"
           if given is click.core.ParameterSource.DEFAULT else "from --item")
    if v2:
        streams.warn(f"the value of {from_file} is sealed bound to item key {item!r} ({how})")
    else:
        streams.warn(f"the value of {from_file} is sealed for item key {item!r} ({how}; "
                     "a v1 envelope is not bound to it)")


def _recovery_advice(keyring: keyrings.Keyring, *, key_id: str) -> str:
    """What to do when `seal unseal` (disaster recovery) lacks the key a v2 value names.

    Never "re-seal": whoever recovers has no plaintext to re-seal; they need that key's backup.
    """
    from sealer.crypto import keys  # lazy import

    generations = [k for k in keyring if isinstance(k, keys.KeyGeneration)]
    given = (
        "the keys given are kubeseal keys only (tls.key), which open v1 envelopes, not v2"
        if not generations
        else "the keys given hold other sealops key generations"
    )
    return (
        f"this is a v2 envelope, which only sealops key generation {key_id} opens; {given}. "
        f"Supply that generation's private key with --key (restore it from its backup: "
        "`seal keys restore BACKUP --out DIR`, or `sealops keys backup` of the cluster)"
    )


@click.command(
    "unseal",
    cls=envpolicy.Command,
    epilog="""\b
Examples:
  seal unseal sealed.yaml --key keys/private.pem
  seal unseal sealed.yaml --key old/private.pem --key tls.key -w secret.yaml
""",
)
@click.argument("file", required=False, type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--key",
    "key_paths",
    multiple=True,
    required=True,
    type=click.Path(path_type=Path),
    help="Private key file (private.pem, a kubeseal tls.key, or a directory); repeatable.",
)
@format_option
@click.option(
    "-w",
    "--output",
    cls=envpolicy.CommandLineOnly,
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Write the Secret to this file (mode 0600), not stdout.",
)
def unseal(key_paths: tuple[Path, ...], file: str | None, fmt: str, output: str | None) -> None:
    """Open a SealedSecret (sealops or bitnami) with private keys and print the Secret.

    This is the disaster-recovery path: the output holds the plaintext (base64 in data).
    """
    from sealer.keystore import files  # lazy import
    from sealer.manifests import safeyaml, seal

    data, source = streams.read_input(file, hint="expecting a json/yaml SealedSecret in stdin")
    documents = safeyaml.load_documents(data, source=source)
    if not documents:
        raise errors.ManifestError(f"{source}: no SealedSecret found")
    if fmt == "json" and len(documents) != 1:
        raise errors.UsageError("--format json writes one object; the input holds several")
    keyring = files.read_private(list(key_paths))
    try:
        opened = [seal.unseal(doc, keyring=keyring) for doc in documents]
    except errors.UnknownKeyError as exc:
        raise errors.UnknownKeyError(
            exc.item, exc.key_id, advice=_recovery_advice(keyring, key_id=exc.key_id)
        ) from None
    streams.emit(
        safeyaml.dump(opened, fmt="json" if fmt == "json" else "yaml"), output=output, mode=0o600
    )
