"""Replacing many files all or nothing (`seal reencrypt`, `seal check --fix`).

`inspect` runs before anything is read: it resolves each named file (a symlink is followed and
its *target* is rewritten, the link kept - said on stderr; two names for one file are one
file), refuses a read-only file (no write bit at all) unless `force`, refuses anything but a
regular file, and records each file's identity (device, inode, size, mtime).
`replace_all` then writes every new content to a 0600 temporary file in the target's own
directory (written, fsynced, given the old file's mode); if any of that fails, or any file
changed since `inspect`, every temporary file is removed and no file is changed. Only then are
the temporary files renamed over their targets, one `os.replace` each, and the directories
fsynced. A rename failing part-way (the one step that cannot be made atomic across files) is
reported naming exactly which files were replaced and which were not.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import stat
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from sealer import errors

__all__ = ["Target", "inspect", "replace_all"]


@dataclasses.dataclass(frozen=True)
class Target:
    """A file to rewrite: the name given, the real file, its mode and identity."""

    given: Path
    real: Path
    mode: int
    identity: tuple[int, int, int, int]


def _identity(info: os.stat_result) -> tuple[int, int, int, int]:
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


def inspect(
    paths: Iterable[Path], *, force: bool, warn: Callable[[str], None]
) -> list[Target]:
    """One `Target` per distinct real file, in the order given; refusals raise `UsageError`."""
    targets: dict[Path, Target] = {}
    for given in paths:
        try:
            real = Path(os.path.realpath(given, strict=True))
            info = os.stat(real)
        except OSError as exc:
            raise errors.UsageError(f"cannot read {given}: {exc.strerror}") from None
        if not stat.S_ISREG(info.st_mode):
            raise errors.UsageError(f"{given} is not a regular file")
        if real in targets:
            continue
        if given.is_symlink():
            warn(f"{given} is a symbolic link: rewriting its target {real} (the link stays)")
        if not info.st_mode & 0o222 and not force:
            raise errors.UsageError(
                f"{given} is read-only; no file was changed (pass --force to replace it anyway, "
                "keeping its mode)"
            )
        targets[real] = Target(given=given, real=real, mode=stat.S_IMODE(info.st_mode),
                               identity=_identity(info))
    return list(targets.values())


def replace_all(changes: Mapping[Target, bytes]) -> None:
    """Write every change to a temporary file, then rename them all; see the module docstring."""
    staged: list[tuple[Target, Path]] = []
    try:
        for target, data in changes.items():
            staged.append((target, _stage(target, data)))
        for target, _tmp in staged:
            _unchanged(target)
    except BaseException:
        _remove(tmp for _target, tmp in staged)
        raise
    _commit(staged)


def _stage(target: Target, data: bytes) -> Path:
    tmp = target.real.with_name(f".{target.real.name[:64]}.{os.urandom(6).hex()}.seal.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(tmp, flags, 0o600)
    except OSError as exc:
        raise errors.SealopsError(
            f"cannot write {target.given}: {exc.strerror}; no file was changed"
        ) from None
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
        os.fchmod(fd, target.mode)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise errors.SealopsError(
            f"cannot write {target.given}: {exc.strerror}; no file was changed"
        ) from None
    finally:
        os.close(fd)
    return tmp


def _unchanged(target: Target) -> None:
    try:
        now = _identity(os.stat(target.real))
    except OSError:
        now = None
    if now != target.identity:
        raise errors.SealopsError(
            f"{target.given} changed while it was being rewritten; no file was changed"
        )


def _commit(staged: list[tuple[Target, Path]]) -> None:
    for index, (target, tmp) in enumerate(staged):
        try:
            os.replace(tmp, target.real)
        except OSError as exc:
            _remove(t for _target, t in staged[index:])
            done = ", ".join(str(t.given) for t, _tmp in staged[:index]) or "none"
            left = ", ".join(str(t.given) for t, _tmp in staged[index:])
            raise errors.SealopsError(
                f"cannot replace {target.given}: {exc.strerror}; replaced: {done}; "
                f"left unchanged: {left}"
            ) from None
    for directory in sorted({target.real.parent for target, _tmp in staged}):
        _fsync_directory(directory)


def _fsync_directory(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _remove(paths: Iterable[Path]) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink()
