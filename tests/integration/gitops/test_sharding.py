"""Sharding: two controllers on one control plane, one with `--shard blue`, one without
(issue 14 item 5). Each reconciles only its own objects, and neither pauses the other.

The two controllers have their own key namespaces, so a SealedSecret sealed for the blue
shard's key cannot be opened by the other controller: had it touched the object, its status
would say so.
"""

from __future__ import annotations

from typing import Any

from controller import sharding
from tests.harness.waiting import wait_for
from tests.integration.controller_fixtures import (
    SEALOPS,
    StartController,
    ready_condition,
    sealed_secret,
)
from tests.integration.gitops.conftest import CM, SECRETS, GitOpsEnv, configmap, dump

BLUE = {sharding.SHARD_LABEL: "blue"}


def test_a_sharded_and_an_unsharded_controller_each_reconcile_only_their_objects(
        gitops: GitOpsEnv, start_controller: StartController) -> None:
    ns = gitops.namespace
    main = start_controller(watch=ns)
    blue = start_controller(watch=ns, args=("--shard", "blue"))
    sha = gitops.push({"plain/a.yaml": dump(configmap("plain")),
                       "blue/b.yaml": dump(configmap("blue")),
                       "green/c.yaml": dump(configmap("green"))})
    gitops.credentials_secret()
    gitops.kube.create(gitops.get_resource(), {
        "apiVersion": "sealops.dev/v1alpha1", "kind": "GitSync",
        "metadata": {"name": "green", "labels": {sharding.SHARD_LABEL: "green"}},
        "spec": {"url": gitops.url, "secretRef": {"name": "git-creds"}, "path": "green",
                 "interval": "1h"}}, namespace=ns)
    gitops.create_gitsync("plain", path="plain", interval="1h")
    gitops.kube.create(gitops.get_resource(), {
        "apiVersion": "sealops.dev/v1alpha1", "kind": "GitSync",
        "metadata": {"name": "blue", "labels": BLUE},
        "spec": {"url": gitops.url, "secretRef": {"name": "git-creds"}, "path": "blue",
                 "interval": "1h"}}, namespace=ns)
    sealed = sealed_secret(namespace=ns, name="db", public=blue.public(),
                           data={"password": b"blue-only"})
    sealed["metadata"]["labels"] = BLUE
    gitops.kube.create(SEALOPS, sealed, namespace=ns)

    gitops.wait_ready(sha, name="plain")
    gitops.wait_ready(sha, name="blue")
    wait_for(lambda: gitops.get(SECRETS, "db"), timeout=60, what="the blue Secret")
    opened: Any = wait_for(lambda: ready_condition(gitops.get(SEALOPS, "db")), timeout=60,
                           what="the SealedSecret's Ready condition")
    assert opened["status"] == "True"

    assert f"GitSync {ns}/plain:" in main.log_text()
    assert f"GitSync {ns}/blue:" in blue.log_text()
    assert f"{ns}/blue" not in main.log_text() and f"{ns}/db" not in main.log_text()
    assert f"{ns}/plain" not in blue.log_text()
    # Nobody owns the green shard: its GitSync is untouched (no status, nothing applied).
    assert not gitops.gitsync("green").get("status")
    assert gitops.get(CM, "green") is None
    # Each peered under its own name, so neither paused the other.
    for ctl in (main, blue):
        assert "Pausing operations" not in ctl.log_text()
