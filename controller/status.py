"""Conditions and Events: what a reconcile tells the user, written only when it changes.

Condition and Event messages are built by our code from object names, item keys and reasons;
no API error text or exception text from a third party reaches them.

One reconcile request for every kind (GitSync, SealedSecret, VaultSecret), as Flux's
`reconcile.fluxcd.io/requestedAt`: setting the annotation `sealops.dev/reconcile-requested-at`
to a new value (`sealops reconcile ...` writes a timestamp; the webhook Receiver does too) asks
for a run now, and the object's `status.lastHandledReconcileAt` echoes the value once handled.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from sealer.kube import client
from sealer.kube import errors as kerrors

logger = logging.getLogger(__name__)

COMPONENT = "sealops-controller"
RECONCILE_REQUESTED_AT = "sealops.dev/reconcile-requested-at"
LAST_HANDLED = "lastHandledReconcileAt"


def requested_at(obj: Mapping[str, Any]) -> str | None:
    """The object's reconcile request (the annotation's value), None when absent or odd."""
    value = ((obj.get("metadata") or {}).get("annotations") or {}).get(RECONCILE_REQUESTED_AT)
    return value if isinstance(value, str) and value else None


def request_pending(obj: Mapping[str, Any]) -> bool:
    """True when the object carries a reconcile request its status does not yet echo."""
    requested = requested_at(obj)
    return requested is not None and requested != (obj.get("status") or {}).get(LAST_HANDLED)


@dataclasses.dataclass(frozen=True)
class Condition:
    type: str
    status: bool
    reason: str
    message: str

    def as_dict(self, *, now: str, generation: int | None,
                previous: Mapping[str, Any] | None) -> dict[str, Any]:
        status = "True" if self.status else "False"
        transition = now
        if previous and previous.get("status") == status and previous.get("lastTransitionTime"):
            transition = previous["lastTransitionTime"]
        out: dict[str, Any] = {"type": self.type, "status": status, "reason": self.reason,
                               "message": self.message[:1024], "lastTransitionTime": transition}
        if generation is not None:
            out["observedGeneration"] = generation
        return out


def rfc3339(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def merge_conditions(current: list[dict[str, Any]], wanted: list[Condition], *, now: str,
                     generation: int | None) -> list[dict[str, Any]]:
    by_type = {c.get("type"): c for c in current}
    merged = [c for c in current if c.get("type") not in {w.type for w in wanted}]
    for cond in wanted:
        merged.append(cond.as_dict(now=now, generation=generation,
                                   previous=by_type.get(cond.type)))
    return sorted(merged, key=lambda c: str(c.get("type")))


def _same(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    keys = ("type", "status", "reason", "message", "observedGeneration")
    return all(a.get(k) == b.get(k) for k in keys)


def status_changed(current: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    for key, value in wanted.items():
        if key == "conditions":
            old = {c.get("type"): c for c in current.get("conditions") or []}
            if len(old) != len(value) or any(
                    not _same(old.get(c["type"], {}), c) for c in value):
                return True
        elif current.get(key) != value:
            return True
    return False


def patch_status(kube: client.KubeClient, res: client.Resource, obj: Mapping[str, Any],
                 status: dict[str, Any]) -> bool:
    """Merge-patch `status` when it differs from the live one; True when written."""
    if not status_changed(obj.get("status") or {}, status):
        return False
    meta = obj["metadata"]
    try:
        kube.patch(res, meta["name"], {"status": status}, namespace=meta.get("namespace"),
                   subresource="status")
    except kerrors.ApiError as exc:
        if exc.status == 404:  # deleted meanwhile
            return False
        raise
    return True


class EventRecorder:
    """Posts core/v1 Events about our objects from a background thread, so a reconcile never
    waits for one. Failures to post are logged, never raised; when the queue is full, events
    are dropped (and counted in the log) rather than slowing reconciles down."""

    def __init__(self, kube: client.KubeClient, *, now: Callable[[], datetime.datetime],
                 queue_size: int = 2000) -> None:
        self._kube = kube
        self._now = now
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue(maxsize=queue_size)
        self._dropped = 0
        # Called with every Event posted (Alerts, `controller.alerts.dispatch`); must not block.
        self.listeners: list[Callable[[dict[str, Any]], None]] = []
        threading.Thread(target=self._drain, name="sealops-events", daemon=True).start()

    def _drain(self) -> None:
        while True:
            event = self._queue.get()
            meta = event["involvedObject"]
            try:
                self._kube.create(client.EVENTS, event, namespace=meta["namespace"])
            except kerrors.ApiError as exc:
                logger.warning("could not post event %s for %s/%s: %s", event["reason"],
                               meta["namespace"], meta["name"], exc)
            finally:
                self._queue.task_done()

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until queued events are posted (tests and shutdown)."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)

    def post(self, obj: Mapping[str, Any], *, reason: str, message: str,
             warning: bool = False) -> None:
        meta = obj["metadata"]
        stamp = rfc3339(self._now())
        event = {
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"generateName": f"{meta['name']}.", "namespace": meta["namespace"]},
            "involvedObject": {"apiVersion": obj["apiVersion"], "kind": obj["kind"],
                               "name": meta["name"], "namespace": meta["namespace"],
                               "uid": meta.get("uid"),
                               "resourceVersion": meta.get("resourceVersion")},
            "reason": reason, "message": message[:1024],
            "type": "Warning" if warning else "Normal",
            "source": {"component": COMPONENT}, "reportingComponent": COMPONENT,
            "firstTimestamp": stamp, "lastTimestamp": stamp, "count": 1,
        }
        for listener in self.listeners:
            try:
                listener(event)
            except Exception as exc:  # a listener never fails a reconcile
                logger.warning("an event listener failed (%s)", type(exc).__name__)
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            self._dropped += 1
            logger.warning("event queue full; dropped %d events so far", self._dropped)
