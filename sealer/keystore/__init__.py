"""Where keys live on disk: PEM key files (`files`) and passphrase-encrypted backups (`backup`).

Parsing and key generation are `sealer.crypto.keys`; this package adds paths, file modes,
atomic writes and the backup format.

Submodules are imported on first use (`from sealer.keystore import files`, or attribute access
on the package): `backup` loads PyNaCl (~10 ms), which reading a key file never needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sealer.keystore import backup, files

__all__ = ["backup", "files"]


def __getattr__(name: str) -> object:
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
