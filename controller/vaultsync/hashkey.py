"""The key of the Vault data hash: one Secret in the controller namespace, created once.

`controller.vault.mapping.data_hash` is keyed so the hash in a VaultSecret's status is no offline
oracle for guessing low-entropy values. The key lives in `sealops-vault-hash-key` (label
`sealops.dev/vault-hash-key`, immutable); `load` reads it, or creates it when it is missing
(a racing replica's create wins: on 409 the stored key is read back). Called lazily by
`controller.vaultsync.runtime` before the first hash.

The name is reserved (`controller.reserved`): no SealedSecret or VaultSecret may write it. A
Secret of that name is used only when it is the controller's record: labelled, immutable, and
without any mark of a SealedSecret's or VaultSecret's write (`reserved.materialized`); anything
else (say one written before that guard existed) fails every sync with KeyMaterialError until
an admin deletes it, rather than keying the hash with a value a tenant chose.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Callable

from controller import reserved
from sealer import errors
from sealer.kube import client
from sealer.kube import errors as kerrors

NAME = reserved.HASH_KEY_NAME
DATA_KEY = "key"
LABEL = reserved.HASH_KEY_LABEL
KEY_BYTES = 32


def _is_record(secret: dict[str, object]) -> bool:
    """Written by `load`: our label, immutable, and no mark of a materialized Secret."""
    meta = secret.get("metadata")
    labels = meta.get("labels") if isinstance(meta, dict) else None
    return (isinstance(labels, dict) and labels.get(LABEL) == "true"
            and secret.get("immutable") is True and not reserved.materialized(secret))


def _decode(secret: dict[str, object], *, namespace: str) -> bytes:
    data = secret.get("data")
    raw = data.get(DATA_KEY) if isinstance(data, dict) else None
    failure = errors.KeyMaterialError(f"Secret {namespace}/{NAME} holds no valid hash key")
    if not _is_record(secret):
        raise errors.KeyMaterialError(f"Secret {namespace}/{NAME} is not the controller's hash "
                                      "key; delete it to let the controller create one")
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
