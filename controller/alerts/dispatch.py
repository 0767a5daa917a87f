"""Forwarding the controller's Events to the Alerts that chose their objects.

    update(ns, name)   (kopf) parse the Alert, check its Secret and address; Ready True, or
                       False with InvalidSpec / PolicyViolation / SecretNotFound /
                       AddressRefused; index it
    observe(event)     (every Event the controller posts, `status.EventRecorder`) match it to
                       the Alerts of its namespace by kind and name and severity (a Warning is
                       an error), rate-limit, queue; never blocks, never raises
    the sender thread  reads the address from the Secret at send time, checks it again, and
                       POSTs the payload (10 s timeout, no redirects); a failure is logged
                       with the Alert's name and the HTTP status only

Payloads carry only what the Event carries (kind, namespace, name, reason, message; Event
messages are built from names and reasons, never values): generic
`{"involvedObject": {...}, "severity", "reason", "message", "timestamp", "reportingController"}`,
slack `{"text": "<severity> GitSync ns/name Reason: message"}`.

Rate limits (`Limiter`, per Alert): the same object, reason and message at most once per
`DEDUPE_S`, and at most `PER_MINUTE` sends a minute (a token bucket); what exceeds them is
dropped and counted in the log. The queue holds `QUEUE` sends; beyond, they are dropped too.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import logging
import queue
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from controller import status
from controller.alerts import spec as spec_mod
from sealer import errors
from sealer.kube import client

__all__ = ["ALERTS", "DEDUPE_S", "PER_MINUTE", "Dispatcher", "Limiter", "payload"]

logger = logging.getLogger(__name__)

ALERTS = client.Resource("sealops.dev", "v1alpha1", "Alert", "alerts", True)
ADDRESS_KEY = "address"
PER_MINUTE = 10
DEDUPE_S = 60.0
QUEUE = 1000
SEND_TIMEOUT_S = 10.0
Key = tuple[str, str]
Send = Callable[[str, bytes], int]


class Limiter:
    """Per-Alert dedupe window and token bucket (thread-safe, injected clock)."""

    def __init__(self, *, per_minute: int = PER_MINUTE, dedupe_s: float = DEDUPE_S,
                 now: Callable[[], float] = time.monotonic) -> None:
        self._rate = per_minute / 60.0
        self._capacity = float(per_minute)
        self._dedupe_s = dedupe_s
        self._now = now
        self._buckets: dict[Key, tuple[float, float]] = {}
        self._seen: dict[tuple[Key, str], float] = {}
        self._lock = threading.Lock()

    def allow(self, alert: Key, fingerprint: str) -> bool:
        with self._lock:
            current = self._now()
            self._seen = {k: t for k, t in self._seen.items() if current - t < self._dedupe_s}
            if (alert, fingerprint) in self._seen:
                return False
            tokens, last = self._buckets.get(alert, (self._capacity, current))
            tokens = min(self._capacity, tokens + (current - last) * self._rate)
            if tokens < 1.0:
                self._buckets[alert] = (tokens, current)
                return False
            self._buckets[alert] = (tokens - 1.0, current)
            self._seen[(alert, fingerprint)] = current
            return True


def payload(kind: str, event: Mapping[str, Any]) -> bytes:
    """The body sent for an Event (see the module docstring)."""
    involved = event.get("involvedObject") or {}
    severity = "error" if event.get("type") == "Warning" else "info"
    obj = {"kind": involved.get("kind"), "namespace": involved.get("namespace"),
           "name": involved.get("name")}
    reason, message = str(event.get("reason") or ""), str(event.get("message") or "")
    if kind == spec_mod.SLACK:
        text = f"{severity}: {obj['kind']} {obj['namespace']}/{obj['name']} {reason}: {message}"
        return json.dumps({"text": text}).encode()
    return json.dumps({"involvedObject": obj, "severity": severity, "reason": reason,
                       "message": message, "timestamp": event.get("lastTimestamp"),
                       "reportingController": status.COMPONENT}).encode()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_: Any, **__: Any) -> None:
        return None


def _post(address: str, body: bytes) -> int:
    opener = urllib.request.build_opener(_NoRedirect())
    # `address` passed `spec.check_address` (https, or http to loopback) just before.
    request = urllib.request.Request(address, data=body, method="POST",  # noqa: S310
                                     headers={"Content-Type": "application/json",
                                              "User-Agent": status.COMPONENT})
    try:
        with opener.open(request, timeout=SEND_TIMEOUT_S) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


class Dispatcher:
    def __init__(self, kube: client.KubeClient, *, now: Callable[[], datetime.datetime],
                 limiter: Limiter | None = None, send: Send = _post) -> None:
        self._kube = kube
        self._now = now
        self._limiter = limiter or Limiter()
        self._send = send
        self._alerts: dict[Key, spec_mod.AlertSpec] = {}
        self._lock = threading.Lock()
        self._queue: queue.Queue[tuple[Key, str, bytes]] = queue.Queue(maxsize=QUEUE)
        self._dropped = 0
        self._thread = threading.Thread(target=self._drain, name="sealops-alerts", daemon=True)

    def start(self) -> None:
        if not self._thread.is_alive():
            self._thread.start()

    def forget(self, namespace: str, name: str) -> None:
        with self._lock:
            self._alerts.pop((namespace, name), None)

    # -- Alerts ----------------------------------------------------------------------------

    def update(self, namespace: str, name: str) -> None:
        obj = self._kube.get(ALERTS, name, namespace=namespace)
        if obj is None or obj["metadata"].get("deletionTimestamp"):
            self.forget(namespace, name)
            return
        try:
            parsed = spec_mod.parse(obj.get("spec"))
            self._address(namespace, parsed.secret_ref)
        except errors.SealopsError as exc:
            self.forget(namespace, name)
            reason = getattr(exc, "alert_reason", None) or (
                "PolicyViolation" if isinstance(exc, errors.PolicyError) else "InvalidSpec")
            self._status(obj, status.Condition("Ready", False, reason, str(exc)))
            return
        with self._lock:
            self._alerts[(namespace, name)] = parsed
        self._status(obj, status.Condition(
            "Ready", True, "Succeeded",
            f"Alert of type {parsed.type} for {len(parsed.sources)} event sources"))

    def _status(self, obj: Mapping[str, Any], condition: status.Condition) -> None:
        current = dict(obj.get("status") or {})
        generation = obj["metadata"].get("generation")
        conditions = status.merge_conditions(current.get("conditions") or [], [condition],
                                             now=status.rfc3339(self._now()),
                                             generation=generation)
        status.patch_status(self._kube, ALERTS, obj, {"observedGeneration": generation,
                                                      "conditions": conditions})

    def _address(self, namespace: str, secret_ref: str) -> str:
        secret = self._kube.get(client.SECRETS, secret_ref, namespace=namespace)
        if secret is None:
            raise _AlertError("SecretNotFound", f"Secret {namespace}/{secret_ref} not found")
        try:
            raw = base64.b64decode((secret.get("data") or {}).get(ADDRESS_KEY) or "",
                                   validate=True).decode()
        except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
            raw = ""
        if not raw:
            raise _AlertError("SecretNotFound", f"Secret {namespace}/{secret_ref} has no "
                                                f"valid key {ADDRESS_KEY!r}")
        try:
            return spec_mod.check_address(raw)
        except errors.PolicyError as exc:
            raise _AlertError("AddressRefused", f"Secret {namespace}/{secret_ref}: {exc}") from None

    # -- Events ----------------------------------------------------------------------------

    def observe(self, event: Mapping[str, Any]) -> None:
        involved = event.get("involvedObject") or {}
        ns, kind, name = involved.get("namespace"), involved.get("kind"), involved.get("name")
        if not isinstance(ns, str) or not isinstance(kind, str) or not isinstance(name, str):
            return
        error = event.get("type") == "Warning"
        with self._lock:
            matching = [(key, a) for key, a in self._alerts.items() if key[0] == ns
                        and not a.suspend and (error or not a.errors_only)
                        and any(s.matches(kind, name) for s in a.sources)]
        fingerprint = json.dumps([kind, name, event.get("reason"), event.get("message")])
        for key, alert in matching:
            if not self._limiter.allow(key, fingerprint):
                self._count_drop(key, "rate-limited")
                continue
            try:
                self._queue.put_nowait((key, alert.secret_ref, payload(alert.type, event)))
            except queue.Full:
                self._count_drop(key, "queue full")

    def _count_drop(self, key: Key, why: str) -> None:
        self._dropped += 1
        logger.info("Alert %s/%s: notification dropped (%s; %d so far)", key[0], key[1], why,
                    self._dropped)

    def _drain(self) -> None:
        while True:
            key, secret_ref, body = self._queue.get()
            try:
                self._deliver(key, secret_ref, body)
            except Exception as exc:  # keep sending; the type only (no URL, no text)
                logger.warning("Alert %s/%s: delivery failed (%s)", key[0], key[1],
                               type(exc).__name__)
            finally:
                self._queue.task_done()

    def _deliver(self, key: Key, secret_ref: str, body: bytes) -> None:
        with self._lock:
            alert = self._alerts.get(key)
        if alert is None:
            return
        code = self._send(self._address(key[0], secret_ref), body)
        if code >= 300:
            logger.warning("Alert %s/%s: the webhook answered HTTP %d", key[0], key[1], code)


class _AlertError(errors.PolicyError):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.alert_reason = reason
