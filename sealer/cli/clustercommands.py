"""`seal cert` and `seal verify`: the commands that only read from a cluster.

`cert` prints the public keys the controller publishes in ConfigMap `sealops-public-keys`
(read through the API: `sealer.kube.publickeys`), or those its `/v1/public.pem` serves when
`--controller-url` is given. `verify` asks the controller (`POST /v1/verify`,
`sealer.kube.controller`) whether it can open each SealedSecret of a file; it never sees
plaintext. Glue only; `cluster` says how the cluster and the controller are reached.
"""

from __future__ import annotations

import click

from sealer import errors
from sealer.cli import cluster, envpolicy, streams
from sealer.cli import context as cli_context

__all__ = ["cert", "verify"]


@click.command(
    "cert",
    cls=envpolicy.Command,
    epilog="""\b
Examples:
  seal cert > public.pem
  seal cert --controller-namespace kube-system --context prod -w prod.pem
  seal cert --controller-url http://127.0.0.1:8080     # from /v1/public.pem
Then: seal secret secret.yaml --cert public.pem (offline, e.g. in CI).
""",
)
@click.option(
    "-w",
    "-o",
    "--output",
    cls=envpolicy.CommandLineOnly,
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Write here (mode 0644), not stdout. The output is PEM, so -o is a file here too.",
)
@cluster.controller_url_option
@cluster.cluster_options
@click.pass_context
def cert(ctx: click.Context, output: str | None) -> None:
    """Print the cluster's public keys (certificate + v2 public keys) for offline sealing.

    Read from ConfigMap sealops-public-keys in --controller-namespace through the API server
    (no service proxy needed); checked like --cert is (valid now, RSA >= 2048 bits, no
    low-order X25519 key). The key id goes to stderr.
    """
    from sealer.crypto import keys  # lazy import

    where = cluster.target(ctx)
    if where.controller_url:
        client = cluster.controller_client(ctx)
        try:
            pem = client.public_pem()
        finally:
            client.close()
        source = f"{where.controller_url}/v1/public.pem"
        try:
            public = keys.parse_public_pem(pem)
        except errors.KeyMaterialError as exc:
            raise errors.KeyMaterialError(f"{source}: {exc}") from None
    else:
        published = cluster.fetch_published(where)
        pem, public, source = published.pem, published.public, published.source
    public.check_certificate(now=cli_context.get(ctx).now())
    streams.emit(pem.decode("ascii"), output=output)
    streams.warn(f"key {public.key_id_hex} from {source}")


@click.command(
    "verify",
    cls=envpolicy.Command,
    epilog="""\b
Examples:
  seal verify sealed.yaml
  seal verify sealed.yaml --controller-url http://127.0.0.1:8080
  seal verify - < sealed.yaml && kubectl apply -f sealed.yaml
Exit status: 0 if the controller opens every SealedSecret, 1 if it cannot open one
(the other codes: seal --help).
""",
)
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@cluster.controller_url_option
@cluster.cluster_options
@click.pass_context
def verify(ctx: click.Context, file: str) -> None:
    """Ask the controller whether it can open the SealedSecrets in FILE (or - for stdin).

    Prints `namespace/name: ok` or `namespace/name: cannot be opened` per SealedSecret. The
    controller answers with the same message for every failure (wrong key, wrong scope,
    tampered value) and never returns plaintext.
    """
    from sealer.manifests import safeyaml, secrets  # lazy import

    data, source = streams.read_input(file, hint="expecting json/yaml SealedSecrets in stdin")
    sealed = [doc for doc in safeyaml.load_documents(data, source=source)
              if secrets.is_sealed_secret(doc)]
    if not sealed:
        raise errors.ManifestError(f"{source}: no SealedSecret found")
    refs = [secrets.parse_sealed_secret(doc).ref for doc in sealed]
    client = cluster.controller_client(ctx)
    try:
        answers = [client.verify(doc) for doc in sealed]
    finally:
        client.close()
    for ref, ok in zip(refs, answers, strict=True):
        click.echo(f"{ref}: {'ok' if ok else 'cannot be opened'}")
    if not all(answers):
        ctx.exit(1)
