"""examples/gitops-repo end to end: the dev environment bootstrapped from clusters/dev/ on the
local control plane, with the repository served over HTTP with Basic auth and Vault's value in
the Vault test server.

Adjusted for the test, and only that: the GitSyncs' `spec.url` (the example's Git host does not
exist here) and, in the pushed copy, the dev VaultStore's `server` (the test server's port is
random). Everything else is applied as committed: the namespace is `shop-dev` because the dev
SealedSecret is sealed (namespace-wide) for exactly that namespace, and the controller opens it
with the demo key generation, restored into its key namespace the disaster-recovery way
(`seal keys backup` of examples/keys/private.pem, then `sealops keys restore`).
"""

from __future__ import annotations

import base64
import json
import secrets
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sealer.kube import client
from tests.harness.waiting import wait_for
from tests.integration.controller_fixtures import StartController, ready_condition
from tests.integration.examples.conftest import (
    DEMO_PRIVATE,
    GITOPS_REPO,
    GitRemote,
    load_all,
    seal,
)
from tests.vaultserver import VaultTestServer

NAMESPACE = "shop-dev"
GITSYNCS = client.Resource("sealops.dev", "v1alpha1", "GitSync", "gitsyncs", True)
DEPLOYMENTS = client.Resource("apps", "v1", "Deployment", "deployments", True)
SERVICES = client.Resource("", "v1", "Service", "services", True)
LOCAL_VAULT = "http://127.0.0.1:8200"


def push_example(remote: GitRemote, vault_url: str) -> None:
    shutil.copytree(GITOPS_REPO, remote.work.path, dirs_exist_ok=True)
    store = remote.work.path / "infrastructure/vault/overlays/dev/vaultstore.yaml"
    text = store.read_text()
    assert LOCAL_VAULT in text
    store.write_text(text.replace(LOCAL_VAULT, vault_url))
    remote.work.commit("shop: the example GitOps repository (VaultStore: the test server)")
    remote.work.push()


def prepare_vault(vault: VaultTestServer) -> bytes:
    """What the platform team would have done in dev's Vault; returns the stored API key."""
    api_key = f"pk-{secrets.token_hex(12)}"
    vault.kv2_put(path="shop/payment", data={"apiKey": api_key})
    vault.set_policy("shop-dev", {"secret/data/shop/*": ["read"]})
    vault.add_kubernetes_role(role="shop-dev", bound_service_account_names=["vault-auth"],
                              bound_service_account_namespaces=[NAMESPACE],
                              policies=["shop-dev"])
    return api_key.encode()


def gitsync(name: str, url: str) -> dict[str, Any]:
    path = GITOPS_REPO / "clusters/dev" / ("gitsync.yaml" if name == "shop"
                                           else f"{name}.yaml")
    obj = load_all(path)[0]
    obj["spec"]["url"] = url
    return obj


def wait_ready(kube: Any, name: str, *, timeout: float = 90) -> dict[str, Any]:
    def ready() -> dict[str, Any] | None:
        cond = ready_condition(kube.get(GITSYNCS, name, namespace=NAMESPACE))
        return cond if cond is not None and cond["status"] == "True" else None

    try:
        found: dict[str, Any] = wait_for(ready, timeout=timeout, what=f"GitSync {name} Ready")
    except AssertionError:
        status = (kube.get(GITSYNCS, name, namespace=NAMESPACE) or {}).get("status")
        raise AssertionError(f"GitSync {name} not Ready: {status}") from None
    return found


@contextmanager
def watch_order(kube: Any, deployment: str, secrets_needed: list[str]) -> Iterator[list[str]]:
    """Poll until `deployment` appears; record a violation if, right after a read that shows
    it, a read of the Secrets misses one (so that Secret was created after the Deployment)."""
    violations: list[str] = []
    done = threading.Event()

    def poll() -> None:
        while not done.is_set():
            if kube.get(DEPLOYMENTS, deployment, namespace=NAMESPACE) is not None:
                violations.extend(name for name in secrets_needed
                                  if kube.get(client.SECRETS, name, namespace=NAMESPACE) is None)
                return
            done.wait(0.05)

    thread = threading.Thread(target=poll, name="order-watch", daemon=True)
    thread.start()
    try:
        yield violations
    finally:
        done.set()
        thread.join(timeout=10)


def test_the_dev_environment_comes_up_from_git_with_its_secrets_before_its_workloads(
    kube: Any, kubeconfig: Path, fixed_namespace: Any, restored_key_namespace: str,
    start_controller: StartController, git_remote: GitRemote, vault: VaultTestServer,
) -> None:
    api_key = prepare_vault(vault)
    push_example(git_remote, vault.url)
    fixed_namespace(load_all(GITOPS_REPO / "clusters/dev/namespace.yaml")[0]["metadata"]["name"])
    start_controller(watch=NAMESPACE, key_namespace=restored_key_namespace)
    kube.create(client.SECRETS, git_remote.credentials_secret(NAMESPACE), namespace=NAMESPACE)

    kube.create(GITSYNCS, gitsync("infrastructure", git_remote.url), namespace=NAMESPACE)
    wait_ready(kube, "infrastructure")
    with watch_order(kube, "dev-shop", ["dev-db", "dev-payment-api"]) as violations:
        kube.create(GITSYNCS, gitsync("shop", git_remote.url), namespace=NAMESPACE)
        ready = wait_ready(kube, "shop")

    assert ready["reason"] == "Succeeded"
    assert violations == []
    db = kube.get(client.SECRETS, "dev-db", namespace=NAMESPACE)
    payment = kube.get(client.SECRETS, "dev-payment-api", namespace=NAMESPACE)
    assert sorted(db["data"]) == ["password"]
    assert sorted(payment["data"]) == ["apiKey"]
    # The values are the committed ones (compared, never printed).
    opened = seal("unseal", GITOPS_REPO / "apps/shop/overlays/dev/db.sealedsecret.yaml",
                  "--key", DEMO_PRIVATE, "--format", "json")
    assert opened.returncode == 0
    assert json.loads(opened.stdout)["data"]["password"] == db["data"]["password"]
    assert base64.b64decode(payment["data"]["apiKey"]) == api_key

    config = kube.get(client.CONFIGMAPS, "dev-shop-config", namespace=NAMESPACE)
    assert config["data"]["LOG_LEVEL"] == "debug"
    for name in ("dev-shop", "dev-mailcatcher"):
        deployment = kube.get(DEPLOYMENTS, name, namespace=NAMESPACE)
        assert deployment is not None, name
        assert deployment["metadata"]["labels"]["sealops.dev/sync"] == f"{NAMESPACE}.shop"
        assert deployment["metadata"]["creationTimestamp"] >= \
            db["metadata"]["creationTimestamp"]
    assert kube.get(SERVICES, "dev-shop", namespace=NAMESPACE) is not None
    status = kube.get(GITSYNCS, "shop", namespace=NAMESPACE)["status"]
    assert git_remote.work.run("rev-parse", "HEAD").strip() in status["lastAppliedRevision"]
