"""Key generations <-> the Secrets that persist them (pure; no cluster I/O).

One generation is one `kubernetes.io/tls` Secret in the controller namespace:

    metadata.name    sealops-key-<key id hex>
    labels           sealops.dev/sealing-key: active
    annotations      sealops.dev/created-at: <RFC 3339>
    data.tls.key     RSA PRIVATE KEY (PKCS#1)      -- kubeseal's layout, so Bitnami tools read it
    data.tls.crt     the kubeseal-style certificate
    data.v2.key      the generation's full private PEM (RSA, certificate, X25519, ML-KEM-768)

Bitnami's own key Secrets (label `sealedsecrets.bitnami.com/sealed-secrets-key=active`, only
`tls.key`/`tls.crt`) load as v1-only legacy keys when the controller runs with --bitnami-compat.

A label alone never makes a key: `not_a_record` says why a labelled Secret is not one of the
registry's records, and the registry ignores it. A record is a `kubernetes.io/tls` Secret with
no ownerReference and no other mark of a SealedSecret's or VaultSecret's write
(`controller.reserved.materialized`); one of our generations must also be named after the key
id of the key it holds (the registry names every generation so, and `controller.reserved`
refuses that name prefix to every SealedSecret and VaultSecret in the controller namespace).
"""

from __future__ import annotations

import base64
import datetime
from typing import Any

from cryptography.hazmat.primitives import serialization

from controller import reserved
from sealer import errors
from sealer.crypto import keys

KEY_LABEL = reserved.KEY_LABEL
BITNAMI_KEY_LABEL = reserved.BITNAMI_KEY_LABEL
CREATED_AT = "sealops.dev/created-at"
NAME_PREFIX = reserved.KEY_NAME_PREFIX

Key = keys.KeyGeneration | keys.LegacyKey


def to_secret(gen: keys.KeyGeneration, *, namespace: str) -> dict[str, Any]:
    rsa_pem = gen.rsa.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.TraditionalOpenSSL,
                                    serialization.NoEncryption())
    cert_pem = gen.certificate.public_bytes(serialization.Encoding.PEM)
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/tls",
        "metadata": {
            "name": NAME_PREFIX + gen.key_id_hex,
            "namespace": namespace,
            "labels": {KEY_LABEL: "active"},
            "annotations": {CREATED_AT: _rfc3339(gen.created_at)},
        },
        "data": {
            "tls.key": _b64(rsa_pem),
            "tls.crt": _b64(cert_pem),
            "v2.key": _b64(keys.private_pem(gen)),
        },
    }


def from_secret(secret: dict[str, Any]) -> Key:
    """The key held by one of our key Secrets or a Bitnami key Secret."""
    meta = secret.get("metadata") or {}
    what = f"key Secret {meta.get('namespace')}/{meta.get('name')}"
    data = secret.get("data") or {}
    try:
        if "v2.key" in data:
            parsed = keys.parse_private_pem(base64.b64decode(data["v2.key"], validate=True))
        else:
            pem = base64.b64decode(data["tls.key"], validate=True)
            if "tls.crt" in data:
                pem += b"\n" + base64.b64decode(data["tls.crt"], validate=True)
            parsed = keys.parse_private_pem(pem)
    except (KeyError, ValueError, TypeError):
        raise errors.KeyMaterialError(f"{what} holds no readable key") from None
    except errors.KeyMaterialError:
        raise errors.KeyMaterialError(f"{what} holds no readable key") from None
    if len(parsed) != 1:
        raise errors.KeyMaterialError(f"{what} holds {len(parsed)} keys, expected one")
    return parsed[0]


def not_a_record(secret: dict[str, Any], key: Key) -> str | None:
    """Why a labelled key Secret holding `key` is not one of the registry's records, or None."""
    meta = secret.get("metadata") or {}
    if secret.get("type") != "kubernetes.io/tls":
        return "its type is not kubernetes.io/tls"
    if reserved.materialized(secret):
        return "it was written for a SealedSecret or VaultSecret"
    if isinstance(key, keys.KeyGeneration) and meta.get("name") != NAME_PREFIX + key.key_id_hex:
        return "its name does not match the key id of the key it holds"
    return None


def created_at(key: Key) -> datetime.datetime:
    if isinstance(key, keys.KeyGeneration):
        return key.created_at
    return key.created_at or datetime.datetime.min.replace(tzinfo=datetime.UTC)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _rfc3339(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
