"""The `seal` group: help a newcomer can follow, --version, and the single error mapping."""

from __future__ import annotations

import ast
from pathlib import Path

import click
import click.testing
import pytest

from sealer import errors
from sealer.cli import app

from .conftest import KeyFiles, Seal

COMMANDS = [
    ["secret"],
    ["raw"],
    ["unseal"],
    ["keys"],
    ["keys", "generate"],
    ["keys", "backup"],
    ["keys", "restore"],
    ["reencrypt"],
    ["check"],
]


def test_the_top_level_help_lists_commands_and_examples(run: Seal) -> None:
    result = run(["--help"])
    assert result.exit_code == 0
    for name in ("secret", "raw", "unseal", "keys", "reencrypt", "check"):
        assert f"  {name} " in result.stdout
    assert "Examples:" in result.stdout
    assert "SEAL_" in result.stdout
    assert run(["-h"]).stdout == result.stdout


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help_with_a_description(run: Seal, command: list[str]) -> None:
    result = run([*command, "--help"])
    assert result.exit_code == 0
    assert result.stdout.startswith(f"Usage: seal {' '.join(command)}")
    if command[0] != "keys" or len(command) == 1:
        assert "Examples:" in result.stdout


def test_version(run: Seal) -> None:
    result = run(["--version"])
    assert result.exit_code == 0
    assert result.stdout.startswith("seal, version ")


def test_an_unknown_command_is_a_usage_error(run: Seal) -> None:
    assert run(["nope"]).exit_code == 2


@pytest.mark.parametrize(
    "error",
    [
        errors.UsageError("u"),
        errors.ManifestError("m"),
        errors.InvalidNameError("n"),
        errors.KeyMaterialError("k"),
        errors.BackupError("b"),
        errors.UnsealError("item"),
        errors.PolicyError("p"),
        errors.ClusterError("c"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_library_errors_map_to_their_exit_codes_once(error: errors.SealopsError) -> None:
    @click.command("boom")
    def boom() -> None:
        raise error

    group = app.SealGroup(commands={"boom": boom})
    result = click.testing.CliRunner().invoke(group, ["boom"])
    assert result.exit_code == error.exit_code
    assert result.stderr == f"Error: {error}\n"


def test_an_oversized_value_is_refused_by_policy(run: Seal, key_files: KeyFiles) -> None:
    big = "x" * ((1 << 20) + 1)
    text = (
        "apiVersion: v1\nkind: Secret\nmetadata: {name: a, namespace: b}\n"
        f"stringData: {{k: {big}}}\n"
    )
    result = run(["secret", "--cert", str(key_files.public)], input=text)
    assert result.exit_code == errors.PolicyError.exit_code
    assert result.stdout == ""


def test_stdin_beyond_the_input_cap_is_refused(run: Seal, key_files: KeyFiles) -> None:
    result = run(["secret", "--cert", str(key_files.public)], input=b"#" * ((4 << 20) + 1))
    assert result.exit_code == 2
    assert "more than" in result.stderr


def test_command_modules_import_only_click_and_the_standard_library_at_top_level() -> None:
    allowed = {
        "click",
        "importlib",
        "sealer",
        "__future__",
        "typing",
        "collections",
        "dataclasses",
        "datetime",
        "pathlib",
        "os",
        "stat",
        "sys",
        "contextlib",
    }
    cli_dir = Path(app.__file__).parent
    for path in cli_dir.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
                if node.module == "sealer":
                    assert {a.name for a in node.names} <= {"errors"}, path.name
                elif (node.module or "").startswith("sealer."):
                    assert node.module.startswith("sealer.cli"), f"{path.name}: {node.module}"
            for name in names:
                assert name.split(".")[0] in allowed, f"{path.name} imports {name}"
