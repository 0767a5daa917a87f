"""Leak hygiene of the git source (L51) and the bounded process runner."""

from __future__ import annotations

import base64
import os
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from controller.sources import errors, git, proc
from tests.integration.git.conftest import GitEnv

pytestmark = pytest.mark.integration


def all_bytes_under(root: Path) -> list[tuple[Path, bytes]]:
    found = []
    for dirpath, _, files in os.walk(root):
        for name in files:
            path = Path(dirpath) / name
            if not path.is_symlink():
                found.append((path, path.read_bytes()))
    return found


def test_no_file_or_temp_dir_keeps_the_password_after_a_fetch(
    git_env: GitEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    work = git_env.repo()
    work.write({"a.yaml": "a: 1\n"})
    work.commit()
    work.push()
    git.fetch(git_env.url(), git.Ref(branch="main"), cache_dir=git_env.cache,
              creds=git_env.creds)
    with pytest.raises(errors.FetchError):
        git.fetch(git_env.url("missing.git"), git.Ref(branch="main"), cache_dir=git_env.cache,
                  creds=git_env.creds)
    assert list(scratch.iterdir()) == []
    canary = git_env.password.encode()
    forms = [canary, base64.b64encode(canary), base64.b64encode(b"alice:" + canary)]
    for path, content in all_bytes_under(git_env.cache):
        assert not any(form in content for form in forms), path


def test_the_test_server_challenges_with_basic_auth(git_env: GitEnv) -> None:
    git_env.repo()
    request = urllib.request.Request(git_env.url("app.git") + "/info/refs?service=git-upload-pack")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    assert caught.value.code == 401
    assert caught.value.headers["WWW-Authenticate"] == 'Basic realm="git"'
    caught.value.close()


def test_a_timeout_kills_the_whole_process_group() -> None:
    marker = f"sealops-proc-test-{os.getpid()}-{time.monotonic_ns()}"
    child = [sys.executable, "-c", "import time; time.sleep(30)", marker]
    script = f"import subprocess, time; subprocess.Popen({child!r}); time.sleep(30)"
    started = time.monotonic()
    with pytest.raises(proc.Timeout):
        proc.run([sys.executable, "-c", script], env={"PATH": os.environ["PATH"]}, timeout=1)
    assert time.monotonic() - started < 30  # killed, not waited for (the child sleeps 30 s)
    alive: list[Path] = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        alive = [p for p in Path("/proc").iterdir() if p.name.isdigit() and _cmdline_has(p, marker)]
        if not alive:
            break
        time.sleep(0.05)
    assert not alive


def _cmdline_has(pid_dir: Path, marker: str) -> bool:
    try:
        return marker.encode() in (pid_dir / "cmdline").read_bytes()
    except OSError:
        return False


def test_output_over_the_cap_stops_the_process() -> None:
    with pytest.raises(proc.OutputTooLarge):
        proc.run([sys.executable, "-c", "print('x' * 100000)"],
                 env={"PATH": os.environ["PATH"]}, timeout=10, max_stdout=1000)


def test_stderr_keeps_only_its_tail() -> None:
    script = "import sys; sys.stderr.write('a' * 100000 + 'END')"
    result = proc.run([sys.executable, "-c", script], env={"PATH": os.environ["PATH"]},
                      timeout=10, max_stderr=10)
    assert result.stderr == b"aaaaaaaEND"
