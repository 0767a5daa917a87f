"""Reading a small regular file safely: no blocking on a FIFO, no unbounded read.

Shared by the CLI (`sealer.cli.streams`, input manifests) and the key store
(`sealer.keystore.files`, key files); each names the file its own way and raises its own error.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sealer import errors


def read_regular(path: Path, *, max_bytes: int, error: type[errors.SealopsError],
                 what: str = "") -> bytes:
    """The bytes of regular file `path`, refused (as `error`) when it is something else or
    larger than `max_bytes`, checked before reading and again after. `what` prefixes the path
    in messages (e.g. "key file ")."""
    name = f"{what}{path}"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise error(f"cannot read {name}: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise error(f"{name} is not a regular file")
        if info.st_size > max_bytes:
            raise error(f"{name} is {info.st_size} bytes; the limit is {max_bytes}")
        with os.fdopen(os.dup(fd), "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise error(f"cannot read {name}: {exc.strerror}") from None
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise error(f"{name} grew beyond {max_bytes} bytes while being read")
    return data
