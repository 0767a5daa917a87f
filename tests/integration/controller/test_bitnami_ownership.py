"""skip-set-owner-references SealedSecrets: updates apply, deleted Secrets are restored, and
no Secret the controller did not write is ever taken over (issue 10, item 11)."""

from __future__ import annotations

import base64
from typing import Any

from sealer.kube import client
from tests.harness.waiting import wait_for
from tests.integration.controller_fixtures import (
    BITNAMI,
    StartController,
    ready_condition,
    sealed_secret,
    secret_data,
)

SKIP = {"sealedsecrets.bitnami.com/skip-set-owner-references": "true"}
OWNED_BY = "sealops.dev/owned-by"


def _skip_owner(namespace: str, name: str, value: bytes, public: Any,
                extra: dict[str, str] | None = None) -> dict[str, Any]:
    template = {"type": "Opaque", "metadata": {"annotations": {**SKIP, **(extra or {})}}}
    return sealed_secret(namespace=namespace, name=name, data={"k": value}, public=public,
                         group="bitnami.com", template=template)


def test_a_skip_owner_secret_is_updated_and_restored_by_its_sealed_secret(
    kube: Any, namespace: str, start_controller: StartController
) -> None:
    ctl = start_controller(watch=namespace, args=("--bitnami-compat",))
    public = ctl.public()
    # A template copy of the marker is never trusted: it is a reserved annotation, refused
    # before any write; the controller writes its own.
    kube.create(BITNAMI, _skip_owner(namespace, "forged", b"one", public,
                                     extra={OWNED_BY: "bitnami.com/forged"}), namespace=namespace)
    cond = wait_for(lambda: ready_condition(kube.get(BITNAMI, "forged", namespace=namespace)),
                    what="the Ready condition of the forged SealedSecret")
    assert (cond["status"], cond["reason"]) == ("False", "ReservedTarget"), cond
    assert kube.get(client.SECRETS, "forged", namespace=namespace) is None
    kube.create(BITNAMI, _skip_owner(namespace, "app", b"one", public), namespace=namespace)
    secret = wait_for(lambda: kube.get(client.SECRETS, "app", namespace=namespace),
                      what="the Secret")
    assert not secret["metadata"].get("ownerReferences")

    live = kube.get(BITNAMI, "app", namespace=namespace)
    live["spec"]["encryptedData"] = _skip_owner(namespace, "app", b"two", public)["spec"][
        "encryptedData"]
    kube.replace(BITNAMI, live, namespace=namespace)
    wait_for(lambda: secret_data(kube.get(client.SECRETS, "app", namespace=namespace) or {})
             == {"k": b"two"}, what="the updated value")

    kube.delete(client.SECRETS, "app", namespace=namespace)
    restored = wait_for(lambda: kube.get(client.SECRETS, "app", namespace=namespace),
                        what="the restored Secret")
    assert secret_data(restored) == {"k": b"two"}
    uid = kube.get(BITNAMI, "app", namespace=namespace)["metadata"]["uid"]
    assert restored["metadata"]["annotations"][OWNED_BY] == f"bitnami.com/{uid}"


def test_a_skip_owner_sealed_secret_never_takes_over_a_secret_it_did_not_write(
    kube: Any, namespace: str, start_controller: StartController
) -> None:
    ctl = start_controller(watch=namespace, args=("--bitnami-compat",))
    # Someone else's Secret, even one carrying a marker of another (deleted) SealedSecret.
    kube.create(client.SECRETS, {
        "metadata": {"name": "theirs", "namespace": namespace,
                     "annotations": {OWNED_BY: "bitnami.com/0000-not-this-one"}},
        "data": {"k": base64.b64encode(b"original").decode()}}, namespace=namespace)
    kube.create(BITNAMI, _skip_owner(namespace, "theirs", b"attacker", ctl.public()),
                namespace=namespace)

    cond = wait_for(lambda: ready_condition(kube.get(BITNAMI, "theirs", namespace=namespace)),
                    what="a Ready condition")
    assert (cond["status"], cond["reason"]) == ("False", "UpdateRefused")
    assert secret_data(kube.get(client.SECRETS, "theirs", namespace=namespace)) == {
        "k": b"original"}


def test_a_secret_handed_over_for_patching_is_never_marked_as_owned(
    kube: Any, namespace: str, start_controller: StartController
) -> None:
    ctl = start_controller(watch=namespace, args=("--bitnami-compat",))
    kube.create(client.SECRETS, {
        "metadata": {"name": "shared", "namespace": namespace,
                     "annotations": {"sealedsecrets.bitnami.com/patch": "true"}},
        "data": {"other": base64.b64encode(b"kept").decode()}}, namespace=namespace)
    kube.create(BITNAMI, _skip_owner(namespace, "shared", b"patched", ctl.public()),
                namespace=namespace)
    wait_for(lambda: secret_data(kube.get(client.SECRETS, "shared", namespace=namespace) or {})
             == {"other": b"kept", "k": b"patched"}, what="the patched item")
    live = kube.get(client.SECRETS, "shared", namespace=namespace)
    assert OWNED_BY not in (live["metadata"].get("annotations") or {})
