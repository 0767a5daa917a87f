"""The GitOps part of a running controller: context, peering gate and scheduler in one object.

`controller.handlers.gitsyncs` builds one `Service` and forwards kopf events to `notify` and
`forget`; kopf's startup/cleanup activities call `start(priority)` and `stop()`.

Cache root: `ControllerSettings.gitops_cache_root`, else `$SEALOPS_GITOPS_CACHE_ROOT`, else a
private temporary directory removed at `stop()`. Each GitSync fetches into
`<root>/<namespace>/<name>-<uid prefix>/`, never shared with another GitSync.
"""

from __future__ import annotations

import datetime
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from controller import metrics as metrics_mod
from controller import peering, status
from controller.apply import prune
from controller.gitops import reconciler, scheduler
from controller.rollout import service as rollout
from controller.settings import ControllerSettings
from sealer.kube import client

__all__ = ["CACHE_ROOT_ENV", "Service", "trigger_of"]

CACHE_ROOT_ENV = "SEALOPS_GITOPS_CACHE_ROOT"


def trigger_of(body: Mapping[str, Any]) -> tuple[Any, Any, Any]:
    """What makes a GitSync run now when it changes: its generation, its reconcile request and
    its prune confirmation (status-only updates change none)."""
    meta = body.get("metadata") or {}
    annotations = meta.get("annotations") or {}
    return (meta.get("generation"), annotations.get(reconciler.REQUESTED_AT),
            annotations.get(prune.CONFIRM_ANNOTATION))


class Service:
    def __init__(self, kube: client.KubeClient, *, settings: ControllerSettings,
                 events: status.EventRecorder, now: Callable[[], datetime.datetime],
                 gate: peering.Gate, workers: int = 2,
                 metrics: metrics_mod.Metrics | None = None,
                 rollouts: rollout.Rollout | None = None) -> None:
        configured = settings.gitops_cache_root or os.environ.get(CACHE_ROOT_ENV)
        self._own_cache = configured is None
        root = Path(configured) if configured else Path(
            tempfile.mkdtemp(prefix="sealops-gitops-"))
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.context = reconciler.Context(
            kube=kube, events=events, controller_namespace=settings.namespace,
            cache_root=root, now=now, allow_local=settings.allow_local_sources,
            default_service_account=settings.default_service_account,
            refuse_privileged_pods=settings.refuse_privileged_pods, shard=settings.shard,
            metrics=metrics or metrics_mod.Metrics(process=False), rollouts=rollouts)
        self.gate = gate
        self.scheduler = scheduler.Scheduler(
            self._run, workers=workers, gate=lambda key: self.gate.open_for(key[0]))

    def _run(self, key: scheduler.Key) -> reconciler.Result:
        return reconciler.reconcile(self.context, namespace=key[0], name=key[1])

    def start(self) -> None:
        self.scheduler.start()

    def stop(self) -> None:
        self.scheduler.stop()
        if self._own_cache:
            shutil.rmtree(self.context.cache_root, ignore_errors=True)

    def notify(self, body: Mapping[str, Any]) -> None:
        meta = body["metadata"]
        self.scheduler.notify((meta["namespace"], meta["name"]), trigger_of(body))

    def forget(self, body: Mapping[str, Any]) -> None:
        meta = body["metadata"]
        key = (meta["namespace"], meta["name"])
        self.scheduler.forget(key)
        reconciler.forget(self.context, namespace=key[0], name=key[1])
