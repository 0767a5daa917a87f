"""What a GitSync reconcile tells the user: its status and Events, written only when changed.

Status (merge-patched on the status subresource, only when `controller.status` sees a change):

    observedGeneration      the generation the outcome is for
    conditions              Ready (True only for Succeeded) and Reconciling, each with the
                            outcome's stage reason; Reconciling is True/Progressing while a run
                            for a new generation or a new reconcile request is under way;
                            HistoryRewritten True (reason Rewritten or Unverified) while the
                            fetched revision does not descend from lastAppliedRevision, False
                            (FastForward) once a later descendant is applied
    lastAttemptedRevision   the revision last fetched (kept when a fetch fails)
    lastAppliedRevision     the revision last applied completely
    inventory.entries       the Flux-format inventory (`controller.apply.inventory`)
    lastHandledReconcileAt  the `sealops.dev/reconcile-requested-at` value last handled
    history                 the last runs that changed the outcome (`controller.gitops.runs`)

PruneBlocked (Ready=False): applied, but the mass-prune guard or a history rewrite held the
prune back; the message gives the counts and the `sealops.dev/confirm-prune` value to set.
A Warning Event `HistoryRewritten` is posted when a rewrite is first seen for a revision.

The Ready message of a success is stable ("Applied revision R: N objects"), so a no-op re-sync
writes no status. An Event is posted when the Ready condition changes or objects were written
or pruned; messages come from the pipeline (names and reasons only).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from controller import status
from controller.gitops import pipeline, runs
from controller.sources import history
from sealer.kube import client
from sealer.kube import errors as kerrors

__all__ = ["PROGRESSING", "finish", "needs_progress", "progressing"]

logger = logging.getLogger(__name__)

PROGRESSING = "Progressing"
HISTORY_REWRITTEN = "HistoryRewritten"
FAST_FORWARD = "FastForward"


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
    rewrite = _condition(wanted, HISTORY_REWRITTEN)
    if rewrite is not None and rewrite["status"] == "True" and \
            _condition(current, HISTORY_REWRITTEN) != rewrite:
        events.post(obj, reason=HISTORY_REWRITTEN, message=rewrite["message"], warning=True)
    return changed


def wanted_status(obj: Mapping[str, Any], outcome: pipeline.Outcome, *,
                  requested: str | None, now: str) -> dict[str, Any]:
    current = _current(obj)
    generation = obj["metadata"].get("generation")
    wanted_conditions = [
        status.Condition("Ready", outcome.ok, outcome.reason, outcome.message),
        status.Condition("Reconciling", False, outcome.reason, outcome.message),
        *_history(current, outcome)]
    conditions = status.merge_conditions(current.get("conditions") or [], wanted_conditions,
                                         now=now, generation=generation)
    wanted: dict[str, Any] = {
        "observedGeneration": generation,
        "conditions": conditions,
        "inventory": {"entries": outcome.inventory.to_status()},
        "history": runs.record(current.get("history"), runs.entry(
            revision=outcome.revision, reason=outcome.reason, ready=outcome.ok, time=now,
            duration_s=outcome.duration_s, stages=outcome.stages)),
    }
    attempted = outcome.revision or current.get("lastAttemptedRevision")
    applied = outcome.revision if outcome.ok else current.get("lastAppliedRevision")
    for key, value in (("lastAttemptedRevision", attempted), ("lastAppliedRevision", applied),
                       ("lastHandledReconcileAt", requested)):
        if value is not None:
            wanted[key] = value
    return wanted


def _history(current: Mapping[str, Any], outcome: pipeline.Outcome) -> list[status.Condition]:
    """The HistoryRewritten condition to write, if any (see the module docstring)."""
    previous = current.get("lastAppliedRevision")
    if outcome.ancestry in pipeline.REWRITES:
        how = "does not descend from" if outcome.ancestry == history.REWRITTEN else \
            "could not be verified to descend from"
        return [status.Condition(
            HISTORY_REWRITTEN, True, str(outcome.ancestry),
            f"revision {outcome.revision} {how} the last applied revision {previous} "
            "(a force-push or another repository); prunes need confirmation")]
    moved = outcome.revision != previous  # the rewrite stays reported until the next commit
    if outcome.ancestry == history.DESCENDANT and moved and \
            _condition(current, HISTORY_REWRITTEN):
        return [status.Condition(HISTORY_REWRITTEN, False, FAST_FORWARD,
                                 f"revision {outcome.revision} descends from {previous}")]
    return []


def _condition(state: Mapping[str, Any], kind: str) -> dict[str, Any] | None:
    for cond in state.get("conditions") or []:
        if cond.get("type") == kind:
            return {k: cond.get(k) for k in ("status", "reason", "message")}
    return None


def _ready(state: Mapping[str, Any]) -> tuple[Any, ...] | None:
    for cond in state.get("conditions") or []:
        if cond.get("type") == "Ready":
            return cond.get("status"), cond.get("reason"), cond.get("message")
    return None


def _event_message(outcome: pipeline.Outcome) -> str:
    if outcome.ok:
        return f"{outcome.message} ({outcome.counts})"
    return outcome.message
