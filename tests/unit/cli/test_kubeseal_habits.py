"""kubeseal muscle memory: `-o` is a format, `-w` a file, filters, namespaces, stderr notes."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from sealer.crypto import keyring
from sealer.manifests import safeyaml, seal

from .conftest import SECRET_YAML, KeyFiles, Seal

NO_NAMESPACE = SECRET_YAML.replace("  namespace: prod\n", "")


def opened(text: str, key_files: KeyFiles) -> dict[str, bytes]:
    ring = keyring.Keyring([key_files.generation])
    doc = safeyaml.load_one(text.encode(), source="out")
    return {k: base64.b64decode(v) for k, v in seal.unseal(doc, keyring=ring)["data"].items()}


def write_kubeconfig(path: Path, *, current: str, contexts: dict[str, str | None]) -> Path:
    entries = [{"name": name, "context": {"cluster": "c", "user": "u",
                                          **({"namespace": ns} if ns else {})}}
               for name, ns in contexts.items()]
    path.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": current,
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
        "users": [{"name": "u", "user": {"token": "kubeconfig-canary-token"}}],
        "contexts": entries}))
    return path


# --- -o is the format, -w the file ---------------------------------------------------------


def test_o_yaml_redirected_writes_the_sealed_secret_to_stdout_and_no_file_named_yaml(
    run: Seal, secret_file: Path, key_files: KeyFiles
) -> None:
    # The regression: `seal secret -o yaml > sealed.yaml` wrote a file named `yaml`, exit 0.
    before = {p.name for p in run.workdir.iterdir()}
    result = run(["secret", str(secret_file), "--cert", str(key_files.public), "-o", "yaml"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("apiVersion: sealops.dev/v1alpha1\nkind: SealedSecret\n")
    assert opened(result.stdout, key_files) == {"password": b"hunter2", "user": b"admin"}
    assert {p.name for p in run.workdir.iterdir()} == before


def test_o_json_writes_json(run: Seal, secret_file: Path, key_files: KeyFiles) -> None:
    result = run(["secret", str(secret_file), "--cert", str(key_files.public), "-o", "json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["kind"] == "SealedSecret"


@pytest.mark.parametrize("value", ["sealed.yaml", "out/sealed", "yml"])
def test_o_with_something_other_than_a_format_is_refused_and_writes_nothing(
    run: Seal, secret_file: Path, key_files: KeyFiles, value: str
) -> None:
    before = {p.name for p in run.workdir.iterdir()}
    result = run(["secret", str(secret_file), "--cert", str(key_files.public), "-o", value])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert {p.name for p in run.workdir.iterdir()} == before
    if "." in value or "/" in value:
        assert f"use -w {value}" in result.stderr
    else:
        assert "'yaml', 'json'" in result.stderr


@pytest.mark.parametrize("flag", ["-w", "--sealed-secret-file", "--output"])
def test_w_sealed_secret_file_and_output_write_the_file(
    run: Seal, secret_file: Path, key_files: KeyFiles, flag: str
) -> None:
    result = run(["secret", str(secret_file), "--cert", str(key_files.public), flag, "s.yaml"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert opened((run.workdir / "s.yaml").read_text(), key_files)["user"] == b"admin"


def test_w_and_output_together_are_refused(
    run: Seal, secret_file: Path, key_files: KeyFiles
) -> None:
    result = run(["secret", str(secret_file), "--cert", str(key_files.public),
                  "-w", "a.yaml", "--output", "a.yaml"])
    assert result.exit_code == 2
    assert "give one of them" in result.stderr
    assert not (run.workdir / "a.yaml").exists()


def test_unseal_takes_o_as_the_format_and_w_as_the_file(
    run: Seal, secret_file: Path, key_files: KeyFiles
) -> None:
    run(["secret", str(secret_file), "--cert", str(key_files.public), "-w", "sealed.yaml"])
    as_json = run(["unseal", "sealed.yaml", "--key", str(key_files.private), "-o", "json"])
    assert as_json.exit_code == 0, as_json.stderr
    assert json.loads(as_json.stdout)["kind"] == "Secret"
    refused = run(["unseal", "sealed.yaml", "--key", str(key_files.private), "-o", "p.yaml"])
    assert refused.exit_code == 2 and "use -w p.yaml" in refused.stderr
    assert not (run.workdir / "p.yaml").exists()


# --- reencrypt as a filter -----------------------------------------------------------------


@pytest.mark.parametrize("args", [[], ["-"]])
def test_reencrypt_without_files_reseals_stdin_to_stdout(
    run: Seal, secret_file: Path, key_files: KeyFiles, new_key_files: KeyFiles,
    args: list[str],
) -> None:
    sealed = run(["secret", str(secret_file), "--cert", str(key_files.public)]).stdout
    result = run(["reencrypt", *args, "--key", str(key_files.private),
                  "--cert", str(new_key_files.public)], input=sealed)
    assert result.exit_code == 0, result.stderr
    assert opened(result.stdout, new_key_files) == {"password": b"hunter2", "user": b"admin"}
    assert "re-sealed 1 SealedSecret(s) from stdin" in result.stderr
    assert sorted(p.name for p in run.workdir.iterdir()) == ["secret.yaml"]


def test_reencrypt_of_stdin_without_a_sealed_secret_fails_and_prints_nothing(
    run: Seal, key_files: KeyFiles
) -> None:
    result = run(["reencrypt", "--key", str(key_files.private), "--cert",
                  str(key_files.public)], input="kind: ConfigMap\nmetadata: {name: c}\n")
    assert result.exit_code == 3
    assert result.stdout == ""
    assert "<stdin>: no SealedSecret found" in result.stderr


def test_reencrypt_refuses_stdin_mixed_with_files(run: Seal, key_files: KeyFiles) -> None:
    (run.workdir / "a.yaml").write_text("kind: ConfigMap\n")
    result = run(["reencrypt", "-", "a.yaml", "--key", str(key_files.private)], input="")
    assert result.exit_code == 2
    assert "cannot be mixed with files" in result.stderr


# --- raw --from-file names its item key ----------------------------------------------------


def test_raw_from_file_says_on_stderr_which_item_key_it_bound(
    run: Seal, key_files: KeyFiles
) -> None:
    (run.workdir / "tls.key").write_bytes(b"not really a key")
    result = run(["raw", "--cert", str(key_files.public), "-n", "prod", "--name", "web",
                  "--from-file", "tls.key"])
    assert result.exit_code == 0, result.stderr
    assert "bound to item key 'tls.key' (the file name of tls.key" in result.stderr
    explicit = run(["raw", "--cert", str(key_files.public), "-n", "prod", "--name", "web",
                    "--from-file", "tls.key", "--item", "key.pem"])
    assert "bound to item key 'key.pem' (from --item)" in explicit.stderr
    assert "not really" not in result.stderr + explicit.stderr


# --- the namespace of the kubeconfig context -----------------------------------------------


def test_a_secret_without_namespace_gets_the_kubeconfig_contexts_namespace(
    run: Seal, key_files: KeyFiles, tmp_path: Path
) -> None:
    config = write_kubeconfig(tmp_path / "kc", current="dev",
                              contexts={"dev": "team-a", "prod": "team-b", "bare": None})
    cases = {(): "team-a", ("--context", "prod"): "team-b", ("--context", "bare"): "default"}
    for extra, expected in cases.items():
        result = run(["secret", "--cert", str(key_files.public), "--kubeconfig", str(config),
                      *extra], input=NO_NAMESPACE)
        assert result.exit_code == 0, result.stderr
        doc = safeyaml.load_one(result.stdout.encode(), source="out")
        assert doc["metadata"]["namespace"] == expected
        assert f"Secret db names no namespace; using {expected!r}" in result.stderr
        assert "canary" not in result.stderr
    flag = run(["secret", "--cert", str(key_files.public), "--kubeconfig", str(config),
                "-n", "ops"], input=NO_NAMESPACE)
    assert safeyaml.load_one(flag.stdout.encode(), source="o")["metadata"]["namespace"] == "ops"


def test_an_unknown_context_or_a_missing_kubeconfig_is_named(
    run: Seal, key_files: KeyFiles, tmp_path: Path
) -> None:
    config = write_kubeconfig(tmp_path / "kc", current="dev", contexts={"dev": "a"})
    unknown = run(["secret", "--cert", str(key_files.public), "--kubeconfig", str(config),
                   "--context", "nope"], input=NO_NAMESPACE)
    assert unknown.exit_code == 7
    assert f'kubeconfig context "nope" (--context) does not exist in {config}' in unknown.stderr
    assert "contexts: dev" in unknown.stderr
    missing = run(["secret", "--cert", str(key_files.public), "--kubeconfig",
                   str(tmp_path / "absent")], input=NO_NAMESPACE)
    assert missing.exit_code == 7
    assert f"kubeconfig {tmp_path / 'absent'}: no such file" in missing.stderr
    assert unknown.stdout == missing.stdout == ""


def test_raw_without_namespace_takes_the_contexts_namespace_into_the_scope(
    run: Seal, key_files: KeyFiles, tmp_path: Path
) -> None:
    config = write_kubeconfig(tmp_path / "kc", current="dev", contexts={"dev": "team-a"})
    result = run(["raw", "--cert", str(key_files.public), "--kubeconfig", str(config),
                  "--name", "db", "--item", "password"], input="s3cret")
    assert result.exit_code == 0, result.stderr
    assert "the value names no namespace; using 'team-a'" in result.stderr
    ring = keyring.Keyring([key_files.generation])
    value, _key_id = ring.decrypt(result.stdout, label=b"team-a/db", item="password")
    assert value == b"s3cret"


def test_a_hostile_namespace_in_the_kubeconfig_context_is_refused_like_a_flag(
    run: Seal, key_files: KeyFiles, tmp_path: Path
) -> None:
    config = write_kubeconfig(tmp_path / "kc", current="dev", contexts={"dev": "../Prod"})
    for args, stdin in ((["raw", "--name", "db", "--item", "k"], "v"), (["secret"], NO_NAMESPACE),
                        (["secret", "--scope", "cluster-wide"], NO_NAMESPACE)):
        result = run([*args, "--cert", str(key_files.public), "--kubeconfig", str(config)],
                     input=stdin)
        assert result.exit_code == 3, result.stderr
        assert result.stdout == ""


def test_request_timeout_takes_a_duration_and_reaches_the_cluster_target(
    run: Seal, secret_file: Path, key_files: KeyFiles
) -> None:
    from sealer.cli import cluster, context
    from sealer.crypto import keys

    seen: list[cluster.ClusterTarget] = []

    def fetch() -> keys.PublicKeys:
        seen.append(cluster.target())
        return keys.parse_public_pem(key_files.public.read_bytes())

    obj = context.CliContext(fetch_public_keys=fetch)
    for value, seconds in (("2m", 120.0), ("45", 45.0)):
        result = run(["secret", str(secret_file), "--request-timeout", value, "--context", "c"],
                     obj=obj)
        assert result.exit_code == 0, result.stderr
        assert (seen[-1].request_timeout, seen[-1].context) == (seconds, "c")
    assert run(["secret", str(secret_file), "--request-timeout", "0"], obj=obj).exit_code == 2
