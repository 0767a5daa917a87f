"""Pruning stale inventory entries: read each one's live labels, let `plan.plan_prune` decide,
check the mass-prune guard, delete in reverse apply order. Called only after a fully
successful apply (never after a failure, HOSTILE-INPUTS K43/K45).

Ownership: an entry whose live object carries another sync's uid label
(`inventory.OWNER_UID_LABEL`) is kept, never deleted: it belongs to a GitSync that was deleted
and re-created under the same name, or to a one-shot sync sharing the name.

Mass-prune guard (`Guard`, issue 10 item 8): deleting more than `max_ratio` of the previous
inventory, and more than `max_unconfirmed` objects, or deleting anything after the history was
rewritten (the new revision does not descend from the last applied one), needs confirmation:
the annotation `sealops.dev/confirm-prune: <sha of the revision>` on the GitSync, or
`sealops sync --prune --confirm-prune`. Without it nothing is deleted, every stale entry stays
in the inventory (prunable later) and `Result.blocked` says why.

Deletes carry a uid precondition, so an object deleted and re-created by someone else between
the read and the delete is left alone. A failed delete does not stop the others; it is
reported in `Result.failed` and the caller keeps it in the inventory (`Inventory.merge`), so
the next reconcile retries it. A kind that is no longer served counts as gone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from controller.apply import inventory, plan
from sealer import errors
from sealer.kube import client
from sealer.kube import errors as kerrors

__all__ = ["CONFIRM_ANNOTATION", "Guard", "Result", "confirms", "prune"]

CONFIRM_ANNOTATION = "sealops.dev/confirm-prune"


@dataclass(frozen=True)
class Guard:
    """When a prune needs confirmation. `rewritten`: the history was rewritten, or could not be
    verified; `confirmed`: the user confirmed this revision's prunes."""

    max_ratio: float = 0.5
    max_unconfirmed: int = 3
    rewritten: bool = False
    confirmed: bool = False

    def refusal(self, *, count: int, size: int) -> str | None:
        """Why deleting `count` of `size` inventory entries needs confirmation, or None."""
        if self.confirmed or count == 0:
            return None
        if self.rewritten:
            return (f"the history was rewritten and {count} of {size} objects would be pruned; "
                    "pruning after a history rewrite needs confirmation")
        if count > self.max_unconfirmed and count > self.max_ratio * size:
            return (f"{count} of {size} objects would be pruned (more than "
                    f"{self.max_ratio:.0%}); a mass prune needs confirmation")
        return None


def confirms(value: str | None, *, revision: str | None) -> bool:
    """True when a `sealops.dev/confirm-prune` value names `revision` (`main@sha1:<sha>`):
    the full revision or its full commit sha."""
    if not value or not revision:
        return False
    wanted = value.strip().lower()
    return wanted in (revision.lower(), revision.rpartition(":")[2].lower())


@dataclass(frozen=True)
class Result:
    deleted: tuple[inventory.Entry, ...] = ()
    kept: tuple[tuple[inventory.Entry, str], ...] = ()
    gone: tuple[inventory.Entry, ...] = ()
    failed: tuple[tuple[inventory.Entry, str], ...] = ()
    blocked: str | None = None  # why nothing was deleted (the guard), else None


@dataclass(frozen=True)
class _Live:
    meta: plan.LiveMeta | None
    uid: str | None


def prune(kube: client.KubeClient, stale: Sequence[inventory.Entry], *,
          policy: plan.SyncPolicy, inventory_size: int, dry_run: bool = False,
          owner_uid: str | None = None, guard: Guard = Guard()) -> Result:
    """Delete the stale entries `plan.plan_prune` allows and the guard lets through; `dry_run`
    only reports them."""
    if not stale:
        return Result()
    live = {entry.id: _read(kube, entry) for entry in stale}
    foreign = _foreign(stale, live, owner_uid=owner_uid)
    candidates = [entry for entry in stale if entry.id not in {e.id for e, _ in foreign}]
    decided = plan.plan_prune(candidates, {e.id: live[e.id].meta for e in candidates},
                              policy=policy, inventory_size=inventory_size)
    kept = (*foreign, *decided.kept)
    refusal = guard.refusal(count=len(decided.prune), size=inventory_size)
    if refusal is not None:
        return Result(kept=kept, gone=decided.gone, blocked=refusal)
    deleted: list[inventory.Entry] = []
    failed: list[tuple[inventory.Entry, str]] = []
    for entry in decided.prune:
        if dry_run:
            deleted.append(entry)
            continue
        try:
            res = kube.resource(entry.api_version, entry.kind)
            kube.delete(res, entry.name, namespace=entry.namespace or None,
                        precondition_uid=live[entry.id].uid)
        except errors.ClusterError as exc:
            failed.append((entry, str(exc)))
            continue
        deleted.append(entry)
    return Result(deleted=tuple(deleted), kept=kept, gone=decided.gone, failed=tuple(failed))


def _foreign(stale: Sequence[inventory.Entry], live: dict[str, _Live], *,
             owner_uid: str | None) -> tuple[tuple[inventory.Entry, str], ...]:
    found: list[tuple[inventory.Entry, str]] = []
    for entry in stale:
        meta = live[entry.id].meta
        other = None if meta is None else inventory.foreign_owner(meta.labels,
                                                                  owner_uid=owner_uid)
        if other is not None:
            found.append((entry, f"owned by another sync (label "
                                 f"{inventory.OWNER_UID_LABEL}={other})"))
    return tuple(found)


def _read(kube: client.KubeClient, entry: inventory.Entry) -> _Live:
    try:
        res = kube.resource(entry.api_version, entry.kind)
    except kerrors.ApiError as exc:
        if exc.status == 404:
            return _Live(None, None)
        raise
    obj = kube.get(res, entry.name, namespace=entry.namespace or None)
    if obj is None or obj["metadata"].get("deletionTimestamp"):
        return _Live(None, None)
    meta = obj["metadata"]
    return _Live(plan.LiveMeta(labels=dict(meta.get("labels") or {}),
                               annotations=dict(meta.get("annotations") or {})),
                 meta.get("uid"))
