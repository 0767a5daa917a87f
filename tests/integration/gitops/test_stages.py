"""A GitSync applies secrets first and stops at a bad one (the controller, real git)."""

from __future__ import annotations

import base64
from typing import Any

from controller.apply import plan
from tests.integration.controller_fixtures import SEALOPS, StartController, sealed_secret
from tests.integration.gitops.conftest import (
    CM,
    DEPLOYMENTS,
    SECRETS,
    AddedRecorder,
    GitOpsEnv,
    configmap,
    deployment,
    dump,
)


def tampered(body: dict[str, Any]) -> dict[str, Any]:
    blob = bytearray(base64.b64decode(body["spec"]["encryptedData"]["password"]))
    blob[-1] ^= 1
    body["spec"]["encryptedData"]["password"] = base64.b64encode(bytes(blob)).decode()
    return body


def test_the_secret_exists_before_the_deployment_that_uses_it(
        gitops: GitOpsEnv, start_controller: StartController) -> None:
    ns = gitops.namespace
    ctl = start_controller(watch=ns)
    db = sealed_secret(namespace=ns, name="db", public=ctl.public(), data={"password": b"pw"})
    sha = gitops.push({"app/secret.yaml": dump(db),
                       "app/web.yaml": dump(deployment("web", secret="db"), configmap("cfg"))})
    gitops.credentials_secret()
    created = AddedRecorder(gitops.kube, ns, [SEALOPS, SECRETS, CM, DEPLOYMENTS])
    gitops.create_gitsync(path="app", interval="10m")

    status = gitops.wait_ready(sha)["status"]
    web, sealed = gitops.get(DEPLOYMENTS, "web"), gitops.get(SEALOPS, "db")
    order = created.added
    # The Secret existed before anything of the last stage was created.
    assert order[("SealedSecret", "db")] < order[("Secret", "db")] < order[("ConfigMap", "cfg")]
    assert order[("ConfigMap", "cfg")] < order[("Deployment", "web")]
    assert status["lastAppliedRevision"] == status["lastAttemptedRevision"] == f"main@sha1:{sha}"
    assert [e["id"] for e in status["inventory"]["entries"]] == [
        f"{ns}_cfg__ConfigMap", f"{ns}_db_sealops.dev_SealedSecret", f"{ns}_web_apps_Deployment"]
    for obj in (sealed, web, gitops.get(CM, "cfg")):
        assert obj is not None and obj["metadata"]["labels"][plan.SYNC_LABEL] == f"{ns}.app"
        managers = {m["manager"] for m in obj["metadata"]["managedFields"]
                    if m["operation"] == "Apply"}
        assert managers == {"sealops"}
    assert not any(k.startswith("kopf.zalando.org") for k in
                   gitops.gitsync()["metadata"].get("annotations") or {})
    assert not gitops.gitsync()["metadata"].get("finalizers")


def test_a_bad_sealed_secret_stops_the_sync_before_anything_else_or_any_prune(
        gitops: GitOpsEnv, start_controller: StartController) -> None:
    ns = gitops.namespace
    ctl = start_controller(watch=ns)
    good = sealed_secret(namespace=ns, name="db", public=ctl.public(), data={"password": b"pw"})
    first = gitops.push({"app/secret.yaml": dump(good), "app/old.yaml": dump(configmap("old")),
                         "app/web.yaml": dump(deployment("web", secret="db"))})
    gitops.credentials_secret()
    gitops.create_gitsync(path="app", interval="10m", prune=True)
    gitops.wait_ready(first)
    secret_before = gitops.get(SECRETS, "db")

    bad = tampered(sealed_secret(namespace=ns, name="db", public=ctl.public(),
                                 data={"password": b"new"}))
    second = gitops.push({"app/secret.yaml": dump(bad),
                          "app/web2.yaml": dump(deployment("web2", secret="db"))},
                         remove=("app/old.yaml",))
    gitops.request_reconcile()
    obj = gitops.wait_reason("SecretsFailed", revision=second)

    ready = next(c for c in obj["status"]["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "False"
    assert ready["message"] == f"secrets failed: SealedSecret {ns}/db is not ready: UnsealFailed"
    assert gitops.get(DEPLOYMENTS, "web2") is None  # never applied
    assert gitops.get(CM, "old") is not None  # never pruned
    assert obj["status"]["lastAppliedRevision"] == f"main@sha1:{first}"
    assert f"{ns}_old__ConfigMap" in {e["id"] for e in obj["status"]["inventory"]["entries"]}
    assert gitops.get(SECRETS, "db") == secret_before  # the last good Secret stays
    warnings = [e for e in gitops.events() if e["reason"] == "SecretsFailed"]
    assert warnings and warnings[0]["type"] == "Warning"
