"""The metrics of a real controller for SealedSecrets: a condition series per object, values
per key generation with the generation's creation time, and both gone with the object."""

from __future__ import annotations

from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tests.harness.waiting import wait_for
from tests.integration.controller_fixtures import (
    SEALOPS,
    RunningController,
    StartController,
    ready_condition,
    sealed_secret,
)


def scrape(ctl: RunningController) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    status, body = ctl.get("/metrics")
    assert status == 200
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(body.decode())
            for s in family.samples}


def test_sealed_secret_series_follow_the_object_and_its_key_generation(
        kube: Any, namespace: str, start_controller: StartController) -> None:
    ctl = start_controller(watch=namespace)
    public = ctl.public()
    key_id = public.key_id_hex
    kube.create(SEALOPS, sealed_secret(namespace=namespace, name="db", public=public,
                                       data={"user": b"u", "password": b"p"}),
                namespace=namespace)
    wait_for(lambda: ready_condition(kube.get(SEALOPS, "db", namespace=namespace)),
             timeout=120, what="db Ready")
    ready = frozenset({"kind": "SealedSecret", "namespace": namespace, "name": "db",
                       "type": "Ready", "status": "True"}.items())
    found = wait_for(lambda: (m := scrape(ctl)).get(("sealops_condition", ready)) == 1 and m,
                     timeout=120, what="the Ready series of db")
    assert found[("sealops_sealed_values", frozenset({"key_id": key_id}.items()))] == 2
    created = found[("sealops_key_generation_created_timestamp_seconds",
                     frozenset({"key_id": key_id, "kind": "sealops"}.items()))]
    assert created > 1.7e9
    assert any(name == "sealops_build_info" for name, _ in found)
    assert any(name == "process_resident_memory_bytes" for name, _ in found)

    kube.delete(SEALOPS, "db", namespace=namespace)
    wait_for(lambda: not [k for k in scrape(ctl) if k[0] == "sealops_condition" and
                          ("name", "db") in k[1]], timeout=120, what="db's series removed")
    assert ("sealops_sealed_values", frozenset({"key_id": key_id}.items())) not in scrape(ctl)
