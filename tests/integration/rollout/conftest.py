"""Helpers for the rollout tests: opted-in Deployments, and counting the ReplicaSets that the
control plane's deployment controller creates (one per rollout)."""

from __future__ import annotations

from typing import Any

from controller.rollout import refs
from sealer.kube import client
from tests.harness.waiting import wait_for

DEPLOYMENTS = refs.DEPLOYMENTS
REPLICASETS = client.Resource("apps", "v1", "ReplicaSet", "replicasets", True)


def deployment(name: str, *, secret: str, restart_on: str | None = "auto",
               image: str = "registry.invalid/app:1",
               namespace: str | None = None) -> dict[str, Any]:
    """replicas 0: no kubelet is needed, yet every template change makes a ReplicaSet."""
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    if restart_on is not None:
        meta["annotations"] = {refs.RESTART_ON: restart_on}
    container = {"name": "app", "image": image, "envFrom": [{"secretRef": {"name": secret}}]}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
            "spec": {"replicas": 0, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [container]}}}}


def replicasets(kube: Any, namespace: str, name: str) -> list[dict[str, Any]]:
    return [rs for rs in kube.list(REPLICASETS, namespace=namespace)
            if any(ref.get("kind") == "Deployment" and ref.get("name") == name
                   for ref in rs["metadata"].get("ownerReferences") or [])]


def settled(kube: Any, namespace: str, name: str) -> dict[str, Any] | None:
    """The Deployment once its controller has seen its current generation."""
    obj: dict[str, Any] | None = kube.get(DEPLOYMENTS, name, namespace=namespace)
    if obj is None:
        return None
    seen = (obj.get("status") or {}).get("observedGeneration")
    return obj if seen == obj["metadata"].get("generation") else None


def wait_replicasets(kube: Any, namespace: str, name: str, count: int,
                     timeout: float = 120) -> list[dict[str, Any]]:
    """Wait until the Deployment has settled with `count` ReplicaSets (and fail on more)."""
    def done() -> list[dict[str, Any]] | None:
        found = replicasets(kube, namespace, name)
        assert len(found) <= count, f"{len(found)} ReplicaSets of {name}, expected {count}"
        return found if len(found) == count and settled(kube, namespace, name) else None
    result: list[dict[str, Any]] = wait_for(done, timeout=timeout,
                                            what=f"{count} ReplicaSets of {name}")
    return result


def stamp(kube: Any, namespace: str, name: str) -> str | None:
    obj = kube.get(DEPLOYMENTS, name, namespace=namespace) or {}
    return refs.current_hash(obj)


def events_for(kube: Any, namespace: str, name: str, reason: str) -> list[dict[str, Any]]:
    return [e for e in kube.list(client.EVENTS, namespace=namespace)
            if e["involvedObject"].get("name") == name and e.get("reason") == reason]


# The GitOps fixtures (a git server and repository per test), shared with tests/integration/gitops.
from tests.integration.gitops.conftest import gitops  # noqa: E402,F401
from tests.integration.vaultsync.conftest import clock, shop_token, vault  # noqa: E402,F401
