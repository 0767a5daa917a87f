"""Bare repositories and work trees for tests, driven by the real `git` CLI.

Every call runs with a private HOME and no system config, so the developer's own git setup
never leaks in. Bare repositories serve unadvertised reachable commits
(`uploadpack.allowReachableSHA1InWant`) unless told otherwise.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

__all__ = ["WorkTree", "create_bare", "git"]


def git(*args: str, cwd: Path, home: Path | None = None) -> str:
    """Run git in `cwd`; return stdout; raise with stderr on failure."""
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": str(home or cwd),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_TERMINAL_PROMPT": "0",
        "LC_ALL": "C",
    }
    result = subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.invalid",
         "-c", "init.defaultBranch=main", "-c", "protocol.file.allow=always", *args],
        cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=60,
    )
    if result.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def create_bare(root: Path, name: str, *, allow_reachable_sha1: bool = True) -> Path:
    """`root/name` as an empty bare repository."""
    path = root / name
    git("init", "--quiet", "--bare", str(path), cwd=root)
    git("config", "uploadpack.allowReachableSHA1InWant", str(allow_reachable_sha1).lower(),
        cwd=path)
    git("config", "http.receivepack", "false", cwd=path)
    return path


class WorkTree:
    """A non-bare clone of `bare` to write files in, commit and push from."""

    def __init__(self, path: Path, bare: Path, *, branch: str = "main") -> None:
        self.path = path
        self.bare = bare
        path.mkdir(parents=True, exist_ok=True)
        self.run("init", "--quiet", "-b", branch)
        self.run("remote", "add", "origin", str(bare))

    def run(self, *args: str) -> str:
        return git(*args, cwd=self.path)

    def write(self, files: Mapping[str, str | bytes]) -> None:
        for rel, content in files.items():
            target = self.path / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content.encode() if isinstance(content, str) else content)

    def symlink(self, rel: str, target: str) -> None:
        link = self.path / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(target)

    def remove(self, rel: str) -> None:
        self.run("rm", "-r", "--quiet", rel)

    def commit(self, message: str = "change") -> str:
        self.run("add", "--all")
        self.run("commit", "--quiet", "--allow-empty", "-m", message)
        return self.run("rev-parse", "HEAD").strip()

    def push(self, ref: str = "main", *, force: bool = False) -> None:
        self.run("push", "--quiet", *(["--force"] if force else []), "origin", ref)

    def tag(self, name: str, *, annotated: bool = False) -> None:
        self.run("tag", *(["-a", "-m", name] if annotated else []), name)
        self.run("push", "--quiet", "origin", f"refs/tags/{name}")

    def branch(self, name: str) -> None:
        self.run("checkout", "--quiet", "-B", name)
