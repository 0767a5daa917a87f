"""The controller's published public keys, read through the API (`seal cert`, `seal secret`).

The controller publishes its newest key generation in ConfigMap `sealops-public-keys` of its
namespace (`controller.keys.publish`; deploy/ lets every authenticated user read it), so a
laptop needs no service proxy and no access to the controller's pod:

    data.public.pem   certificate + X25519 + ML-KEM-768 public keys (what `seal` seals to)
    data.cert.pem     the RSA certificate alone (what kubeseal reads)
    data.key-id       the newest generation's key id (hex)
    data.key-ids      every active generation's key id, one per line

The PEM is parsed strictly (`keys.parse_public_pem`) and must agree with `key-id` when that is
present: the key id is derived from the keys, so a disagreement means the ConfigMap was edited
by hand or half-written. Errors name the ConfigMap, never its contents.
"""

from __future__ import annotations

import dataclasses

from sealer import errors
from sealer.crypto import keys
from sealer.kube import client

__all__ = ["CONFIGMAP", "DEFAULT_NAMESPACE", "MAX_PEM_BYTES", "Published", "fetch", "parse"]

CONFIGMAP = "sealops-public-keys"  # controller.keys.publish writes it under this name
DEFAULT_NAMESPACE = "sealops-system"
PUBLIC_PEM = "public.pem"
KEY_ID = "key-id"
MAX_PEM_BYTES = 64 << 10


@dataclasses.dataclass(frozen=True)
class Published:
    """The published PEM as the controller wrote it, and the keys parsed from it."""

    pem: bytes
    public: keys.PublicKeys
    source: str  # "ConfigMap <namespace>/<name>", for messages


def fetch(kube: client.KubeClient, *, namespace: str = DEFAULT_NAMESPACE) -> Published:
    """Read and check the published public keys in `namespace`."""
    source = f"ConfigMap {namespace}/{CONFIGMAP}"
    configmap = kube.get(client.CONFIGMAPS, CONFIGMAP, namespace=namespace)
    if configmap is None:
        raise errors.ClusterError(
            f"{source} not found: is the sealops controller running in namespace {namespace}? "
            "(set --controller-namespace)"
        )
    return parse(configmap, source=source)


def parse(configmap: dict[str, object], *, source: str) -> Published:
    """The public keys in a `sealops-public-keys` ConfigMap (pure; `fetch` reads it)."""
    data = configmap.get("data")
    text = data.get(PUBLIC_PEM) if isinstance(data, dict) else None
    if not isinstance(text, str) or not text.strip():
        raise errors.KeyMaterialError(f"{source} has no {PUBLIC_PEM}")
    if len(text) > MAX_PEM_BYTES or not text.isascii():
        raise errors.KeyMaterialError(f"{source}: {PUBLIC_PEM} is not a public key PEM")
    pem = text.encode("ascii")
    try:
        public = keys.parse_public_pem(pem)
    except errors.KeyMaterialError as exc:
        raise errors.KeyMaterialError(f"{source}: {PUBLIC_PEM}: {exc}") from None
    claimed = data.get(KEY_ID) if isinstance(data, dict) else None
    if isinstance(claimed, str) and claimed.strip() != public.key_id_hex:
        raise errors.KeyMaterialError(
            f"{source}: {PUBLIC_PEM} holds key {public.key_id_hex}, but {KEY_ID} names another "
            "key; the ConfigMap is inconsistent"
        )
    return Published(pem=pem, public=public, source=source)
