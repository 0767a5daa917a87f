"""Drop-in for Bitnami Sealed Secrets: their keys, their objects, their wire format."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sealer.kube import client
from tests.harness.waiting import wait_for
from tests.integration.controller_fixtures import (
    BITNAMI,
    StartController,
    ready_condition,
    secret_data,
)

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "kubeseal"


def _vectors() -> list[dict[str, Any]]:
    return list(json.loads((VECTORS / "pub4096.vectors.json").read_text()))


@pytest.fixture
def team_a(kube: Any) -> Iterator[str]:
    """The kubeseal vectors are bound to fixed namespaces; `team-a` is one of them."""
    if kube.get(client.NAMESPACES, "team-a") is None:
        kube.create(client.NAMESPACES, {"metadata": {"name": "team-a"}})
    yield "team-a"
    for res in (BITNAMI,):
        for obj in kube.list(res, namespace="team-a"):
            kube.delete(res, obj["metadata"]["name"], namespace="team-a")


def _import_bitnami_key(kube: Any, key_namespace: str) -> None:
    kube.create(client.SECRETS, {
        "metadata": {"name": "sealed-secrets-keyabcde", "namespace": key_namespace,
                     "labels": {"sealedsecrets.bitnami.com/sealed-secrets-key": "active"}},
        "type": "kubernetes.io/tls",
        "data": {"tls.key": base64.b64encode((VECTORS / "pub4096.key").read_bytes()).decode(),
                 "tls.crt": base64.b64encode((VECTORS / "pub4096.crt").read_bytes()).decode()},
    }, namespace=key_namespace)


def _bitnami_sealed(namespace: str, name: str, items: dict[str, str],
                    annotations: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret",
            "metadata": {"name": name, "namespace": namespace, "annotations": annotations},
            "spec": {"encryptedData": items,
                     "template": {"metadata": {"annotations": annotations}}}}


def test_kubeseal_vectors_open_under_bitnami_compat(
    kube: Any, namespace: str, team_a: str, start_controller: StartController
) -> None:
    key_ns = f"keys-{namespace}"
    kube.create(client.NAMESPACES, {"metadata": {"name": key_ns}})
    _import_bitnami_key(kube, key_ns)
    start_controller(watch=namespace, key_namespace=key_ns,
                     args=("--bitnami-compat", "--watch-namespace", team_a))
    vectors = _vectors()
    wide = next(v for v in vectors if v["scope"] == "namespace-wide")
    cluster = next(v for v in vectors if v["scope"] == "cluster-wide")

    # namespace-wide: any name inside team-a opens it.
    kube.create(BITNAMI, _bitnami_sealed(team_a, "renamed", {wide["item"]: wide["ciphertext_b64"]},
                                         {"sealedsecrets.bitnami.com/namespace-wide": "true"}),
                namespace=team_a)
    # cluster-wide: any namespace, any name.
    kube.create(BITNAMI, _bitnami_sealed(namespace, "tls", {cluster["item"]:
                                                            cluster["ciphertext_b64"]},
                                         {"sealedsecrets.bitnami.com/cluster-wide": "true"}),
                namespace=namespace)

    got = wait_for(lambda: kube.get(client.SECRETS, "renamed", namespace=team_a),
                   what="the namespace-wide Secret")
    assert secret_data(got) == {wide["item"]: base64.b64decode(wide["plaintext_b64"])}
    got = wait_for(lambda: kube.get(client.SECRETS, "tls", namespace=namespace),
                   what="the cluster-wide Secret")
    assert secret_data(got) == {cluster["item"]: base64.b64decode(cluster["plaintext_b64"])}
    sealed = kube.get(BITNAMI, "tls", namespace=namespace)
    conditions = {c["type"]: c["status"] for c in sealed["status"]["conditions"]}
    assert conditions == {"Ready": "True", "Synced": "True"}


def test_a_strict_kubeseal_vector_refuses_to_open_elsewhere(
    kube: Any, namespace: str, start_controller: StartController
) -> None:
    key_ns = f"keys-{namespace}"
    kube.create(client.NAMESPACES, {"metadata": {"name": key_ns}})
    _import_bitnami_key(kube, key_ns)
    start_controller(watch=namespace, key_namespace=key_ns, args=("--bitnami-compat",))
    strict = next(v for v in _vectors() if v["scope"] == "strict" and v["name"] == "db-pub")

    kube.create(BITNAMI, _bitnami_sealed(namespace, strict["name"],
                                         {strict["item"]: strict["ciphertext_b64"]}, {}),
                namespace=namespace)

    cond = wait_for(lambda: ready_condition(kube.get(BITNAMI, strict["name"],
                                                     namespace=namespace)),
                    what="a Ready condition")
    assert (cond["status"], cond["reason"]) == ("False", "UnsealFailed")
    assert kube.get(client.SECRETS, strict["name"], namespace=namespace) is None


def test_bitnami_objects_are_ignored_without_compat(
    kube: Any, namespace: str, start_controller: StartController
) -> None:
    ctl = start_controller(watch=namespace)
    cluster = next(v for v in _vectors() if v["scope"] == "cluster-wide")
    kube.create(BITNAMI, _bitnami_sealed(namespace, "tls", {cluster["item"]:
                                                            cluster["ciphertext_b64"]},
                                         {"sealedsecrets.bitnami.com/cluster-wide": "true"}),
                namespace=namespace)
    # A sealops object created afterwards is handled, so the controller has seen both events.
    from tests.integration.controller_fixtures import SEALOPS, sealed_secret
    kube.create(SEALOPS, sealed_secret(namespace=namespace, name="marker", public=ctl.public(),
                                       data={"k": b"v"}), namespace=namespace)
    wait_for(lambda: kube.get(client.SECRETS, "marker", namespace=namespace), what="marker")
    assert kube.get(client.SECRETS, "tls", namespace=namespace) is None
    assert "status" not in kube.get(BITNAMI, "tls", namespace=namespace)
