"""The key of the Vault data hash: one Secret in the controller namespace, created once.

`controller.vault.mapping.data_hash` is keyed so the hash in a VaultSecret's status is no offline
oracle for guessing low-entropy values. The key lives in `sealops-vault-hash-key` (label
`sealops.dev/vault-hash-key`, immutable); `load` reads it, or creates it when it is missing
(a racing replica's create wins: on 409 the stored key is read back). Called lazily by
`controller.vaultsync.runtime` before the first hash.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Callable

from sealer import errors
from sealer.kube import client
from sealer.kube import errors as kerrors

NAME = "sealops-vault-hash-key"
DATA_KEY = "key"
LABEL = "sealops.dev/vault-hash-key"
KEY_BYTES = 32


def _decode(secret: dict[str, object], *, namespace: str) -> bytes:
    data = secret.get("data")
    raw = data.get(DATA_KEY) if isinstance(data, dict) else None
    failure = errors.KeyMaterialError(f"Secret {namespace}/{NAME} holds no valid hash key")
    if not isinstance(raw, str):
        raise failure
    try:
        key = base64.b64decode(raw, validate=True)
    except binascii.Error:
        raise failure from None
    if not 16 <= len(key) <= 64:
        raise failure
    return key


def load(kube: client.KubeClient, *, namespace: str,
         random_bytes: Callable[[int], bytes] = secrets.token_bytes) -> bytes:
    """The hash key, creating its Secret on first use."""
    existing = kube.get(client.SECRETS, NAME, namespace=namespace)
    if existing is not None:
        return _decode(existing, namespace=namespace)
    body = {
        "apiVersion": "v1", "kind": "Secret", "type": "Opaque", "immutable": True,
        "metadata": {"name": NAME, "namespace": namespace, "labels": {LABEL: "true"}},
        "data": {DATA_KEY: base64.b64encode(random_bytes(KEY_BYTES)).decode("ascii")},
    }
    try:
        created = kube.create(client.SECRETS, body, namespace=namespace)
    except kerrors.ApiError as exc:
        if exc.status != 409:
            raise
        created = kube.get(client.SECRETS, NAME, namespace=namespace) or {}
    return _decode(created, namespace=namespace)
