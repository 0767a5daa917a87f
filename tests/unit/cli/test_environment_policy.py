"""What SEAL_* variables may do (issue 10 item 12): announced on stderr; never widen a scope
beyond a Secret's own annotation; never name a file to write; short backup passphrases."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import click
import click.testing
import pytest

from sealer.cli import app, context, envpolicy
from sealer.manifests import safeyaml, secrets

from .conftest import SECRET_YAML, KeyFiles, Seal

NAMESPACE_WIDE = SECRET_YAML.replace(
    "  labels: {app: db}\n",
    "  labels: {app: db}\n  annotations: {sealedsecrets.bitnami.com/namespace-wide: 'true'}\n",
)


def run_with_env(
    run: Seal, args: Sequence[str], env: Mapping[str, str], *, input: str | None = None
) -> click.testing.Result:
    return run.runner.invoke(
        app.main, list(args), input=input, obj=context.CliContext(), env=dict(env)
    )


def sealed_scope(text: str) -> str:
    doc = safeyaml.load_one(text.encode(), source="out")
    return secrets.parse_sealed_secret(doc).annotated_scope.value


def test_env_scope_may_not_widen_a_namespace_wide_secret(run: Seal, key_files: KeyFiles) -> None:
    (run.workdir / "s.yaml").write_text(NAMESPACE_WIDE)
    result = run_with_env(
        run, ["secret", "s.yaml", "--cert", str(key_files.public)],
        {"SEAL_SECRET_SCOPE": "cluster-wide"},
    )
    assert result.exit_code == 2
    assert "SEAL_SECRET_SCOPE=cluster-wide would widen Secret prod/db beyond its own scope " \
        "(namespace-wide)" in result.stderr
    assert result.stdout == ""


def test_env_scope_may_narrow_and_is_announced(run: Seal, key_files: KeyFiles) -> None:
    (run.workdir / "s.yaml").write_text(NAMESPACE_WIDE)
    result = run_with_env(
        run, ["secret", "s.yaml", "--cert", str(key_files.public)], {"SEAL_SECRET_SCOPE": "strict"}
    )
    assert result.exit_code == 0, result.stderr
    assert "seal: SEAL_SECRET_SCOPE sets --scope (strict)" in result.stderr
    assert sealed_scope(result.stdout) == "strict"


def test_a_scope_on_the_command_line_may_widen(run: Seal, key_files: KeyFiles) -> None:
    (run.workdir / "s.yaml").write_text(NAMESPACE_WIDE)
    result = run_with_env(
        run, ["secret", "s.yaml", "--cert", str(key_files.public), "--scope", "cluster-wide"],
        {"SEAL_SECRET_SCOPE": "strict"},
    )
    assert result.exit_code == 0, result.stderr
    assert "SEAL_SECRET_SCOPE" not in result.stderr  # the command line won; nothing came from it
    assert sealed_scope(result.stdout) == "cluster-wide"


def test_env_scope_may_not_widen_a_raw_value(run: Seal, key_files: KeyFiles) -> None:
    result = run_with_env(
        run, ["raw", "--cert", str(key_files.public), "--namespace", "prod", "--item", "k"],
        {"SEAL_RAW_SCOPE": "namespace-wide"}, input="v",
    )
    assert result.exit_code == 2
    assert "SEAL_RAW_SCOPE=namespace-wide would widen the value beyond its own scope" \
        in result.stderr
    assert result.stdout == ""


def test_env_may_not_name_a_file_to_merge_into(run: Seal, key_files: KeyFiles) -> None:
    (run.workdir / "s.yaml").write_text(SECRET_YAML)
    (run.workdir / "other.yaml").write_text("kind: ConfigMap\n")
    result = run_with_env(
        run, ["secret", "s.yaml", "--cert", str(key_files.public)],
        {"SEAL_SECRET_MERGE_INTO": "other.yaml"},
    )
    assert result.exit_code == 2
    assert "SEAL_SECRET_MERGE_INTO is set, but --merge-into names a file to write" \
        in result.stderr
    assert (run.workdir / "other.yaml").read_text() == "kind: ConfigMap\n"
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "variable", "value"),
    [
        (["secret", "s.yaml"], "SEAL_SECRET_OUTPUT", "out.yaml"),
        (["secret", "s.yaml"], "SEAL_SECRET_SEALED_SECRET_FILE", "out.yaml"),
        (["unseal", "s.yaml", "--key", "k"], "SEAL_UNSEAL_OUTPUT", "out.yaml"),
        (["cert"], "SEAL_CERT_OUTPUT", "out.yaml"),
        (["check"], "SEAL_CHECK_FIX", "1"),
        (["keys", "generate"], "SEAL_KEYS_GENERATE_OUT_DIR", "out"),
        (["keys", "backup", "--key", "k"], "SEAL_KEYS_BACKUP_OUT_FILE", "out.yaml"),
        (["keys", "restore", "b"], "SEAL_KEYS_RESTORE_OUT_DIR", "out"),
        (["keys", "backup", "--key", "k", "--out", "b"], "SEAL_KEYS_BACKUP_ALLOW_SHORT_PASSPHRASE",
         "1"),
    ],
)
def test_env_may_not_set_options_that_write_files_or_lift_checks(
    run: Seal, args: list[str], variable: str, value: str
) -> None:
    (run.workdir / "s.yaml").write_text(SECRET_YAML)
    result = run_with_env(run, args, {variable: value})
    assert result.exit_code == 2, result.output
    assert f"{variable} is set, but" in result.stderr
    assert "out.yaml" not in {p.name for p in run.workdir.iterdir()}
    assert not (run.workdir / "out").exists()


def test_every_seal_command_follows_the_environment_policy() -> None:
    def walk(command: click.Command, ctx: click.Context) -> list[click.Command]:
        found = [command]
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                assert sub is not None
                found += walk(sub, ctx)
        return found

    with click.Context(app.main) as ctx:
        commands = walk(app.main, ctx)
    assert len(commands) > 10
    for command in commands:
        assert isinstance(command, envpolicy.Command | envpolicy.Group), command.name
        for param in command.params:
            if param.name in {"output", "merge_into", "out_dir", "out_file", "fix", "force",
                              "allow_short_passphrase"}:
                assert isinstance(param, envpolicy.CommandLineOnly), (command.name, param.name)


def test_values_from_the_environment_are_announced(
    run: Seal, key_files: KeyFiles, tmp_path: Path
) -> None:
    (run.workdir / "s.yaml").write_text(SECRET_YAML)
    result = run_with_env(
        run, ["secret", "s.yaml"],
        {"SEAL_SECRET_CERT": str(key_files.public), "SEAL_SECRET_V1": "1",
         "SEAL_CONTROLLER_URL": "http://user:secret-pw@127.0.0.1:1"},
    )
    assert result.exit_code == 0, result.stderr
    assert f"seal: SEAL_SECRET_CERT sets --cert ({key_files.public})" in result.stderr
    assert "seal: SEAL_SECRET_V1 sets --v1 (True)" in result.stderr
    assert "secret-pw" not in result.output  # free strings are named, never shown


# --- keys backup passphrases ----------------------------------------------------------------------


def backup(run: Seal, key_files: KeyFiles, passphrase: str, *flags: str) -> click.testing.Result:
    (run.workdir / "pass").write_text(passphrase + "\n")
    return run(["keys", "backup", "--key", str(key_files.private), "--out", "k.bak",
                "--passphrase-file", "pass", "--strength", "interactive", *flags])


def test_a_short_backup_passphrase_is_refused_without_printing_it(
    run: Seal, key_files: KeyFiles
) -> None:
    result = backup(run, key_files, "Zq9")
    assert result.exit_code == 2
    assert "shorter than 12 characters" in result.stderr
    assert "--allow-short-passphrase" in result.stderr
    assert "Zq9" not in result.output and " 3 " not in result.stderr
    assert not (run.workdir / "k.bak").exists()


def test_a_short_backup_passphrase_may_be_allowed_and_is_warned_about(
    run: Seal, key_files: KeyFiles
) -> None:
    result = backup(run, key_files, "x", "--allow-short-passphrase")
    assert result.exit_code == 0, result.stderr
    assert "warning: the passphrase is shorter than 12 characters" in result.stderr
    assert (run.workdir / "k.bak").exists()


def test_a_twelve_character_passphrase_needs_no_flag(run: Seal, key_files: KeyFiles) -> None:
    result = backup(run, key_files, "twelve chars")
    assert result.exit_code == 0, result.stderr
    assert "warning" not in result.stderr
