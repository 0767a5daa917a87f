"""The value of `sealops.dev/secret-hash`: a keyed hash over the data of a set of Secrets. Pure.

Wire format (documented here, stable: a changed encoding would roll every opted-in workload):

    subkey  = HMAC-SHA256(controller hash key, "sealops.dev/secret-hash v1")
    message = "sealops-rollout-v1\\0"
              then per Secret name in sorted order:
                u32 len + name (UTF-8)
                0x00                                        the Secret does not exist
                0x01, u32 item count, then per item key in sorted order:
                      u32 len + key (UTF-8), u64 len + value
    value   = "v1:" + hex(HMAC-SHA256(subkey, message))

Keyed, because the annotation is readable by anyone who may read the workload: an unkeyed hash
of a low-entropy value (a PIN, a short password) is an offline guessing oracle. The key is the
controller's data-hash key (`controller.vaultsync.hashkey`); the subkey keeps this hash
unrelated to the Vault status hash made with the same key. Same data, same value: the hash is
stable across restarts and replicas, so nothing rolls when nothing changed.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

VERSION = "v1"
_SUBKEY_LABEL = b"sealops.dev/secret-hash v1"
_DOMAIN = b"sealops-rollout-v1\0"
MIN_KEY_BYTES = 16

SecretData = Mapping[str, bytes] | None


def subkey(key: bytes) -> bytes:
    if not isinstance(key, bytes) or len(key) < MIN_KEY_BYTES:
        raise ValueError("the rollout hash key must be at least 16 bytes")
    return hmac.new(key, _SUBKEY_LABEL, hashlib.sha256).digest()


def encode(secrets: Mapping[str, SecretData]) -> bytes:
    parts = [_DOMAIN]
    for name in sorted(secrets):
        raw = name.encode("utf-8")
        parts += [len(raw).to_bytes(4, "big"), raw]
        data = secrets[name]
        if data is None:
            parts.append(b"\x00")
            continue
        parts += [b"\x01", len(data).to_bytes(4, "big")]
        for item in sorted(data):
            raw_item, value = item.encode("utf-8"), data[item]
            parts += [len(raw_item).to_bytes(4, "big"), raw_item,
                      len(value).to_bytes(8, "big"), value]
    return b"".join(parts)


def secret_hash(secrets: Mapping[str, SecretData], *, key: bytes) -> str:
    """The annotation value for these Secrets (name -> data, None when missing)."""
    mac = hmac.new(subkey(key), encode(secrets), hashlib.sha256)
    return f"{VERSION}:{mac.hexdigest()}"
