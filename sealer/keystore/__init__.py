"""Where keys live on disk: PEM key files (`files`) and passphrase-encrypted backups (`backup`).

Parsing and key generation are `sealer.crypto.keys`; this package adds paths, file modes,
atomic writes and the backup format.
"""

from __future__ import annotations

from sealer.keystore import backup, files

__all__ = ["backup", "files"]
