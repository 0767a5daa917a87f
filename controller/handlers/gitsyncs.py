"""kopf adapters for GitSyncs: events feed the GitOps scheduler; nothing else happens here.

Only a level-triggered `on.event` handler (kopf keeps no diff-base or progress annotation and
adds no finalizer); the schedule itself is `controller.gitops.scheduler` on its own thread,
started and stopped with the operator. Deleting a GitSync leaves its objects in place.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import kopf

from controller import metrics as metrics_mod
from controller import peering, status
from controller.gitops import reconciler, service
from controller.rollout import service as rollout
from controller.settings import ControllerSettings
from sealer.kube import client


def register(registry: kopf.OperatorRegistry, kube: client.KubeClient, *,
             settings: ControllerSettings, events: status.EventRecorder,
             now: Callable[[], datetime.datetime], gate: peering.Gate,
             metrics: metrics_mod.Metrics | None = None,
             rollouts: rollout.Rollout | None = None,
             labels: dict[str, Any] | None = None) -> service.Service:
    gitops = service.Service(kube, settings=settings, events=events, now=now, gate=gate,
                             metrics=metrics, rollouts=rollouts)
    res = reconciler.GITSYNCS

    @kopf.on.startup(registry=registry, id="gitops-start")
    def start(**_: Any) -> None:
        gitops.start()

    @kopf.on.cleanup(registry=registry, id="gitops-stop")
    def stop(**_: Any) -> None:
        gitops.stop()

    def on_gitsync(**kwargs: Any) -> None:
        event, body = kwargs["event"], kwargs["body"]
        gitops.context.metrics.observe_object(res.kind, body,
                                              deleted=event.get("type") == "DELETED")
        if event.get("type") == "DELETED":
            gitops.forget(body)
        else:
            gitops.notify(body)

    kopf.on.event(res.group, res.version, res.plural, registry=registry, labels=labels,
                  id="gitsyncs")(on_gitsync)
    return gitops
