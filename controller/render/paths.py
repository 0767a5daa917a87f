"""Secure path handling inside a checkout: joining, symlink bounds, regular-file reads.

Policy (like Flux's "follows relative symlinks within the root"): a symlink whose target stays
inside the checkout root is followed, component by component as the kernel would; an absolute
target, or a relative one whose `..` climbs above the root, is an out-of-bounds symlink and
raises `PathEscapeError` naming the link's repo-relative path. The target is never opened.
More than 40 link hops (a loop) is an error. Only regular files are read: the type is checked
with `lstat` before `open`, which uses `O_NOFOLLOW | O_NONBLOCK` and `fstat` again, so a FIFO,
a device or a directory named `x.yaml` is refused and never blocks.

Configured paths (`spec.path`) are refused before any joining when they are absolute, contain
`..`, a backslash, NUL, a percent-encoded dot/slash/backslash/NUL, or exceed 4096 characters.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections import deque
from pathlib import Path

from controller.render import errors

__all__ = [
    "MAX_LINK_HOPS",
    "MAX_PATH_LENGTH",
    "check_relative",
    "lstat",
    "read_regular",
    "real_root",
    "relative",
    "resolve_within",
    "scan_checkout",
    "secure_join",
]

MAX_PATH_LENGTH = 4096
MAX_LINK_HOPS = 40
_ENCODED = re.compile(r"%(?:2e|2f|5c|00)", re.IGNORECASE)
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def check_relative(rel: str) -> list[str]:
    """The components of a configured repo-relative path; `PathEscapeError` if it may traverse."""
    if not isinstance(rel, str):
        raise TypeError(f"path must be a str, not {type(rel).__name__}")
    why = _lexical_refusal(rel)
    if why is not None:
        raise errors.PathEscapeError(f"path {_show(rel)} refused: {why}")
    return [part for part in rel.split("/") if part not in ("", ".")]


def real_root(root: Path) -> str:
    """The checkout root with its own symlinks resolved; it must be a directory."""
    real = os.path.realpath(root)
    if not os.path.isdir(real):
        raise errors.MissingPathError("the checkout root is not a directory")
    return real


def secure_join(root: Path, rel: str) -> Path:
    """`root/rel` with every symlink resolved, guaranteed inside `root` (which must exist)."""
    root_real = real_root(root)
    return Path(resolve_within(root_real, root_real, check_relative(rel)))


def resolve_within(
    root_real: str, start: str, parts: list[str], *, via: str = "path"
) -> str:
    """Walk `parts` from the directory `start` (inside `root_real`), following symlinks.

    `..` is allowed in `parts` only as far as the root; `via` names what the parts came from
    in an escape message. Returns the real path, which is inside `root_real`.
    """
    current = start
    pending: deque[tuple[str, str]] = deque((part, via) for part in parts)
    hops = 0
    while pending:
        part, origin = pending.popleft()
        if part in ("", "."):
            continue
        if part == "..":
            if current == root_real:
                raise errors.PathEscapeError(f"out of bounds {origin}")
            current = os.path.dirname(current)
            continue
        candidate = os.path.join(current, part)
        mode = lstat(root_real, candidate).st_mode
        if stat.S_ISLNK(mode):
            hops += 1
            link = relative(root_real, candidate)
            if hops > MAX_LINK_HOPS:
                raise errors.RenderError(f"symlink loop (too many levels of links): {link}")
            target = os.readlink(candidate)
            if target.startswith("/"):
                raise errors.PathEscapeError(f"out of bounds symlink: {link}")
            pending.extendleft(reversed([(p, f"symlink: {link}") for p in target.split("/")]))
            continue
        if pending and not stat.S_ISDIR(mode):
            raise errors.MissingPathError(f"{relative(root_real, candidate)} is not a directory")
        current = candidate
    return current


def read_regular(root_real: str, real: str, *, max_bytes: int) -> bytes:
    """The bytes of the regular file at the already-resolved `real`, at most `max_bytes`."""
    rel = relative(root_real, real)
    st = lstat(root_real, real)
    _check_regular(rel, st, max_bytes=max_bytes)
    try:
        fd = os.open(real, _OPEN_FLAGS)
    except OSError as exc:
        raise _os_error(rel, exc) from None
    try:
        _check_regular(rel, os.fstat(fd), max_bytes=max_bytes)
        chunks: list[bytes] = []
        total = 0
        while chunk := os.read(fd, 1 << 16):
            total += len(chunk)
            if total > max_bytes:
                raise errors.RenderError(f"{rel}: larger than the limit of {max_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def scan_checkout(root_real: str, *, max_entries: int) -> None:
    """Raise for any out-of-bounds or looping symlink, FIFO, socket or device under the root.

    Hidden paths are scanned too. Dangling in-bounds links are left alone: nothing can read
    through them.
    """
    pending = [root_real]
    seen = 0
    while pending:
        directory = pending.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                seen += 1
                if seen > max_entries:
                    raise errors.RenderError(f"the checkout has more than {max_entries} entries")
                mode = entry.stat(follow_symlinks=False).st_mode
                if stat.S_ISLNK(mode):
                    _check_link(root_real, directory, entry.name)
                elif stat.S_ISDIR(mode):
                    pending.append(entry.path)
                elif not stat.S_ISREG(mode):
                    rel = relative(root_real, entry.path)
                    raise errors.RenderError(f"{rel}: not a regular file ({_kind(mode)})")


def relative(root_real: str, real: str) -> str:
    """The repo-relative form of a path inside the root, for messages."""
    rel = os.path.relpath(real, root_real)
    return "." if rel == "." else rel


def _check_link(root_real: str, directory: str, name: str) -> None:
    try:
        resolve_within(root_real, directory, [name])
    except errors.MissingPathError:
        return


def _check_regular(rel: str, st: os.stat_result, *, max_bytes: int) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise errors.RenderError(f"{rel}: not a regular file ({_kind(st.st_mode)})")
    if st.st_size > max_bytes:
        raise errors.RenderError(
            f"{rel}: {st.st_size} bytes exceed the limit of {max_bytes} bytes per file"
        )


def lstat(root_real: str, path: str) -> os.stat_result:
    """`os.lstat`, with failures as `RenderError`s naming the repo-relative path."""
    try:
        return os.lstat(path)
    except OSError as exc:
        raise _os_error(relative(root_real, path), exc) from None


def _os_error(rel: str, exc: OSError) -> errors.RenderError:
    if exc.errno in (errno.ENOENT, errno.ENOTDIR):
        return errors.MissingPathError(f"{rel}: no such file or directory")
    if exc.errno == errno.ELOOP:
        return errors.RenderError(f"{rel}: symlink loop or a symlink where a file was expected")
    return errors.RenderError(f"{rel}: {exc.strerror or 'cannot be read'}")


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISLNK, "a symlink"),
    ):
        if test(mode):
            return name
    return "not a file"


def _lexical_refusal(rel: str) -> str | None:
    checks = (
        (len(rel) > MAX_PATH_LENGTH, f"longer than {MAX_PATH_LENGTH} characters"),
        ("\x00" in rel, "it contains NUL"),
        ("\\" in rel, "it contains a backslash"),
        (_ENCODED.search(rel) is not None, "it contains a percent-encoded '.', '/', '\\' or NUL"),
        (rel.startswith("/"), "it is absolute"),
        (".." in rel.split("/"), "it contains '..'"),
    )
    return next((why for refused, why in checks if refused), None)


def _show(rel: str) -> str:
    text = ascii(rel)
    return text if len(text) <= 80 else text[:76] + "...'"
