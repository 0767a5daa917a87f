"""kopf adapter for Alerts: events update the dispatcher's index and the Alert's status."""

from __future__ import annotations

from typing import Any

import kopf

from controller.alerts import dispatch


def register(registry: kopf.OperatorRegistry, alerts: dispatch.Dispatcher, *,
             labels: dict[str, Any]) -> None:
    res = dispatch.ALERTS

    @kopf.on.startup(registry=registry, id="alerts-start")
    def start(**_: Any) -> None:
        alerts.start()

    def on_alert(**kwargs: Any) -> None:
        event, body = kwargs["event"], kwargs["body"]
        meta = body["metadata"]
        if event.get("type") == "DELETED":
            alerts.forget(meta["namespace"], meta["name"])
        else:
            alerts.update(meta["namespace"], meta["name"])

    kopf.on.event(res.group, res.version, res.plural, registry=registry, labels=labels,
                  id="alerts")(on_alert)
