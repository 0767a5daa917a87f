"""Key generations with an injected clock, against the real API: renewal and cut-off."""

from __future__ import annotations

import datetime
from typing import Any

from controller.keys import registry
from sealer.crypto import keys
from sealer.kube import client

T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
RENEWAL = datetime.timedelta(hours=720)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime.datetime:
        return self.now


def _fast_generate(now: datetime.datetime) -> keys.KeyGeneration:
    return keys.generate(now=now, rsa_bits=2048)


def _key_secrets(kube: Any, namespace: str) -> list[str]:
    return sorted(s["metadata"]["name"] for s in kube.list(
        client.SECRETS, namespace=namespace, label_selector="sealops.dev/sealing-key=active"))


def test_a_generation_is_persisted_before_use_and_renewed_when_due(
    kube: Any, namespace: str
) -> None:
    clock = Clock()
    reg = registry.KeyRegistry(kube, namespace=namespace, bitnami_compat=False, now=clock,
                               generate=_fast_generate)

    assert reg.ensure(renewal=RENEWAL) is True
    first = reg.newest
    assert _key_secrets(kube, namespace) == [f"sealops-key-{first.key_id_hex}"]

    clock.now = T0 + RENEWAL - datetime.timedelta(seconds=1)
    assert reg.ensure(renewal=RENEWAL) is False

    clock.now = T0 + RENEWAL
    assert reg.ensure(renewal=RENEWAL) is True
    second = reg.newest
    assert second.key_id != first.key_id
    assert second.created_at == T0 + RENEWAL
    assert [k.key_id for k in reg.keyring] == [second.key_id, first.key_id]
    assert len(_key_secrets(kube, namespace)) == 2


def test_a_second_registry_loads_what_the_first_persisted(kube: Any, namespace: str) -> None:
    clock = Clock()
    one = registry.KeyRegistry(kube, namespace=namespace, bitnami_compat=False, now=clock,
                               generate=_fast_generate)
    one.ensure(renewal=RENEWAL)

    two = registry.KeyRegistry(kube, namespace=namespace, bitnami_compat=False, now=clock,
                               generate=_fast_generate)
    assert two.ensure(renewal=RENEWAL) is False
    assert two.newest.key_id == one.newest.key_id


def test_a_cutoff_time_after_the_newest_generation_forces_a_new_one(
    kube: Any, namespace: str
) -> None:
    clock = Clock()
    reg = registry.KeyRegistry(kube, namespace=namespace, bitnami_compat=False, now=clock,
                               generate=_fast_generate)
    reg.ensure(renewal=None)
    clock.now = T0 + datetime.timedelta(days=1)

    assert reg.ensure(renewal=None, cutoff=T0 + datetime.timedelta(hours=1)) is True
    assert reg.ensure(renewal=None, cutoff=T0 + datetime.timedelta(hours=1)) is False
    assert len(_key_secrets(kube, namespace)) == 2
