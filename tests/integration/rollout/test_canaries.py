"""Canary sweep (HOSTILE-INPUTS L51) for rolling: a secret value that rolled a Deployment, and
one written by hand and repaired, never reach the controller log, Events, metrics, the
workload's or its ReplicaSets' annotations and managedFields, or the SealedSecret's status; the
stamp is keyed (no plain digest of a value)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import urllib.parse
from typing import Any

from controller.rollout import digest
from sealer.kube import client
from tests.harness.waiting import wait_for
from tests.integration.controller_fixtures import (
    SEALOPS,
    StartController,
    sealed_secret,
    secret_data,
)
from tests.integration.rollout.conftest import (
    DEPLOYMENTS,
    REPLICASETS,
    deployment,
    events_for,
    stamp,
    wait_replicasets,
)


def forms(canary: str) -> set[str]:
    raw = canary.encode()
    return {canary, base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode(),
            raw.hex(), urllib.parse.quote(canary, safe=""), hashlib.sha256(raw).hexdigest(),
            hashlib.sha256(digest.encode({"db": {"password": raw}})).hexdigest()}


def test_no_sink_holds_a_value_that_rolled_a_workload(
        kube: Any, namespace: str, start_controller: StartController) -> None:
    ctl = start_controller(watch=namespace)
    first, second, edited = (f"canary-roll-{i}-{secrets.token_hex(8)}" for i in range(3))

    def seal(value: str) -> None:
        body = sealed_secret(namespace=namespace, name="db", public=ctl.public(),
                             data={"password": value.encode()})
        if kube.get(SEALOPS, "db", namespace=namespace) is None:
            kube.create(SEALOPS, body, namespace=namespace)
        else:
            kube.patch(SEALOPS, "db", {"spec": body["spec"]}, namespace=namespace)
        wait_for(lambda: secret_data(kube.get(client.SECRETS, "db", namespace=namespace) or {})
                 == {"password": value.encode()}, what="the Secret")

    seal(first)
    kube.create(DEPLOYMENTS, deployment("app", secret="db"), namespace=namespace)
    wait_replicasets(kube, namespace, "app", 1)
    seal(second)
    wait_replicasets(kube, namespace, "app", 2)
    wait_for(lambda: events_for(kube, namespace, "app", "SecretChanged"), what="the Event")
    kube.patch(client.SECRETS, "db", {"data": {"password": base64.b64encode(
        edited.encode()).decode()}}, namespace=namespace)
    line = f"Deployment {namespace}/app: unchanged after a change of Secret db"
    wait_for(lambda: line in ctl.log_text(), timeout=120, what="the check after the repair")
    wait_replicasets(kube, namespace, "app", 2)

    stamped = stamp(kube, namespace, "app")
    assert stamped is not None
    for value in (first, second):
        assert stamped.removeprefix("v1:") != hashlib.sha256(value.encode()).hexdigest()
    sinks = {
        "controller log": ctl.log_text(),
        "metrics": ctl.get("/metrics")[1].decode(errors="replace"),
        "events": json.dumps(kube.list(client.EVENTS, namespace=namespace)),
        "deployments": json.dumps(kube.list(DEPLOYMENTS, namespace=namespace)),
        "replicasets": json.dumps(kube.list(REPLICASETS, namespace=namespace)),
        "sealedsecrets": json.dumps(kube.list(SEALOPS, namespace=namespace)),
    }
    assert 'sealops_rollouts_total{kind="Deployment",source="SealedSecret"} 1' in sinks["metrics"]
    for canary in (first, second, edited):
        for form in forms(canary):
            for sink, text in sinks.items():
                assert form not in text, f"a form of a canary in {sink}"
