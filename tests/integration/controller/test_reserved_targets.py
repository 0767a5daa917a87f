"""Key injection into the controller namespace (issue 10, item 2), on a real control plane.

A SealedSecret's author must not get a key of their choosing loaded, served by /v1/public.pem or
published in `sealops-public-keys`, nor write the Vault hash key, nor hand out Secrets bearing
the sealing-key labels anywhere: each is refused with Ready=False ReservedTarget and nothing is
written. Secrets that look like keys but are not the registry's records (say, planted before the
guard existed) are not loaded by a running or a restarted controller.
"""

from __future__ import annotations

import base64
import datetime
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from controller.keys import stored
from sealer.crypto import keys
from sealer.kube import client
from tests.harness.waiting import wait_for
from tests.integration.controller_fixtures import (
    BITNAMI,
    SEALOPS,
    StartController,
    ready_condition,
    sealed_secret,
)

FUTURE = datetime.datetime(2031, 1, 1, tzinfo=datetime.UTC)


@pytest.fixture
def tenant_namespace(kube: Any) -> Iterator[str]:
    name = f"tenant-{secrets.token_hex(4)}"
    kube.create(client.NAMESPACES, {"metadata": {"name": name}})
    try:
        yield name
    finally:
        kube.delete(client.NAMESPACES, name)


@pytest.fixture(scope="module")
def attacker_key() -> keys.KeyGeneration:
    """A generation newer than the controller's: loaded, it would become the one published."""
    return keys.generate(now=FUTURE, rsa_bits=2048)


def _key_items(gen: keys.KeyGeneration) -> dict[str, bytes]:
    data = stored.to_secret(gen, namespace="x")["data"]
    return {k: base64.b64decode(v) for k, v in data.items()}


def _reason(kube: Any, res: client.Resource, namespace: str, name: str) -> str:
    cond = wait_for(lambda: ready_condition(kube.get(res, name, namespace=namespace)),
                    what=f"the Ready condition of {namespace}/{name}")
    assert cond["status"] == "False", cond
    return str(cond["reason"])


def _published(kube: Any, key_namespace: str) -> dict[str, str]:
    cm = kube.get(client.CONFIGMAPS, "sealops-public-keys", namespace=key_namespace)
    return dict(cm["data"])


def _key_secret_names(kube: Any, namespace: str) -> list[str]:
    return sorted(s["metadata"]["name"] for s in kube.list(
        client.SECRETS, namespace=namespace, label_selector="sealops.dev/sealing-key"))


def test_a_sealed_secret_cannot_plant_a_key_or_the_hash_key_in_the_controller_namespace(
    kube: Any, namespace: str, start_controller: StartController,
    attacker_key: keys.KeyGeneration,
) -> None:
    ctl = start_controller(watch=namespace, key_namespace=namespace)
    pem_before, published_before = ctl.get("/v1/public.pem"), _published(kube, namespace)
    keys_before = _key_secret_names(kube, namespace)
    key_label = {"metadata": {"labels": {"sealops.dev/sealing-key": "active"}},
                 "type": "kubernetes.io/tls"}
    attempts = {
        "innocent-name": key_label,
        f"sealops-key-{attacker_key.key_id_hex}": key_label,
        f"sealops-key-{attacker_key.key_id_hex[:8]}": {"type": "kubernetes.io/tls"},
        "sealops-vault-hash-key": {"type": "Opaque", "immutable": True, "metadata": {
            "labels": {"sealops.dev/vault-hash-key": "true"}}},
        "sealops-public-keys": {"type": "Opaque"},
    }
    for name, template in attempts.items():
        data = {"key": secrets.token_bytes(32)} if "hash" in name else _key_items(attacker_key)
        kube.create(SEALOPS, sealed_secret(namespace=namespace, name=name, public=ctl.public(),
                                           data=data, template=template), namespace=namespace)

    for name in attempts:
        assert _reason(kube, SEALOPS, namespace, name) == "ReservedTarget"
        assert kube.get(client.SECRETS, name, namespace=namespace) is None
    assert ctl.get("/v1/public.pem") == pem_before
    assert _published(kube, namespace) == published_before
    assert _key_secret_names(kube, namespace) == keys_before
    assert ctl.get("/v1/cert.pem")[0] == 200


def test_no_tenant_secret_carries_a_sealing_key_label(
    kube: Any, namespace: str, tenant_namespace: str, start_controller: StartController,
    attacker_key: keys.KeyGeneration,
) -> None:
    ctl = start_controller(watch=namespace, args=("--watch-namespace", tenant_namespace,
                                                  "--bitnami-compat"))
    labels = {"native": {"sealops.dev/sealing-key": "active"},
              "bitnami": {"sealedsecrets.bitnami.com/sealed-secrets-key": "active"},
              "sync": {"sealops.dev/sync": "someone-elses-gitsync"}}
    for name, label in labels.items():
        kube.create(SEALOPS, sealed_secret(
            namespace=tenant_namespace, name=name, public=ctl.public(),
            data=_key_items(attacker_key), template={"type": "kubernetes.io/tls",
                                                      "metadata": {"labels": label}}),
            namespace=tenant_namespace)
    kube.create(BITNAMI, sealed_secret(
        namespace=tenant_namespace, name="via-bitnami", public=ctl.public(), group="bitnami.com",
        data={"tls.key": b"x"}, template={"metadata": {"labels": labels["bitnami"]}}),
        namespace=tenant_namespace)

    for name in labels:
        assert _reason(kube, SEALOPS, tenant_namespace, name) == "ReservedTarget"
        assert kube.get(client.SECRETS, name, namespace=tenant_namespace) is None
    assert _reason(kube, BITNAMI, tenant_namespace, "via-bitnami") == "ReservedTarget"
    assert kube.get(client.SECRETS, "via-bitnami", namespace=tenant_namespace) is None


def _planted(gen: keys.KeyGeneration, *, name: str, namespace: str,
             meta: dict[str, Any]) -> dict[str, Any]:
    body = stored.to_secret(gen, namespace=namespace)
    body["metadata"] = {**body["metadata"], "name": name, **meta}
    return body


def test_lookalike_key_secrets_are_not_loaded_by_a_running_or_restarted_controller(
    kube: Any, namespace: str, start_controller: StartController,
    attacker_key: keys.KeyGeneration,
) -> None:
    """What an unguarded controller used to write for a SealedSecret: our label, the tenant's
    key, and an ownerReference or Bitnami's skip-set-owner-references annotation."""
    ctl = start_controller(watch=namespace, key_namespace=namespace)
    pem_before, published_before = ctl.get("/v1/public.pem"), _published(kube, namespace)
    anchor = kube.create(client.CONFIGMAPS, {"metadata": {"name": "anchor"}},
                         namespace=namespace)  # a live owner, so GC keeps the dependent
    owner = [{"apiVersion": "v1", "kind": "ConfigMap", "name": "anchor",
              "uid": anchor["metadata"]["uid"]}]
    planted = [
        _planted(attacker_key, name="planted", namespace=namespace, meta={}),
        _planted(attacker_key, name=f"sealops-key-{attacker_key.key_id_hex}",
                 namespace=namespace, meta={"ownerReferences": owner}),
    ]
    skip = _planted(keys.generate(now=FUTURE, rsa_bits=2048), name="", namespace=namespace,
                    meta={"annotations": {
                        "sealedsecrets.bitnami.com/skip-set-owner-references": "true"}})
    skip["metadata"]["name"] = f"sealops-key-{stored.from_secret(skip).key_id_hex}"
    for body in [*planted, skip]:
        kube.create(client.SECRETS, body, namespace=namespace)

    wait_for(lambda: "not a key generation of the controller" in ctl.log_text(),
             what="the running controller to ignore the lookalikes")
    assert ctl.get("/v1/public.pem") == pem_before
    ctl.stop()

    again = start_controller(watch=namespace, key_namespace=namespace)
    assert again.get("/v1/public.pem") == pem_before
    assert _published(kube, namespace)["key-id"] == published_before["key-id"]
    assert "not a key generation of the controller" in again.log_text()
