"""Key renewal, restarts, replicas and the leak sweep, with the controller as a process."""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import urllib.parse
from typing import Any

from sealer.kube import client
from tests.harness.waiting import wait_for
from tests.integration.controller_fixtures import (
    SEALOPS,
    StartController,
    ready_condition,
    sealed_secret,
    secret_data,
)

KEY_SELECTOR = "sealops.dev/sealing-key=active"


def test_key_renewal_seals_new_values_with_the_new_generation_and_keeps_old_ones_open(
    kube: Any, namespace: str, start_controller: StartController
) -> None:
    ctl = start_controller(watch=namespace, args=("--key-renewal", "4s"))
    first = ctl.public()
    kube.create(SEALOPS, sealed_secret(namespace=namespace, name="old", public=first,
                                       data={"k": b"sealed-before"}), namespace=namespace)
    wait_for(lambda: kube.get(client.SECRETS, "old", namespace=namespace), what="old Secret")

    wait_for(lambda: len(kube.list(client.SECRETS, namespace=ctl.key_namespace,
                                   label_selector=KEY_SELECTOR)) >= 2,
             timeout=60, what="a second key generation")
    second = wait_for(lambda: (p := ctl.public()).key_id != first.key_id and p,
                      what="the new generation to be served")
    kube.create(SEALOPS, sealed_secret(namespace=namespace, name="new", public=second,
                                       data={"k": b"sealed-after"}), namespace=namespace)

    new = wait_for(lambda: kube.get(client.SECRETS, "new", namespace=namespace),
                   what="new Secret")
    assert secret_data(new) == {"k": b"sealed-after"}
    # The Secret is written before the status that reports it: wait for the status too.
    assert _key_id(kube, namespace, "new") == second.key_id_hex
    # The old value is re-opened on a resync by the old generation, which was kept.
    kube.delete(client.SECRETS, "old", namespace=namespace)
    old = wait_for(lambda: kube.get(client.SECRETS, "old", namespace=namespace),
                   what="old Secret restored")
    assert secret_data(old) == {"k": b"sealed-before"}
    assert _key_id(kube, namespace, "old") == first.key_id_hex


def _key_id(kube: Any, namespace: str, name: str) -> str:
    """`status.keyId` of a SealedSecret once its status reports one."""
    found: str = wait_for(lambda: ((kube.get(SEALOPS, name, namespace=namespace) or {})
                                   .get("status") or {}).get("keyId"),
                          what=f"status.keyId of {name}")
    return found


def test_a_restarted_controller_writes_nothing_for_unchanged_objects(
    kube: Any, namespace: str, start_controller: StartController
) -> None:
    ctl = start_controller(watch=namespace)
    for name in ("a", "b", "c"):
        kube.create(SEALOPS, sealed_secret(namespace=namespace, name=name, public=ctl.public(),
                                           data={"k": name.encode()}), namespace=namespace)
    for name in ("a", "b", "c"):
        wait_for(lambda n=name: ready_condition(kube.get(SEALOPS, n, namespace=namespace)),
                 what=f"{name} Ready")
    before = _versions(kube, namespace)
    ctl.stop()

    again = start_controller(watch=namespace, key_namespace=ctl.key_namespace)
    wait_for(lambda: again.log_text().count("Handler 'unseal-sealops.dev' succeeded") >= 3,
             what="the restarted controller to resync all three")

    assert _versions(kube, namespace) == before


def _versions(kube: Any, namespace: str) -> dict[str, str]:
    out = {}
    for res in (client.SECRETS, SEALOPS):
        for obj in kube.list(res, namespace=namespace):
            if obj.get("type") != "kubernetes.io/service-account-token":
                out[f"{res.kind}/{obj['metadata']['name']}"] = obj["metadata"]["resourceVersion"]
    return out


def test_two_replicas_never_both_act(
    kube: Any, namespace: str, start_controller: StartController
) -> None:
    one = start_controller(watch=namespace, args=("--priority", "100"))
    two = start_controller(watch=namespace, key_namespace=one.key_namespace,
                           args=("--priority", "200"))
    wait_for(lambda: "Pausing operations in favour of" in one.log_text(),
             what="the lower-priority replica to pause")
    kube.create(SEALOPS, sealed_secret(namespace=namespace, name="db", public=one.public(),
                                       data={"k": b"v"}), namespace=namespace)
    wait_for(lambda: kube.get(client.SECRETS, "db", namespace=namespace), what="the Secret")

    assert "Handler 'unseal-sealops.dev' succeeded" in two.log_text()
    assert "Handler 'unseal-sealops.dev'" not in one.log_text()
    managers = {m["manager"] for m in
                kube.get(client.SECRETS, "db", namespace=namespace)["metadata"]["managedFields"]}
    assert managers == {"sealops"}


def _forms(canary: bytes) -> list[str]:
    return [canary.decode(), base64.b64encode(canary).decode(),
            base64.urlsafe_b64encode(canary).decode().rstrip("="),
            binascii.hexlify(canary).decode(), urllib.parse.quote(canary.decode())]


def test_no_plaintext_reaches_logs_events_status_or_annotations(
    kube: Any, namespace: str, start_controller: StartController
) -> None:
    canary = f"canary-{secrets.token_hex(8)}".encode()
    kube.create(client.SECRETS, {"metadata": {"name": "foreign"}, "stringData": {"x": "y"}},
                namespace=namespace)
    ctl = start_controller(watch=namespace)
    public = ctl.public()
    good = sealed_secret(namespace=namespace, name="good", public=public, data={"k": canary})
    foreign = sealed_secret(namespace=namespace, name="foreign", public=public,
                            data={"k": canary})
    replayed = sealed_secret(namespace="elsewhere", name="good", public=public,
                             data={"k": canary})
    replayed["metadata"].update(namespace=namespace, name="replayed")
    for body in (good, foreign, replayed):
        kube.create(SEALOPS, body, namespace=namespace)
    wait_for(lambda: ready_condition(kube.get(SEALOPS, "good", namespace=namespace)),
             what="good Ready")
    tampered = kube.get(SEALOPS, "good", namespace=namespace)
    value = tampered["spec"]["encryptedData"]["k"]
    tampered["spec"]["encryptedData"]["k"] = value[:-8] + "AAAAAAA="
    kube.replace(SEALOPS, tampered, namespace=namespace)
    for name in ("foreign", "replayed"):
        wait_for(lambda n=name: ready_condition(kube.get(SEALOPS, n, namespace=namespace)),
                 what=f"{name} condition")
    wait_for(lambda: (c := ready_condition(kube.get(SEALOPS, "good", namespace=namespace)))
             and c["status"] == "False", what="tampered condition")
    ctl.get("/metrics")

    sinks = {"controller log": ctl.log_text(), "metrics": ctl.get("/metrics")[1].decode()}
    sinks["events"] = json.dumps(kube.list(client.EVENTS, namespace=namespace))
    for obj in kube.list(SEALOPS, namespace=namespace):
        sinks[f"status {obj['metadata']['name']}"] = json.dumps(obj.get("status"))
        sinks[f"annotations {obj['metadata']['name']}"] = json.dumps(
            obj["metadata"].get("annotations"))
    for secret in kube.list(client.SECRETS, namespace=namespace):
        meta = secret["metadata"]
        sinks[f"secret metadata {meta['name']}"] = json.dumps(
            {k: v for k, v in meta.items() if k != "resourceVersion"})
    hits = [(sink, form) for sink, text in sinks.items() for form in _forms(canary)
            if form in text]
    assert hits == []
    # The sweep can fail: the canary is really in the Secret that was meant to hold it.
    assert secret_data(kube.get(client.SECRETS, "good", namespace=namespace)) == {"k": canary}


def test_a_controller_killed_between_secret_and_status_converges_after_restart(
    kube: Any, namespace: str, start_controller: StartController
) -> None:
    crashing = start_controller(watch=namespace,
                                env={"SEALOPS_FAULTS": "unseal.after-secret-write"})
    kube.create(SEALOPS, sealed_secret(namespace=namespace, name="db", public=crashing.public(),
                                       data={"k": b"v"}), namespace=namespace)
    wait_for(lambda: crashing.proc.poll() is not None, what="the injected crash")
    assert crashing.proc.returncode == 137
    assert "status" not in kube.get(SEALOPS, "db", namespace=namespace)

    start_controller(watch=namespace, key_namespace=crashing.key_namespace)

    cond = wait_for(lambda: ready_condition(kube.get(SEALOPS, "db", namespace=namespace)),
                    timeout=60, what="Ready after the restart")
    assert (cond["status"], cond["reason"]) == ("True", "Succeeded")
    secrets_ = [s for s in kube.list(client.SECRETS, namespace=namespace)
                if s.get("type") != "kubernetes.io/service-account-token"]
    assert [s["metadata"]["name"] for s in secrets_] == ["db"]
    assert secret_data(secrets_[0]) == {"k": b"v"}
