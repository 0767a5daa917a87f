"""kopf adapters for rolling workloads: opted-in Deployments, StatefulSets and DaemonSets feed
the Secret -> workload index; the rollout queue starts and stops with the operator.

Only level-triggered `on.event` handlers, filtered to workloads carrying
`sealops.dev/restart-on`: kopf keeps no diff-base or progress annotation on them and adds no
finalizer, so the workloads we watch carry nothing of ours but the one stamp.
"""

from __future__ import annotations

from typing import Any

import kopf

from controller.rollout import refs, service


def register(registry: kopf.OperatorRegistry, rollouts: service.Rollout) -> None:
    @kopf.on.startup(registry=registry, id="rollout-start")
    def start(**_: Any) -> None:
        rollouts.start()

    @kopf.on.cleanup(registry=registry, id="rollout-stop")
    def stop(**_: Any) -> None:
        rollouts.close()

    def on_workload(event: Any, **_: Any) -> None:
        rollouts.observe_workload(event.get("type"), event["object"])

    for res in refs.KINDS.values():
        kopf.on.event(res.group, res.version, res.plural, registry=registry,
                      annotations={refs.RESTART_ON: kopf.PRESENT},
                      id=f"rollout-{res.plural}")(on_workload)
