"""kopf adapter for Receivers: events update the webhook index and status; nothing else.

Level-triggered `on.event` only (no finalizer, no annotations), like the other kinds. The index
refresh thread starts and stops with the operator; the webhooks themselves are served by
`controller.http.hooks`.
"""

from __future__ import annotations

from typing import Any

import kopf

from controller.receivers import service


def register(registry: kopf.OperatorRegistry, receivers: service.Service, *,
             labels: dict[str, Any]) -> None:
    res = service.RECEIVERS

    @kopf.on.startup(registry=registry, id="receivers-start")
    def start(**_: Any) -> None:
        receivers.start()

    @kopf.on.cleanup(registry=registry, id="receivers-stop")
    def stop(**_: Any) -> None:
        receivers.stop()

    def on_receiver(**kwargs: Any) -> None:
        event, body = kwargs["event"], kwargs["body"]
        meta = body["metadata"]
        if event.get("type") == "DELETED":
            receivers.forget(meta["namespace"], meta["name"])
        else:
            receivers.reconcile(meta["namespace"], meta["name"])

    kopf.on.event(res.group, res.version, res.plural, registry=registry, labels=labels,
                  id="receivers")(on_receiver)
