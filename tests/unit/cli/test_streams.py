"""streams: atomic writes (0600 temp file, removed on error), capped reads, passphrase files."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from sealer import errors
from sealer.cli import streams


def test_an_atomic_write_goes_through_a_0600_temp_file_and_ends_0644(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []
    real_fsync = os.fsync

    def spying_fsync(fd: int) -> None:
        seen.append(stat.S_IMODE(os.fstat(fd).st_mode))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spying_fsync)
    old_umask = os.umask(0o077)
    try:
        streams.write_atomic(tmp_path / "out.yaml", b"data")
    finally:
        os.umask(old_umask)
    assert seen == [0o600]
    assert stat.S_IMODE((tmp_path / "out.yaml").stat().st_mode) == 0o644
    assert os.listdir(tmp_path) == ["out.yaml"]


def test_a_failed_atomic_write_removes_the_temp_file_and_keeps_the_original(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out.yaml"
    target.write_bytes(b"old")

    def failing_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(errors.SealopsError, match=r"cannot write .*No space left"):
        streams.write_atomic(target, b"new")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["out.yaml"]


def test_an_interrupted_atomic_write_removes_the_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        streams.write_atomic(tmp_path / "out.yaml", b"new")
    assert os.listdir(tmp_path) == []


def test_write_atomic_can_refuse_to_overwrite(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("keep")
    with pytest.raises(errors.UsageError, match="refusing to overwrite"):
        streams.write_atomic(tmp_path / "f", b"x", overwrite=False)
    assert (tmp_path / "f").read_text() == "keep"


def test_read_file_refuses_a_file_over_the_cap_before_reading(tmp_path: Path) -> None:
    (tmp_path / "big").write_bytes(b"x" * 11)
    with pytest.raises(errors.UsageError, match="11 bytes; the limit is 10"):
        streams.read_file(tmp_path / "big", max_bytes=10)


def test_read_file_refuses_what_is_not_a_regular_file(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(errors.UsageError, match="not a regular file"):
        streams.read_file(tmp_path / "fifo")
    with pytest.raises(errors.UsageError, match="not a regular file"):
        streams.read_file(tmp_path)


@pytest.mark.parametrize(
    ("content", "expected"),
    [(b"pw\n", b"pw"), (b"pw\r\n", b"pw"), (b"pw\n\n", b"pw\n"), (b" pw ", b" pw ")],
)
def test_a_passphrase_file_loses_one_trailing_newline_only(
    tmp_path: Path, content: bytes, expected: bytes
) -> None:
    (tmp_path / "p").write_bytes(content)
    assert streams.read_passphrase(tmp_path / "p", confirm=False) == expected


@pytest.mark.skipif(os.geteuid() != 0, reason="creating a device node needs root")
def test_writing_to_a_device_writes_through_it_instead_of_replacing_it(tmp_path: Path) -> None:
    device = tmp_path / "null"
    os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))

    streams.write_atomic(device, b"sealed output")

    assert stat.S_ISCHR(device.lstat().st_mode)
    assert list(tmp_path.iterdir()) == [device]
