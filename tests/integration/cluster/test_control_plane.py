"""The local control plane is real: SSA with managedFields, garbage collection, CRDs."""

from __future__ import annotations

from typing import Any

import pytest

from sealer.kube import client
from sealer.kube import errors as kerrors
from tests.harness.waiting import wait_for

WIDGETS = client.Resource("harness.sealops.dev", "v1", "Widget", "widgets", True)


def test_server_side_apply_records_the_field_manager(kube: Any, namespace: str) -> None:
    body = {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "cfg", "namespace": namespace}, "data": {"a": "1"}}
    kube.apply(client.CONFIGMAPS, body, field_manager="sealops-test")

    cm = kube.get(client.CONFIGMAPS, "cfg", namespace=namespace)
    assert cm["data"] == {"a": "1"}
    managers = {(m["manager"], m["operation"]) for m in cm["metadata"]["managedFields"]}
    assert ("sealops-test", "Apply") in managers


def test_garbage_collector_removes_owned_objects(kube: Any, namespace: str) -> None:
    owner = kube.create(client.CONFIGMAPS, {"metadata": {"name": "owner"}}, namespace=namespace)
    kube.create(client.CONFIGMAPS, {"metadata": {"name": "owned", "ownerReferences": [{
        "apiVersion": "v1", "kind": "ConfigMap", "name": "owner",
        "uid": owner["metadata"]["uid"]}]}}, namespace=namespace)

    kube.delete(client.CONFIGMAPS, "owner", namespace=namespace)

    wait_for(lambda: kube.get(client.CONFIGMAPS, "owned", namespace=namespace) is None,
             timeout=30, what="garbage collection of the owned ConfigMap")


@pytest.fixture
def widget_crd(kube: Any) -> None:
    crds = client.Resource("apiextensions.k8s.io", "v1", "CustomResourceDefinition",
                           "customresourcedefinitions", False)
    kube.apply(crds, {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.harness.sealops.dev"},
        "spec": {
            "group": "harness.sealops.dev", "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [{
                "name": "v1", "served": True, "storage": True,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "properties": {"size": {"type": "integer"}}},
                    "status": {"type": "object", "properties": {"phase": {"type": "string"}}},
                }}},
            }],
        },
    }, field_manager="sealops-test")

    def established() -> bool:
        got = kube.get(crds, "widgets.harness.sealops.dev") or {}
        return any(c["type"] == "Established" and c["status"] == "True"
                   for c in (got.get("status") or {}).get("conditions") or [])

    wait_for(established, what="the Widget CRD to be established")
    wait_for(lambda: _served(kube), what="the Widget API to be served")


def _served(kube: Any) -> bool:
    try:
        kube.request("GET", "/apis/harness.sealops.dev/v1")
    except kerrors.ApiError:
        return False
    return True


@pytest.mark.usefixtures("widget_crd")
def test_crd_with_status_subresource_accepts_objects(kube: Any, namespace: str) -> None:
    kube.create(WIDGETS, {"apiVersion": "harness.sealops.dev/v1", "kind": "Widget",
                          "metadata": {"name": "w"}, "spec": {"size": 3},
                          "status": {"phase": "ignored"}}, namespace=namespace)

    created = kube.get(WIDGETS, "w", namespace=namespace)
    assert created.get("status") != {"phase": "ignored"}, "status must go through /status"

    kube.patch(WIDGETS, "w", {"status": {"phase": "Ready"}}, namespace=namespace,
               subresource="status")
    got = kube.get(WIDGETS, "w", namespace=namespace)
    assert got["status"] == {"phase": "Ready"}
    assert got["spec"] == {"size": 3}


@pytest.mark.usefixtures("widget_crd")
def test_schema_validation_rejects_a_bad_object_without_echoing_values(
    kube: Any, namespace: str
) -> None:
    with pytest.raises(kerrors.ApiError) as info:
        kube.create(WIDGETS, {"apiVersion": "harness.sealops.dev/v1", "kind": "Widget",
                              "metadata": {"name": "bad"}, "spec": {"size": "canary-3f9a"}},
                    namespace=namespace)
    assert info.value.status == 422
    assert "spec.size" in str(info.value)
    assert "canary-3f9a" not in str(info.value)
