"""kopf event handlers for VaultSecrets, VaultStores, ClusterVaultStores and the Secrets we sync.

Only level-triggered `on.event` handlers: kopf then stores no diff-base or progress annotation
on our objects. The handlers only record the latest body and ask the Vault sync scheduler for a
run (`controller.vaultsync.runtime`); the syncs themselves run on the scheduler's workers, so a
slow Vault never holds kopf's workers. The scheduler starts and stops with kopf (startup and
cleanup handlers).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import kopf

from controller import metrics as metrics_mod
from controller import status
from controller.rollout import service as rollout
from controller.vaultsync import objects, runtime, target
from sealer.kube import client


def register(registry: kopf.OperatorRegistry, *, kube: client.KubeClient,
             controller_namespace: str, events: status.EventRecorder,
             gate: Callable[[str], bool],
             metrics: metrics_mod.Metrics | None = None,
             rollouts: rollout.Rollout | None = None,
             labels: dict[str, Any] | None = None) -> runtime.Runtime:
    sync = runtime.Runtime(kube, controller_namespace=controller_namespace, events=events,
                           gate=gate, metrics=metrics, rollouts=rollouts)
    observed = sync.ctx.metrics

    @kopf.on.startup(registry=registry, id="vault-sync-start")
    def start(**_: Any) -> None:
        sync.start()

    @kopf.on.cleanup(registry=registry, id="vault-sync-stop")
    def stop(**_: Any) -> None:
        sync.close()

    def on_vault_secret(event: Any, **_: Any) -> None:
        observed.observe_object(objects.VAULT_SECRETS.kind, event["object"],
                                deleted=event.get("type") == "DELETED")
        sync.observe_secret(event.get("type"), event["object"])

    def on_store(event: Any, **_: Any) -> None:
        body = event["object"]
        observed.observe_object(str(body.get("kind") or "VaultStore"), body,
                                deleted=event.get("type") == "DELETED")
        sync.observe_store(event.get("type"), body)

    def on_target(event: Any, **_: Any) -> None:
        sync.observe_target(event.get("type"), event["object"])

    def ours(body: Any, **_: Any) -> bool:
        return target.owner_of(body) is not None

    group, version = objects.GROUP, objects.VERSION
    kopf.on.event(group, version, objects.VAULT_SECRETS.plural, registry=registry,
                  labels=labels, id="vault-secrets")(on_vault_secret)
    for res in (objects.VAULT_STORES, objects.CLUSTER_VAULT_STORES):
        kopf.on.event(group, version, res.plural, registry=registry, labels=labels,
                      id=f"vault-{res.plural}")(on_store)
    kopf.on.event("v1", "secrets", registry=registry, when=ours,
                  id="vault-targets")(on_target)
    return sync
