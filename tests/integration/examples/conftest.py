"""Fixtures for the example tests: paths, the `seal`/`sealops` commands, the demo key imported
as a controller key generation, a fixed-name namespace, a git HTTP server and a Vault server
whose kubernetes auth asks the control plane's TokenReview API."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from controller.keys import stored
from sealer.crypto import keys
from sealer.kube import client
from tests.gitserver import repos, server
from tests.harness.waiting import wait_for
from tests.vaultserver import VaultTestServer

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"
GITOPS_REPO = EXAMPLES / "gitops-repo"
DEMO_PRIVATE = EXAMPLES / "keys" / "private.pem"
DEMO_PUBLIC = EXAMPLES / "keys" / "public.pem"
BIN = Path(sys.executable).parent
GIT_USER = "gitops"


def run(*argv: str | Path, stdin: bytes | None = None, cwd: Path = ROOT,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command; never raises on a non-zero exit (tests assert on it)."""
    return subprocess.run([str(a) for a in argv], input=stdin.decode() if stdin else None,
                          capture_output=True, text=True, cwd=cwd, env=env, check=False,
                          timeout=120)


def seal(*args: str | Path, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return run(BIN / "seal", *args, **kwargs)


def load_all(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def sealed_files(root: Path = EXAMPLES) -> list[Path]:
    """Every committed file holding a SealedSecret (either group)."""
    return sorted(p for p in root.rglob("*.yaml")
                  if any(d.get("kind") == "SealedSecret" for d in load_all(p)))


def kustomizations(root: Path = EXAMPLES) -> list[Path]:
    return sorted(p.parent for p in root.rglob("kustomization.yaml"))


def import_demo_key(kube: Any, key_namespace: str) -> keys.KeyGeneration:
    """The committed demo key generation as one of our key Secrets in `key_namespace`."""
    parsed = keys.parse_private_pem(DEMO_PRIVATE.read_bytes())
    assert len(parsed) == 1 and isinstance(parsed[0], keys.KeyGeneration)
    generation = parsed[0]
    if kube.get(client.NAMESPACES, key_namespace) is None:
        kube.create(client.NAMESPACES, {"metadata": {"name": key_namespace}})
    kube.create(client.SECRETS, stored.to_secret(generation, namespace=key_namespace),
                namespace=key_namespace)
    return generation


@pytest.fixture
def demo_key_namespace(kube: Any) -> Iterator[str]:
    """A key namespace holding only the demo key generation (so the controller adopts it)."""
    name = f"keys-{secrets.token_hex(3)}"
    import_demo_key(kube, name)
    try:
        yield name
    finally:
        kube.delete(client.NAMESPACES, name)


@pytest.fixture
def restored_key_namespace(kube: Any, kubeconfig: Path, tmp_path: Path) -> Iterator[str]:
    """The demo key generation brought into a fresh key namespace the disaster-recovery way:
    `seal keys backup` of the key file, then `sealops keys restore` into the cluster."""
    name = f"keys-{secrets.token_hex(3)}"
    kube.create(client.NAMESPACES, {"metadata": {"name": name}})
    passphrase = tmp_path / "passphrase"
    passphrase.write_text(secrets.token_urlsafe(16))
    backup = tmp_path / "keys.backup"
    made = seal("keys", "backup", "--key", DEMO_PRIVATE, "--out", backup,
                "--passphrase-file", passphrase, "--strength", "interactive")
    assert made.returncode == 0, made.stderr
    restored = run(BIN / "sealops", "keys", "restore", backup, "--namespace", name,
                   "--passphrase-file", passphrase,
                   env={**os.environ, "KUBECONFIG": str(kubeconfig)})
    assert restored.returncode == 0, restored.stderr
    try:
        yield name
    finally:
        kube.delete(client.NAMESPACES, name)


@pytest.fixture
def fixed_namespace(kube: Any) -> Iterator[Callable[[str], str]]:
    """Create namespaces with the names the examples were sealed for (a scope binds the
    namespace, so these tests cannot use random names); deleted afterwards."""
    created: list[str] = []

    def make(name: str) -> str:
        wait_for(lambda: kube.get(client.NAMESPACES, name) is None, timeout=60,
                 what=f"a previous namespace {name} to be gone")
        kube.create(client.NAMESPACES, {"metadata": {"name": name}})
        created.append(name)
        return name

    yield make
    for name in created:
        kube.delete(client.NAMESPACES, name)


@dataclass
class GitRemote:
    """A bare repository served over HTTP with Basic auth, and a work tree that pushes to it."""

    server: server.GitHTTPServer
    work: repos.WorkTree
    password: str
    name: str

    @property
    def url(self) -> str:
        return self.server.url(self.name)

    def credentials_secret(self, namespace: str, name: str = "git-credentials") -> dict[str, Any]:
        return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                "metadata": {"name": name, "namespace": namespace},
                "stringData": {"username": GIT_USER, "password": self.password}}


@pytest.fixture
def git_remote(tmp_path: Path) -> Iterator[GitRemote]:
    served = tmp_path / "served"
    served.mkdir()
    password = secrets.token_urlsafe(16)
    bare = repos.create_bare(served, "gitops.git")
    work = repos.WorkTree(tmp_path / "gitops-repo", bare)
    with server.GitHTTPServer(served, username=GIT_USER, password=password) as srv:
        yield GitRemote(server=srv, work=work, password=password, name="gitops.git")


@pytest.fixture
def vault(kube: Any) -> Iterator[VaultTestServer]:
    with VaultTestServer.start(root_token=f"root-{secrets.token_hex(8)}") as srv:

        def review(jwt: str, audiences: Sequence[str]) -> dict[str, Any]:
            body: dict[str, Any] = {"apiVersion": "authentication.k8s.io/v1",
                                    "kind": "TokenReview", "spec": {"token": jwt}}
            if audiences:
                body["spec"]["audiences"] = list(audiences)
            answer = kube.request("POST", "/apis/authentication.k8s.io/v1/tokenreviews",
                                  body=body)
            return dict(answer.get("status") or {})

        srv.set_tokenreview(review)
        yield srv
