"""The controller turns SealedSecrets into Secrets on a real control plane."""

from __future__ import annotations

import base64
from typing import Any

from sealer.crypto import scope
from sealer.kube import client
from tests.harness.waiting import wait_for
from tests.integration.controller_fixtures import (
    SEALOPS,
    StartController,
    ready_condition,
    sealed_secret,
    secret_data,
)


def _secret(kube: Any, namespace: str, name: str) -> dict[str, Any] | None:
    result: dict[str, Any] | None = kube.get(client.SECRETS, name, namespace=namespace)
    return result


def test_a_sealed_secret_becomes_its_secret(
    kube: Any, namespace: str, start_controller: StartController
) -> None:
    ctl = start_controller(watch=namespace)
    body = sealed_secret(namespace=namespace, name="db", public=ctl.public(),
                         data={"password": b"hunter2", "blob": bytes(range(256))},
                         template={"type": "kubernetes.io/basic-auth",
                                   "metadata": {"labels": {"app": "shop"}}})
    body["spec"]["encryptedData"]["username"] = sealed_secret(
        namespace=namespace, name="db", public=ctl.public(),
        data={"username": b"admin"})["spec"]["encryptedData"]["username"]
    created = kube.create(SEALOPS, body, namespace=namespace)

    secret = wait_for(lambda: _secret(kube, namespace, "db"), what="the Secret")
    assert secret_data(secret) == {"password": b"hunter2", "blob": bytes(range(256)),
                                   "username": b"admin"}
    assert secret["type"] == "kubernetes.io/basic-auth"
    assert secret["metadata"]["labels"] == {"app": "shop"}
    owner = secret["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["uid"], owner["controller"]) == (
        "SealedSecret", created["metadata"]["uid"], True)
    assert "kubectl.kubernetes.io/last-applied-configuration" not in (
        secret["metadata"].get("annotations") or {})
    cond = wait_for(lambda: ready_condition(kube.get(SEALOPS, "db", namespace=namespace)),
                    what="Ready condition")
    assert (cond["status"], cond["reason"]) == ("True", "Succeeded")


def test_an_updated_sealed_secret_updates_its_secret(
    kube: Any, namespace: str, start_controller: StartController
) -> None:
    ctl = start_controller(watch=namespace)
    kube.create(SEALOPS, sealed_secret(namespace=namespace, name="api", public=ctl.public(),
                                       data={"token": b"one"}), namespace=namespace)
    wait_for(lambda: _secret(kube, namespace, "api"), what="the Secret")
    # The status is written after the Secret: replacing before it lands would be a 409.
    live = wait_for(lambda: (o := kube.get(SEALOPS, "api", namespace=namespace)) and
                    (o.get("status") or {}).get("keyId") and o, what="the SealedSecret's status")
    live["spec"] = sealed_secret(namespace=namespace, name="api", public=ctl.public(),
                                 data={"token": b"two", "extra": b"x"})["spec"]
    kube.replace(SEALOPS, live, namespace=namespace)

    wait_for(lambda: secret_data(_secret(kube, namespace, "api") or {}) ==
             {"token": b"two", "extra": b"x"}, what="the updated Secret")


def test_a_tampered_value_keeps_the_last_good_secret(
    kube: Any, namespace: str, start_controller: StartController
) -> None:
    ctl = start_controller(watch=namespace)
    kube.create(SEALOPS, sealed_secret(namespace=namespace, name="db", public=ctl.public(),
                                       data={"password": b"good"}), namespace=namespace)
    good = wait_for(lambda: _secret(kube, namespace, "db"), what="the Secret")

    live = kube.get(SEALOPS, "db", namespace=namespace)
    blob = bytearray(base64.b64decode(live["spec"]["encryptedData"]["password"]))
    blob[-1] ^= 1
    live["spec"]["encryptedData"]["password"] = base64.b64encode(bytes(blob)).decode()
    updated = kube.replace(SEALOPS, live, namespace=namespace)

    def failed() -> dict[str, Any] | None:
        cond = ready_condition(kube.get(SEALOPS, "db", namespace=namespace))
        return cond if cond and cond["status"] == "False" else None

    cond = wait_for(failed, what="Ready=False")
    assert updated["metadata"]["generation"] == 2
    assert cond["reason"] == "UnsealFailed"
    assert "'password'" in cond["message"]
    after = _secret(kube, namespace, "db")
    assert after is not None
    assert after["metadata"]["resourceVersion"] == good["metadata"]["resourceVersion"]
    assert secret_data(after) == {"password": b"good"}


def test_a_value_replayed_into_another_namespace_is_refused(
    kube: Any, namespace: str, start_controller: StartController
) -> None:
    ctl = start_controller(watch=namespace)
    stolen = sealed_secret(namespace="victim", name="db", public=ctl.public(),
                           data={"password": b"victim-secret"})
    stolen["metadata"]["namespace"] = namespace
    # Claiming a wider scope on the copy must not help either.
    stolen["metadata"]["annotations"] = {"sealedsecrets.bitnami.com/cluster-wide": "true"}
    kube.create(SEALOPS, stolen, namespace=namespace)

    cond = wait_for(lambda: ready_condition(kube.get(SEALOPS, "db", namespace=namespace)),
                    what="a Ready condition")
    assert (cond["status"], cond["reason"]) == ("False", "UnsealFailed")
    assert _secret(kube, namespace, "db") is None


def test_an_unmanaged_secret_is_refused_and_a_managed_one_taken_over(
    kube: Any, namespace: str, start_controller: StartController
) -> None:
    kube.create(client.SECRETS, {"metadata": {"name": "mine"}, "stringData": {"k": "theirs"}},
                namespace=namespace)
    ctl = start_controller(watch=namespace)
    kube.create(SEALOPS, sealed_secret(namespace=namespace, name="mine", public=ctl.public(),
                                       data={"k": b"ours"}), namespace=namespace)

    cond = wait_for(lambda: ready_condition(kube.get(SEALOPS, "mine", namespace=namespace)),
                    what="a Ready condition")
    assert (cond["status"], cond["reason"]) == ("False", "UpdateRefused")
    assert secret_data(_secret(kube, namespace, "mine") or {}) == {"k": b"theirs"}

    kube.patch(client.SECRETS, "mine", {"metadata": {"annotations": {
        "sealedsecrets.bitnami.com/managed": "true"}}}, namespace=namespace)
    live = kube.get(SEALOPS, "mine", namespace=namespace)
    live["metadata"].setdefault("annotations", {})["touch"] = "1"
    kube.replace(SEALOPS, live, namespace=namespace)  # no generation bump: a resync
    live = kube.get(SEALOPS, "mine", namespace=namespace)
    live["spec"]["template"]["metadata"] = {"labels": {"taken": "over"}}
    kube.replace(SEALOPS, live, namespace=namespace)

    wait_for(lambda: secret_data(_secret(kube, namespace, "mine") or {}) == {"k": b"ours"},
             what="the take-over")


def test_a_secret_edited_or_deleted_by_hand_is_restored(
    kube: Any, namespace: str, start_controller: StartController
) -> None:
    ctl = start_controller(watch=namespace)
    kube.create(SEALOPS, sealed_secret(namespace=namespace, name="db", public=ctl.public(),
                                       data={"password": b"right"}), namespace=namespace)
    wait_for(lambda: _secret(kube, namespace, "db"), what="the Secret")

    kube.patch(client.SECRETS, "db", {"data": {"password": base64.b64encode(b"wrong").decode(),
                                               "added": "eA=="}}, namespace=namespace)
    wait_for(lambda: secret_data(_secret(kube, namespace, "db") or {}) ==
             {"password": b"right"}, what="the edit to be reverted")

    kube.delete(client.SECRETS, "db", namespace=namespace)
    wait_for(lambda: secret_data(_secret(kube, namespace, "db") or {}) ==
             {"password": b"right"}, what="the deleted Secret to be recreated")


def test_deleting_the_sealed_secret_lets_garbage_collection_remove_the_secret(
    kube: Any, namespace: str, start_controller: StartController
) -> None:
    ctl = start_controller(watch=namespace)
    kube.create(SEALOPS, sealed_secret(namespace=namespace, name="db", public=ctl.public(),
                                       data={"password": b"x"}), namespace=namespace)
    wait_for(lambda: _secret(kube, namespace, "db"), what="the Secret")

    kube.delete(SEALOPS, "db", namespace=namespace)

    wait_for(lambda: _secret(kube, namespace, "db") is None, timeout=60,
             what="garbage collection")


def test_privileged_secret_types_and_key_secret_names_are_refused(
    kube: Any, namespace: str, start_controller: StartController
) -> None:
    ctl = start_controller(watch=namespace)
    kube.create(SEALOPS, sealed_secret(
        namespace=namespace, name="sa", public=ctl.public(), data={"token": b"x"},
        template={"type": "kubernetes.io/service-account-token",
                  "metadata": {"annotations": {"kubernetes.io/service-account.name": "default"}}}),
        namespace=namespace)

    cond = wait_for(lambda: ready_condition(kube.get(SEALOPS, "sa", namespace=namespace)),
                    what="a Ready condition")
    assert (cond["status"], cond["reason"]) == ("False", "TypeNotAllowed")
    assert _secret(kube, namespace, "sa") is None


def test_the_key_namespace_holds_one_active_generation_and_publishes_it(
    kube: Any, namespace: str, start_controller: StartController
) -> None:
    ctl = start_controller(watch=namespace)
    keys_ = kube.list(client.SECRETS, namespace=ctl.key_namespace,
                      label_selector="sealops.dev/sealing-key=active")
    assert len(keys_) == 1
    assert keys_[0]["type"] == "kubernetes.io/tls"
    assert {"tls.key", "tls.crt", "v2.key"} <= set(keys_[0]["data"])
    cm = kube.get(client.CONFIGMAPS, "sealops-public-keys", namespace=ctl.key_namespace)
    assert cm["data"]["key-id"] == ctl.public().key_id_hex
    status, cert = ctl.get("/v1/cert.pem")
    assert status == 200 and cert.startswith(b"-----BEGIN CERTIFICATE-----")


def test_namespace_wide_and_cluster_wide_scopes_open_under_another_name(
    kube: Any, namespace: str, start_controller: StartController
) -> None:
    ctl = start_controller(watch=namespace)
    wide = sealed_secret(namespace=namespace, name="original", public=ctl.public(),
                         data={"k": b"v"}, sealed_scope=scope.Scope.NAMESPACE_WIDE)
    wide["metadata"]["name"] = "renamed"
    kube.create(SEALOPS, wide, namespace=namespace)
    wait_for(lambda: secret_data(_secret(kube, namespace, "renamed") or {}) == {"k": b"v"},
             what="the renamed namespace-wide Secret")
