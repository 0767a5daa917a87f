"""Secret -> the opted-in workloads of its namespace that use it, kept in memory.

Fed by watch events on Deployments, StatefulSets and DaemonSets (`observe`), and primed per
namespace by one LIST of each kind the first time a Secret of that namespace changes (so a
Secret written before the watch's first listing arrived is not missed). An entry only says
"may use": the patcher re-reads the workload before it writes, so a stale entry costs one GET
and a missing annotation or reference is noticed there. Newer resourceVersions win, so a LIST
never undoes a later watch event.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from controller.rollout import refs
from sealer import errors
from sealer.kube import client

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Entry:
    version: int
    secrets: frozenset[str]


def _version(obj: Mapping[str, Any]) -> int:
    try:
        return int((obj.get("metadata") or {}).get("resourceVersion") or 0)
    except (TypeError, ValueError):
        return 0


class Index:
    def __init__(self, kube: client.KubeClient) -> None:
        self._kube = kube
        self._lock = threading.Lock()
        self._entries: dict[str, dict[refs.WorkloadRef, _Entry]] = {}
        self._primed: set[str] = set()

    def observe(self, event_type: str | None, obj: Mapping[str, Any]) -> None:
        ref = refs.ref_of(obj)
        if ref is None:
            return
        gone = event_type == "DELETED"
        wanted = None if gone else refs.wanted(obj)
        with self._lock:
            entries = self._entries.setdefault(ref.namespace, {})
            current = entries.get(ref)
            if current is not None and current.version > _version(obj):
                return
            if wanted is None:
                entries.pop(ref, None)
            else:
                entries[ref] = _Entry(_version(obj), wanted)

    def users(self, namespace: str, secret: str) -> list[refs.WorkloadRef]:
        """Workloads of `namespace` that may roll when `secret` (of the same namespace) changes."""
        self._prime(namespace)
        with self._lock:
            entries = dict(self._entries.get(namespace) or {})
        return sorted(ref for ref, entry in entries.items() if secret in entry.secrets)

    def _prime(self, namespace: str) -> None:
        with self._lock:
            if namespace in self._primed:
                return
        listed: list[dict[str, Any]] = []
        try:
            for res in refs.KINDS.values():
                listed += [{"apiVersion": "apps/v1", "kind": res.kind, **item}
                           for item in self._kube.list(res, namespace=namespace)]
        except errors.SealopsError as exc:
            logger.warning("listing workloads in %s failed: %s", namespace, exc)
            return
        for item in listed:
            self.observe("ADDED", item)
        with self._lock:
            self._primed.add(namespace)
