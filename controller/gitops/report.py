"""What a GitSync reconcile tells the user: its status and Events, written only when changed.

Status (merge-patched on the status subresource, only when `controller.status` sees a change):

    observedGeneration      the generation the outcome is for
    conditions              Ready (True only for Succeeded) and Reconciling, each with the
                            outcome's stage reason; Reconciling is True/Progressing while a run
                            for a new generation or a new reconcile request is under way
    lastAttemptedRevision   the revision last fetched (kept when a fetch fails)
    lastAppliedRevision     the revision last applied completely
    inventory.entries       the Flux-format inventory (`controller.apply.inventory`)
    lastHandledReconcileAt  the `sealops.dev/reconcile-requested-at` value last handled

The Ready message of a success is stable ("Applied revision R: N objects"), so a no-op re-sync
writes no status. An Event is posted when the Ready condition changes or objects were written
or pruned; messages come from the pipeline (names and reasons only).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from controller import status
from controller.gitops import pipeline
from sealer.kube import client
from sealer.kube import errors as kerrors

__all__ = ["PROGRESSING", "finish", "needs_progress", "progressing"]

logger = logging.getLogger(__name__)

PROGRESSING = "Progressing"


def _current(obj: Mapping[str, Any]) -> dict[str, Any]:
    return dict(obj.get("status") or {})


def needs_progress(obj: Mapping[str, Any], *, requested: str | None) -> bool:
    """True when this run answers a new generation or a new reconcile request."""
    current = _current(obj)
    return current.get("observedGeneration") != obj["metadata"].get("generation") or (
        requested is not None and requested != current.get("lastHandledReconcileAt"))


def progressing(kube: client.KubeClient, res: client.Resource, obj: Mapping[str, Any], *,
                now: str) -> Mapping[str, Any]:
    """Mark the GitSync Reconciling=True (Ready is left as it was); the updated object."""
    current = _current(obj)
    generation = obj["metadata"].get("generation")
    conditions = status.merge_conditions(
        current.get("conditions") or [],
        [status.Condition("Reconciling", True, PROGRESSING,
                          f"Reconciliation of generation {generation} in progress")],
        now=now, generation=generation)
    if not status.status_changed(current, {"conditions": conditions}):
        return obj
    meta = obj["metadata"]
    try:
        return kube.patch(res, meta["name"], {"status": {"conditions": conditions}},
                          namespace=meta["namespace"], subresource="status")
    except kerrors.ApiError as exc:
        if exc.status == 404:
            return obj
        raise


def finish(kube: client.KubeClient, res: client.Resource, obj: Mapping[str, Any],
           outcome: pipeline.Outcome, *, requested: str | None, now: str,
           events: status.EventRecorder) -> bool:
    """Write the outcome to status (when changed) and post an Event (when worth it)."""
    current = _current(obj)
    wanted = wanted_status(obj, outcome, requested=requested, now=now)
    changed = status.patch_status(kube, res, obj, wanted)
    before = _ready(current)
    after = _ready(wanted)
    wrote = outcome.counts.writes > 0 or outcome.counts.pruned > 0
    if before != after or wrote:
        events.post(obj, reason=outcome.reason, message=_event_message(outcome),
                    warning=not outcome.ok)
    return changed


def wanted_status(obj: Mapping[str, Any], outcome: pipeline.Outcome, *,
                  requested: str | None, now: str) -> dict[str, Any]:
    current = _current(obj)
    generation = obj["metadata"].get("generation")
    conditions = status.merge_conditions(
        current.get("conditions") or [],
        [status.Condition("Ready", outcome.ok, outcome.reason, outcome.message),
         status.Condition("Reconciling", False, outcome.reason, outcome.message)],
        now=now, generation=generation)
    wanted: dict[str, Any] = {
        "observedGeneration": generation,
        "conditions": conditions,
        "inventory": {"entries": outcome.inventory.to_status()},
    }
    attempted = outcome.revision or current.get("lastAttemptedRevision")
    applied = outcome.revision if outcome.ok else current.get("lastAppliedRevision")
    for key, value in (("lastAttemptedRevision", attempted), ("lastAppliedRevision", applied),
                       ("lastHandledReconcileAt", requested)):
        if value is not None:
            wanted[key] = value
    return wanted


def _ready(state: Mapping[str, Any]) -> tuple[Any, ...] | None:
    for cond in state.get("conditions") or []:
        if cond.get("type") == "Ready":
            return cond.get("status"), cond.get("reason"), cond.get("message")
    return None


def _event_message(outcome: pipeline.Outcome) -> str:
    if outcome.ok:
        return f"{outcome.message} ({outcome.counts})"
    return outcome.message
