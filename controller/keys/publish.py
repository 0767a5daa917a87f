"""Publishing the newest generation's public keys in ConfigMap `sealops-public-keys`.

Readable by every authenticated user (see deploy/), so `seal cert` works through the API
without the API server's service proxy. Written with server-side apply: an unchanged ConfigMap
is not rewritten.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization

from sealer.crypto import keys
from sealer.kube import client, publickeys

CONFIGMAP = publickeys.CONFIGMAP  # what `seal cert` reads
FIELD_MANAGER = "sealops-controller"


def configmap(newest: keys.KeyGeneration, *, namespace: str,
              key_ids: list[str]) -> dict[str, object]:
    return {
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": CONFIGMAP, "namespace": namespace,
                     "labels": {"app.kubernetes.io/part-of": "sealops"}},
        "data": {
            "public.pem": keys.public_pem(newest.public()).decode("ascii"),
            "cert.pem": newest.certificate.public_bytes(serialization.Encoding.PEM).decode(),
            "key-id": newest.key_id_hex,
            "key-ids": "\n".join(key_ids) + "\n",
        },
    }


def publish(kube: client.KubeClient, newest: keys.KeyGeneration, *, namespace: str,
            key_ids: list[str]) -> None:
    kube.apply(client.CONFIGMAPS, configmap(newest, namespace=namespace, key_ids=key_ids),
               field_manager=FIELD_MANAGER, force=True)
