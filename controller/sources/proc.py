"""A bounded subprocess runner: no shell, a wall-clock deadline, capped output.

Used for `git` here and for `kustomize` by `controller.render`. The child runs in its own
session so that a timeout kills the whole process group (git's `git-remote-https`, `ssh`),
not only the direct child; otherwise a grandchild could keep the pipes open forever.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Completed", "OutputTooLarge", "Timeout", "run"]

_CHUNK = 1 << 16


@dataclass(frozen=True)
class Completed:
    returncode: int
    stdout: bytes
    stderr: bytes


class Timeout(Exception):
    """The deadline passed; the process group was killed."""


class OutputTooLarge(Exception):
    """Standard output exceeded its cap; the process group was killed."""


def run(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    timeout: float,
    cwd: Path | None = None,
    max_stdout: int = 16 << 20,
    max_stderr: int = 64 << 10,
) -> Completed:
    """Run `argv` (never through a shell); stderr keeps only its last `max_stderr` bytes."""
    if timeout <= 0:
        raise Timeout
    proc = subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(env),
        cwd=cwd,
        start_new_session=True,
        close_fds=True,
    )
    deadline = time.monotonic() + timeout
    try:
        out, err = _collect(proc, deadline=deadline, max_stdout=max_stdout, max_stderr=max_stderr)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise Timeout
        try:
            returncode = proc.wait(timeout=remaining)
        except subprocess.TimeoutExpired:
            raise Timeout from None
    except BaseException:
        _kill_group(proc)
        raise
    finally:
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
    return Completed(returncode=returncode, stdout=bytes(out), stderr=bytes(err))


def _collect(
    proc: subprocess.Popen[bytes], *, deadline: float, max_stdout: int, max_stderr: int
) -> tuple[bytearray, bytearray]:
    assert proc.stdout is not None and proc.stderr is not None
    out, err = bytearray(), bytearray()
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ, out)
        selector.register(proc.stderr, selectors.EVENT_READ, err)
        while selector.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Timeout
            for key, _ in selector.select(remaining):
                chunk = os.read(key.fd, _CHUNK)
                if not chunk:
                    selector.unregister(key.fileobj)
                    continue
                buffer: bytearray = key.data
                buffer += chunk
                if buffer is out and len(out) > max_stdout:
                    raise OutputTooLarge
                if buffer is err and len(err) > max_stderr:
                    del err[: len(err) - max_stderr]
    return out, err


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    proc.wait()
