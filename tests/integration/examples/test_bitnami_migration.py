"""examples/bitnami-migration in a cluster, as its README says: a controller run with
--bitnami-compat opens the kubeseal-format "before" object; once the Secret is annotated
`sealedsecrets.bitnami.com/managed: "true"`, the migrated "after" object (sealops.dev, v2
envelopes) takes it over with the same data, and removing the Bitnami object leaves it in
place. Namespace `legacy`, the one both files are sealed for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sealer.kube import client
from tests.harness.waiting import wait_for
from tests.integration.controller_fixtures import (
    BITNAMI,
    SEALOPS,
    StartController,
    ready_condition,
    secret_data,
)
from tests.integration.examples.conftest import EXAMPLES, load_all

NAMESPACE = "legacy"
BEFORE = EXAMPLES / "bitnami-migration/before/db.sealedsecret.yaml"
AFTER = EXAMPLES / "bitnami-migration/after/db.sealedsecret.yaml"


def ready(kube: Any, res: client.Resource) -> bool:
    cond = ready_condition(kube.get(res, "db", namespace=NAMESPACE))
    return cond is not None and cond["status"] == "True"


def test_the_migrated_object_takes_over_the_secret_the_bitnami_one_made(
    kube: Any, kubeconfig: Path, fixed_namespace: Any, demo_key_namespace: str,
    start_controller: StartController,
) -> None:
    fixed_namespace(NAMESPACE)
    start_controller(watch=NAMESPACE, key_namespace=demo_key_namespace,
                     args=("--bitnami-compat",))

    kube.create(BITNAMI, load_all(BEFORE)[0], namespace=NAMESPACE)
    wait_for(lambda: ready(kube, BITNAMI), timeout=30, what="the Bitnami object Ready")
    before = kube.get(client.SECRETS, "db", namespace=NAMESPACE)
    assert sorted(secret_data(before)) == ["password", "username"]

    kube.patch(client.SECRETS, "db", {"metadata": {"annotations": {
        "sealedsecrets.bitnami.com/managed": "true"}}}, namespace=NAMESPACE)
    kube.create(SEALOPS, load_all(AFTER)[0], namespace=NAMESPACE)
    wait_for(lambda: ready(kube, SEALOPS), timeout=30, what="the sealops object Ready")

    def owned_by_sealops() -> dict[str, Any] | None:
        secret: dict[str, Any] | None = kube.get(client.SECRETS, "db", namespace=NAMESPACE)
        refs = ((secret or {}).get("metadata") or {}).get("ownerReferences") or []
        return secret if [r["apiVersion"] for r in refs] == ["sealops.dev/v1alpha1"] else None

    after = wait_for(owned_by_sealops, timeout=30, what="the Secret owned by sealops")
    assert secret_data(after) == secret_data(before)
    kube.delete(BITNAMI, "db", namespace=NAMESPACE)
    wait_for(lambda: kube.get(BITNAMI, "db", namespace=NAMESPACE) is None, timeout=30,
             what="the Bitnami object to be gone")
    kept = kube.get(client.SECRETS, "db", namespace=NAMESPACE)
    assert kept["metadata"]["uid"] == after["metadata"]["uid"]
    assert secret_data(kept) == secret_data(before)
