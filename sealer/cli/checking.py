"""`seal check` and `seal reencrypt`: commands that read and rewrite many files.

Both compute every new file text first and write nothing unless all of them succeeded; then
`sealer.cli.fileset` replaces the files all or nothing (every temporary file written and
fsynced before the first rename; symlinks followed, read-only files refused unless --force).
Findings and re-seals are `sealer.manifests.check`, `.rewrite` and `.seal`, or the controller's
`/v1/rotate` (`sealer.kube.controller`, reached as `cluster.controller_client` says) for
`reencrypt` without `--key`; this module is glue.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from sealer import errors
from sealer.cli import cluster, envpolicy, fileset, sealing, streams

if TYPE_CHECKING:
    from sealer.manifests import check as checks
    from sealer.manifests import rewrite, secrets

__all__ = ["check", "reencrypt"]

PROGRESS_THRESHOLD = 5


def _rewrite_all(
    paths: Iterable[Path], *, transform: rewrite.Transform, label: str, force: bool = False
) -> dict[fileset.Target, tuple[str, int]]:
    """New text per changed file; raises (naming the file on stderr) before anything is written.

    Symlinks are followed (their targets rewritten, said on stderr); read-only files are
    refused unless `force` (see `sealer.cli.fileset`).
    """
    from sealer.manifests import rewrite  # lazy import

    targets = fileset.inspect(paths, force=force, warn=streams.warn)
    results: dict[fileset.Target, tuple[str, int]] = {}
    with click.progressbar(
        targets, label=label, file=sys.stderr, hidden=len(targets) <= PROGRESS_THRESHOLD
    ) as bar:
        for target in bar:
            try:
                result = rewrite.rewrite_documents(
                    streams.read_file(target.real), source=str(target.given), transform=transform
                )
            except errors.SealopsError:
                streams.warn(f"{target.given}: failed; no file was written")
                raise
            if result is not None:
                results[target] = result
    return results


def _write_all(results: Mapping[fileset.Target, tuple[str, int]]) -> None:
    """Every new text, all or nothing (`fileset.replace_all`)."""
    fileset.replace_all({target: text.encode("utf-8") for target, (text, _n) in results.items()})


@click.command(
    "reencrypt",
    cls=envpolicy.Command,
    epilog="""\b
Examples:
  seal reencrypt deploy/*.yaml                  # by the cluster's controller (/v1/rotate)
  seal reencrypt deploy/*.yaml --controller-url http://127.0.0.1:8080
  seal reencrypt deploy/*.yaml --key old/private.pem --cert new/public.pem
  seal reencrypt < sealed.yaml > resealed.yaml  # a filter, as kubeseal --re-encrypt
""",
)
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.option(
    "--key",
    "key_paths",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Private key that opens the current values; repeatable. Without --key, the "
    "controller re-seals each SealedSecret under its newest key (POST /v1/rotate).",
)
@sealing.cert_option
@sealing.suite_option
@sealing.v1_option
@click.option(
    "--force",
    cls=envpolicy.CommandLineOnly,
    is_flag=True,
    help="Also replace read-only files (keeping their mode).",
)
@cluster.controller_url_option
@cluster.cluster_options
@click.pass_context
def reencrypt(
    ctx: click.Context,
    files: tuple[Path, ...],
    key_paths: tuple[Path, ...],
    cert: Path | None,
    suite: str,
    v1: bool,
    force: bool,
) -> None:
    """Re-seal every SealedSecret in FILES (none or -: stdin to stdout) to the newest key.

    With --key, locally to --cert (or the cluster's published keys); without --key, by the
    controller, which never returns plaintext. Each value keeps the scope bound in its old
    ciphertext (found by opening it), whatever the annotations claim. All or nothing: every
    file is re-sealed and written to a temporary file first, then all are renamed into place;
    if any step before the renames fails, no file is changed. A symlink's target is rewritten
    (the link stays); read-only files are refused unless --force.
    """
    to_stdout = _is_filter(files)
    if to_stdout and force:
        raise errors.UsageError("--force is for files; stdin is re-sealed to stdout")
    if key_paths:
        if cluster.target(ctx).controller_url:
            raise errors.UsageError("--controller-url is for re-sealing by the controller, "
                                    "without --key")
        transform = _local_reseal(ctx, key_paths=key_paths, cert=cert, suite=suite, v1=v1)
    else:
        given = [f"--{name}" for name in ("cert", "suite", "v1")
                 if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT]
        if given:
            raise errors.UsageError(f"{', '.join(given)} need --key: the controller re-seals "
                                    "to its own newest key")
        transform = _controller_reseal(ctx)
    if to_stdout:
        _reseal_stream(transform)
        return
    results = _rewrite_all(files, transform=transform, label="re-encrypting", force=force)
    _write_all(results)
    sealed = sum(count for _text, count in results.values())
    streams.warn(f"re-sealed {sealed} SealedSecret(s) in {len(results)} file(s)")


def _is_filter(files: tuple[Path, ...]) -> bool:
    """No FILES, or only `-`: stdin to stdout. `-` among files is refused (where would it go?)."""
    if not files or files == (Path("-"),):
        return True
    if Path("-") in files:
        raise errors.UsageError("- (stdin) cannot be mixed with files: give either")
    return False


def _reseal_stream(transform: rewrite.Transform) -> None:
    """stdin -> stdout, the whole text at once; non-SealedSecret documents pass unchanged."""
    from sealer.manifests import rewrite  # lazy import

    data, source = streams.read_input(None, hint="expecting json/yaml SealedSecrets in stdin")
    result = rewrite.rewrite_documents(data, source=source, transform=transform)
    if result is None:
        raise errors.ManifestError(f"{source}: no SealedSecret found")
    text, count = result
    streams.emit(text, output=None)
    streams.warn(f"re-sealed {count} SealedSecret(s) from stdin")


def _local_reseal(
    ctx: click.Context, *, key_paths: tuple[Path, ...], cert: Path | None, suite: str, v1: bool
) -> rewrite.Transform:
    from sealer.keystore import files as keyfiles  # lazy import
    from sealer.manifests import seal, secrets

    keyring = keyfiles.read_private(list(key_paths))
    public = streams.read_public_keys(ctx, cert)
    suite_value = sealing.suite_value(suite)

    def transform(obj: Mapping[str, Any]) -> dict[str, Any] | None:
        if not secrets.is_sealed_secret(obj):
            return None
        return seal.reseal(
            obj, keyring=keyring, public=public, version=1 if v1 else None, suite=suite_value
        )

    return transform


def _controller_reseal(ctx: click.Context) -> rewrite.Transform:
    from sealer.manifests import secrets  # lazy import

    client = cluster.controller_client(ctx)
    ctx.call_on_close(client.close)

    def transform(obj: Mapping[str, Any]) -> dict[str, Any] | None:
        if not secrets.is_sealed_secret(obj):
            return None
        sent = secrets.parse_sealed_secret(obj)
        rotated = client.rotate(obj)
        _check_rotated(sent, rotated)
        return rotated

    return transform


def _check_rotated(sent: secrets.SealedSecretManifest, rotated: Mapping[str, Any]) -> None:
    """The controller's answer must be the same object with the same items, re-sealed."""
    from sealer.manifests import secrets  # lazy import

    try:
        got = secrets.parse_sealed_secret(rotated)
    except errors.ManifestError:
        got = None
    if (
        got is None
        or (got.kind, got.ref) != (sent.kind, sent.ref)
        or set(got.encrypted_data) != set(sent.encrypted_data)
    ):
        raise errors.ClusterError(
            f"the controller answered the rotate of SealedSecret {sent.ref} with another object"
        )


@click.command(
    "check",
    cls=envpolicy.Command,
    epilog="""\b
Examples:
  seal check                       # the current directory
  seal check deploy/ secrets.yaml
  seal check deploy/ --fix --cert public.pem
As a pre-commit hook: `- repo: <sealops>` with `hooks: [{id: seal-check}]`.
""",
)
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--fix",
    cls=envpolicy.CommandLineOnly,
    is_flag=True,
    help="Seal plaintext Secrets in place (needs --cert).",
)
@sealing.cert_option
@click.option(
    "-n", "--namespace", help="With --fix: namespace for Secrets that declare none."
)
@sealing.suite_option
@click.option(
    "--max-bytes",
    type=click.IntRange(min=1, max=64 << 20),
    default=4 << 20,
    show_default=True,
    help="Larger files are not parsed and fail the check (they could hide a Secret).",
)
@cluster.cluster_options
@click.pass_context
def check(
    ctx: click.Context,
    paths: tuple[Path, ...],
    fix: bool,
    cert: Path | None,
    namespace: str | None,
    suite: str,
    max_bytes: int,
) -> None:
    """Find plaintext Secrets and malformed sealed values in YAML/JSON files.

    A `template.data` value of a SealedSecret or VaultSecret must be a template that reads at
    least one sealed item (or Vault key); a literal there is plaintext in Git and a finding.
    Directories are searched for *.yaml, *.yml and *.json (hidden directories skipped). Every
    file is judged by its parsed documents, read as kubectl reads them; a file that cannot be
    parsed or read, or is over --max-bytes, fails the check too. FIFOs, devices and sockets are
    skipped (said on stderr). Exits 1 and prints `file:line: kind ns/name item 'key': message`
    for each finding; never a value.
    """
    from sealer.manifests import check as checks  # lazy import

    targets = list(paths) or [Path(".")]
    report = checks.scan(targets, max_bytes=max_bytes)
    if fix and report.findings:
        _fix(ctx, report.findings, cert=cert, namespace=namespace, suite=suite)
        report = checks.scan(targets, max_bytes=max_bytes)
    for skipped in report.skipped:
        streams.warn(str(skipped))
    for finding in report.findings:
        click.echo(str(finding))
    if report.findings:
        ctx.exit(1)


def _fix(
    ctx: click.Context,
    findings: list[checks.Finding],
    *,
    cert: Path | None,
    namespace: str | None,
    suite: str,
) -> None:
    from sealer.manifests import rewrite, seal  # lazy import

    public = streams.read_public_keys(ctx, cert)
    suite_value = sealing.suite_value(suite)
    transform = rewrite.sealing_transform(
        lambda secret: seal.seal_secret(secret, public=public, scope=None, suite=suite_value),
        namespace=namespace,
    )
    files = sorted({Path(f.file) for f in findings if f.object.startswith("Secret ")})
    results = _rewrite_all(files, transform=transform, label="sealing")
    _write_all(results)
    for target, (_text, count) in results.items():
        streams.warn(f"{target.given}: sealed {count} Secret(s) in place")
