"""Key generations from the published ConfigMap, and sealed values counted per generation
from the key id in each envelope's header (real envelopes sealed by the library)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from controller.dashboard import keygens
from controller.keys import publish
from sealer.crypto import keyring, keys, scope

T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
SOURCE = "ConfigMap sealops-system/sealops-public-keys"


@pytest.fixture(scope="module")
def generations() -> tuple[keys.KeyGeneration, keys.KeyGeneration]:
    old = keys.generate(now=T0, rsa_bits=2048)
    new = keys.generate(now=T0 + datetime.timedelta(days=30), rsa_bits=2048)
    return old, new


def _sealed(name: str, public: keys.PublicKeys, *, items: int, version: int = 2,
            key_id: str | None = None) -> dict[str, Any]:
    label = scope.label(scope.Scope.STRICT, namespace="shop", name=name)
    data = {f"k{i}": keyring.seal_value(b"canary-plaintext", public=public, label=label,
                                        item=f"k{i}", version=version) for i in range(items)}
    status = {"keyId": key_id} if key_id else {}
    return {"metadata": {"namespace": "shop", "name": name},
            "spec": {"encryptedData": data}, "status": status}


def test_values_are_counted_for_the_generation_named_in_each_envelope_header(
        generations: tuple[keys.KeyGeneration, keys.KeyGeneration]) -> None:
    old, new = generations
    counts = keygens.values_per_key([
        _sealed("a", old.public(), items=2), _sealed("b", new.public(), items=3),
        _sealed("c", old.public(), items=1, version=1, key_id=old.key_id_hex),
        _sealed("d", old.public(), items=1, version=1),
        {"metadata": {"name": "e"}, "spec": {"encryptedData": {"x": "!!not base64!!", "y": 5}}},
    ])
    assert counts == {old.key_id_hex: (3, 2), new.key_id_hex: (3, 1),
                      keygens.UNKNOWN: (3, 2)}


def test_the_view_lists_the_newest_first_with_its_age_then_older_and_unpublished_ones(
        generations: tuple[keys.KeyGeneration, keys.KeyGeneration]) -> None:
    old, new = generations
    configmap = publish.configmap(new, namespace="sealops-system",
                                  key_ids=[new.key_id_hex, old.key_id_hex])
    retired = "00112233445566ff"
    view = keygens.key_view(configmap, source=SOURCE, counts={
        new.key_id_hex: (4, 2), retired: (1, 1)})
    assert view.problem == ""
    assert [(g.key_id, g.newest, g.active, g.values, g.objects) for g in view.generations] == [
        (new.key_id_hex, True, True, 4, 2), (old.key_id_hex, False, True, 0, 0),
        (retired, False, False, 1, 1)]
    assert view.generations[0].created == new.created_at
    assert view.generations[1].created is None


def test_without_readable_sealed_secrets_no_counts_are_claimed(
        generations: tuple[keys.KeyGeneration, keys.KeyGeneration]) -> None:
    _, new = generations
    configmap = publish.configmap(new, namespace="ns", key_ids=[new.key_id_hex])
    (only,) = keygens.key_view(configmap, source=SOURCE, counts=None).generations
    assert only.values is None and only.objects is None


def test_a_tampered_configmap_is_a_problem_named_by_the_configmap(
        generations: tuple[keys.KeyGeneration, keys.KeyGeneration]) -> None:
    old, new = generations
    configmap = publish.configmap(new, namespace="ns", key_ids=[new.key_id_hex])
    configmap["data"]["key-id"] = old.key_id_hex  # type: ignore[index]
    view = keygens.key_view(configmap, source=SOURCE, counts={})
    assert view.generations == ()
    assert SOURCE in view.problem and "-----BEGIN" not in view.problem
    assert keygens.key_view(None, source=SOURCE, counts=None).generations == ()
