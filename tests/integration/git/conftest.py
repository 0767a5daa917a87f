"""Fixtures for the git source tests: a git HTTP server on 127.0.0.1 with Basic auth per test."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from controller.sources import credentials
from tests.gitserver import repos, server

USERNAME = "alice"


@dataclass
class GitEnv:
    server: server.GitHTTPServer
    served: Path
    tmp: Path
    password: str

    @property
    def creds(self) -> credentials.Credentials:
        return credentials.Credentials(username=USERNAME, password=self.password)

    @property
    def cache(self) -> Path:
        return self.tmp / "cache"

    def repo(self, name: str = "app.git", *, allow_reachable_sha1: bool = True) -> repos.WorkTree:
        bare = repos.create_bare(self.served, name, allow_reachable_sha1=allow_reachable_sha1)
        return repos.WorkTree(self.tmp / "work" / name, bare)

    def url(self, name: str = "app.git") -> str:
        return self.server.url(name)


@pytest.fixture
def git_env(tmp_path: Path) -> Iterator[GitEnv]:
    served = tmp_path / "served"
    served.mkdir()
    password = f"canary-{secrets.token_hex(8)}"
    with server.GitHTTPServer(served, username=USERNAME, password=password) as srv:
        yield GitEnv(server=srv, served=served, tmp=tmp_path, password=password)
