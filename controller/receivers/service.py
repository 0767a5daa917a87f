"""Receivers in a running controller: the path index, their status, a request end to end.

    reconcile(ns, name)   (kopf, active replica) parse the spec, read the token, publish
                          status.webhookPath and Ready (True, or False with InvalidSpec,
                          PolicyViolation, SecretNotFound or TokenMissing); index the path
    refresh()             (every replica, every `REFRESH_S`) index the paths that Receivers
                          publish in their status, so a standby replica answers too
    lookup(path)          which Receiver a path belongs to (memory only: an unknown path costs
                          nothing)
    open(key)             (per request, before the body) the Receiver and its token, read now,
                          so a rotated token stops working at once; None unless the path is
                          still the one the current token gives
    deliver(...)          after the capped body: verify, refuse replays, then set
                          `sealops.dev/reconcile-requested-at` on each named GitSync

The token lives in `Opened` only for one request; it never reaches a log line, status,
Event or answer. The Receiver, its Secret and the GitSyncs are read and patched with the
controller's own identity: a Receiver may only name GitSyncs in its own namespace.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import logging
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from controller import status
from controller.gitops import reconciler
from controller.receivers import auth
from controller.receivers import spec as spec_mod
from sealer import errors
from sealer.kube import client
from sealer.kube import errors as kerrors

__all__ = ["RECEIVERS", "REFRESH_S", "Opened", "Service"]

logger = logging.getLogger(__name__)

RECEIVERS = client.Resource("sealops.dev", "v1alpha1", "Receiver", "receivers", True)
REFRESH_S = 30.0
TOKEN_KEY = "token"  # noqa: S105  (the key name, not a value)
Key = tuple[str, str]


@dataclass(frozen=True)
class Opened:
    key: Key
    spec: spec_mod.ReceiverSpec
    token: bytes = field(repr=False)

    def __repr__(self) -> str:
        return f"Opened({self.key[0]}/{self.key[1]}, <redacted {len(self.token)} bytes>)"


class _Unready(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class Service:
    def __init__(self, kube: client.KubeClient, *, now: Callable[[], datetime.datetime],
                 namespaces: tuple[str, ...] = (), label_selector: str | None = None,
                 replays: auth.Replays | None = None) -> None:
        self._kube = kube
        self._now = now
        self._namespaces = namespaces
        self._selector = label_selector
        self.replays = replays or auth.Replays()
        self._index: dict[str, Key] = {}
        self._lock = threading.Lock()
        self._stopped = threading.Event()

    # -- the index -------------------------------------------------------------------------

    def lookup(self, path: str) -> Key | None:
        with self._lock:
            return self._index.get(path)

    def _set(self, key: Key, path: str | None) -> None:
        with self._lock:
            for old in [p for p, k in self._index.items() if k == key]:
                del self._index[old]
            if path is not None:
                self._index[path] = key

    def forget(self, namespace: str, name: str) -> None:
        self._set((namespace, name), None)

    def refresh(self) -> None:
        found: dict[str, Key] = {}
        for ns in self._namespaces or (None,):
            for obj in self._kube.list(RECEIVERS, namespace=ns, label_selector=self._selector):
                path = (obj.get("status") or {}).get("webhookPath")
                meta = obj["metadata"]
                if isinstance(path, str) and path.startswith(spec_mod.PATH_PREFIX):
                    found[path] = (meta["namespace"], meta["name"])
        with self._lock:
            self._index = found

    def start(self) -> None:
        threading.Thread(target=self._refresh_loop, name="sealops-receivers",
                         daemon=True).start()

    def stop(self) -> None:
        self._stopped.set()

    def _refresh_loop(self) -> None:
        while not self._stopped.wait(REFRESH_S):
            try:
                self.refresh()
            except errors.SealopsError as exc:
                logger.warning("listing Receivers failed (%s)", type(exc).__name__)

    # -- reconcile (status) ----------------------------------------------------------------

    def reconcile(self, namespace: str, name: str) -> None:
        obj = self._kube.get(RECEIVERS, name, namespace=namespace)
        if obj is None or obj["metadata"].get("deletionTimestamp"):
            self.forget(namespace, name)
            return
        try:
            opened = self._open(obj)
        except _Unready as exc:
            self.forget(namespace, name)
            self._status(obj, None, status.Condition("Ready", False, exc.reason, str(exc)))
            logger.warning("Receiver %s/%s: %s: %s", namespace, name, exc.reason, exc)
            return
        path = spec_mod.webhook_path(opened.token, name=name, namespace=namespace)
        self._status(obj, path, status.Condition(
            "Ready", True, "Succeeded",
            f"Receiver of type {opened.spec.type} for {len(opened.spec.resources)} GitSyncs"))
        self._set((namespace, name), path)

    def _status(self, obj: Mapping[str, Any], path: str | None,
                condition: status.Condition) -> None:
        current = dict(obj.get("status") or {})
        generation = obj["metadata"].get("generation")
        wanted: dict[str, Any] = {
            "observedGeneration": generation, "webhookPath": path,
            "conditions": status.merge_conditions(current.get("conditions") or [], [condition],
                                                  now=status.rfc3339(self._now()),
                                                  generation=generation)}
        status.patch_status(self._kube, RECEIVERS, obj, wanted)

    def _open(self, obj: Mapping[str, Any]) -> Opened:
        meta = obj["metadata"]
        namespace, name = meta["namespace"], meta["name"]
        try:
            parsed = spec_mod.parse(obj.get("spec"), namespace=namespace)
        except errors.PolicyError as exc:
            raise _Unready("PolicyViolation", f"spec refused: {exc}") from None
        except errors.ManifestError as exc:
            raise _Unready("InvalidSpec", f"spec refused: {exc}") from None
        secret = self._kube.get(client.SECRETS, parsed.secret_ref, namespace=namespace)
        if secret is None:
            raise _Unready("SecretNotFound", f"Secret {namespace}/{parsed.secret_ref} not found")
        try:
            token = base64.b64decode((secret.get("data") or {}).get(TOKEN_KEY) or "",
                                     validate=True)
        except (binascii.Error, ValueError, TypeError):
            token = b""
        if not token:
            raise _Unready("TokenMissing", f"Secret {namespace}/{parsed.secret_ref} has no "
                                           f"valid key {TOKEN_KEY!r}")
        return Opened((namespace, name), parsed, token)

    # -- a request -------------------------------------------------------------------------

    def open(self, key: Key, path: str) -> Opened | None:
        """The Receiver behind `path` with its current token; None when it is gone, not
        ready, or the token now gives another path."""
        obj = self._kube.get(RECEIVERS, key[1], namespace=key[0])
        if obj is None:
            self.forget(*key)
            return None
        try:
            opened = self._open(obj)
        except _Unready:
            return None
        current = spec_mod.webhook_path(opened.token, name=key[1], namespace=key[0])
        if not secrets.compare_digest(current, path):
            return None
        return opened

    def deliver(self, opened: Opened, headers: Mapping[str, str],
                body: bytes) -> auth.Refused | auth.Delivery:
        """Verify, refuse a replay, trigger; what to answer."""
        verdict = auth.verify(opened.spec.type, headers, body, token=opened.token,
                              events=opened.spec.events)
        ns, name = opened.key
        if isinstance(verdict, auth.Refused):
            logger.warning("Receiver %s/%s refused a request: %s", ns, name, verdict.message)
            return verdict
        if not self.replays.first_time(f"{ns}/{name}", verdict.ids):
            logger.warning("Receiver %s/%s refused a replayed delivery", ns, name)
            return auth.Refused(409, "delivery already handled (replay refused)")
        if verdict.work:
            self._trigger(opened)
        return verdict

    def _trigger(self, opened: Opened) -> None:
        ns, name = opened.key
        stamp = self._now().astimezone(datetime.UTC).isoformat()
        patch = {"metadata": {"annotations": {reconciler.REQUESTED_AT: stamp}}}
        triggered = 0
        for target in opened.spec.resources:
            try:
                self._kube.patch(reconciler.GITSYNCS, target, patch, namespace=ns)
                triggered += 1
            except kerrors.ApiError as exc:
                logger.warning("Receiver %s/%s: cannot trigger GitSync %s/%s (%s)", ns, name,
                               ns, target, exc.reason)
        logger.info("Receiver %s/%s: reconcile requested for %d GitSyncs", ns, name, triggered)
