"""Key generations survive the round trip through their Secret, in ours and Bitnami's layout."""

from __future__ import annotations

import base64
import datetime
from pathlib import Path

import pytest

from controller.keys import stored
from sealer import errors
from sealer.crypto import keys

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "kubeseal"
NOW = datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC)


def test_a_generation_round_trips_through_its_secret() -> None:
    gen = keys.generate(now=NOW, rsa_bits=2048)
    secret = stored.to_secret(gen, namespace="sys")
    assert secret["metadata"]["name"] == f"sealops-key-{gen.key_id_hex}"
    assert secret["metadata"]["labels"] == {stored.KEY_LABEL: "active"}
    assert secret["type"] == "kubernetes.io/tls"
    assert base64.b64decode(secret["data"]["tls.key"]).startswith(
        b"-----BEGIN RSA PRIVATE KEY-----")

    back = stored.from_secret(secret)
    assert isinstance(back, keys.KeyGeneration)
    assert back.key_id == gen.key_id
    assert stored.created_at(back) == gen.created_at


def test_a_bitnami_key_secret_loads_as_a_legacy_key() -> None:
    def b64(name: str) -> str:
        return base64.b64encode((VECTORS / name).read_bytes()).decode()

    secret = {"metadata": {"name": "sealed-secrets-keyabc", "namespace": "kube-system"},
              "data": {"tls.key": b64("pub2048.key"), "tls.crt": b64("pub2048.crt")}}
    key = stored.from_secret(secret)
    assert isinstance(key, keys.LegacyKey)
    assert key.certificate is not None


def test_an_unreadable_key_secret_is_named_without_its_content() -> None:
    secret = {"metadata": {"name": "broken", "namespace": "sys"},
              "data": {"tls.key": base64.b64encode(b"not a key canary-77").decode()}}
    with pytest.raises(errors.KeyMaterialError) as info:
        stored.from_secret(secret)
    assert "sys/broken" in str(info.value)
    assert "canary" not in str(info.value)
