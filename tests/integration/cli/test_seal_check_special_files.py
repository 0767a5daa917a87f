"""`seal check` as a subprocess over a directory holding a FIFO, a socket and a device node.

The FIFO has no writer: opening it for reading would block forever, so the old code hung here.
`timeout` is only a hang guard for the test run, not a time budget.
"""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest

from .test_seal_executable import SEAL, SECRET

pytestmark = pytest.mark.integration


def test_special_files_in_a_scanned_directory_are_skipped_and_secrets_still_found(
    tmp_path: Path,
) -> None:
    deploy = tmp_path / "deploy"
    deploy.mkdir()
    os.mkfifo(deploy / "a-pipe.yaml")
    (deploy / "z-secret.yaml").write_text(SECRET)
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(deploy / "b-sock.json"))
        result = subprocess.run(
            [*SEAL, "check", "deploy"], cwd=tmp_path, capture_output=True, timeout=300,
            check=False,
        )
    stderr = result.stderr.decode()
    assert result.returncode == 1, stderr
    assert "deploy/a-pipe.yaml: skipped: a FIFO, not a regular file" in stderr
    assert "deploy/b-sock.json: skipped: a socket, not a regular file" in stderr
    assert b"deploy/z-secret.yaml:8: Secret prod/db item 'password'" in result.stdout
    assert b"hunter2" not in result.stdout + result.stderr


def test_a_fifo_named_directly_is_skipped(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.yaml")
    result = subprocess.run(
        [*SEAL, "check", "pipe.yaml"], cwd=tmp_path, capture_output=True, timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert b"pipe.yaml: skipped: a FIFO, not a regular file" in result.stderr
