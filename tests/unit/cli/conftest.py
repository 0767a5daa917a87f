"""Key files and a runner for the `seal` CLI tests; keys are made once per session."""

from __future__ import annotations

import dataclasses
import datetime
import os
import pathlib
from collections.abc import Sequence

import click.testing
import pytest

from sealer.cli import app, context
from sealer.crypto import keys
from sealer.keystore import files

VECTORS = pathlib.Path(__file__).resolve().parents[2] / "vectors"
KUBESEAL = VECTORS / "kubeseal"
NOW = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)

SECRET_YAML = """\
apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: prod
  labels: {app: db}
stringData:
  password: hunter2
  user: admin
"""


@dataclasses.dataclass(frozen=True)
class KeyFiles:
    public: pathlib.Path
    private: pathlib.Path
    generation: keys.KeyGeneration


def write_keys(directory: pathlib.Path, *, now: datetime.datetime) -> KeyFiles:
    generation = keys.generate(now=now, rsa_bits=2048)
    public, private = files.write_generation(generation, out_dir=directory)
    return KeyFiles(public=public, private=private, generation=generation)


@pytest.fixture(scope="session")
def key_files(tmp_path_factory: pytest.TempPathFactory) -> KeyFiles:
    return write_keys(tmp_path_factory.mktemp("keys"), now=NOW)


@pytest.fixture(scope="session")
def new_key_files(tmp_path_factory: pytest.TempPathFactory) -> KeyFiles:
    return write_keys(tmp_path_factory.mktemp("new-keys"), now=NOW + datetime.timedelta(minutes=1))


@pytest.fixture(scope="session")
def kubeseal_files() -> tuple[pathlib.Path, pathlib.Path]:
    """(certificate, tls.key) of kubeseal's RSA-2048 test key."""
    if not (KUBESEAL / "pub2048.key").exists():
        pytest.skip("tests/vectors/kubeseal is missing")
    return KUBESEAL / "pub2048.crt", KUBESEAL / "pub2048.key"


class Seal:
    """Runs `seal` in-process with CliRunner; stdout and stderr are kept apart."""

    def __init__(self, workdir: pathlib.Path) -> None:
        self.workdir = workdir
        self.runner = click.testing.CliRunner(catch_exceptions=False)

    def __call__(
        self, args: Sequence[str], *, input: str | bytes | None = None, obj: object = None
    ) -> click.testing.Result:
        # Without a context object `seal` would plug in its cluster fetcher (kubeconfig, API
        # server); unit tests stay off the network, so they get a context with no hooks.
        obj = context.CliContext() if obj is None else obj
        return self.runner.invoke(app.main, list(args), input=input, obj=obj, env={})


@pytest.fixture
def run(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> Seal:
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("SEAL_")]:
        monkeypatch.delenv(name)
    return Seal(tmp_path)


@pytest.fixture
def secret_file(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "secret.yaml"
    path.write_text(SECRET_YAML)
    return path
