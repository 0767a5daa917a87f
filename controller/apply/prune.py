"""Pruning stale inventory entries: read each one's live labels, let `plan.plan_prune` decide,
delete in reverse apply order. Called only after a fully successful apply (never after a
failure, HOSTILE-INPUTS K43/K45).

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

__all__ = ["Result", "prune"]


@dataclass(frozen=True)
class Result:
    deleted: tuple[inventory.Entry, ...] = ()
    kept: tuple[tuple[inventory.Entry, str], ...] = ()
    gone: tuple[inventory.Entry, ...] = ()
    failed: tuple[tuple[inventory.Entry, str], ...] = ()


@dataclass(frozen=True)
class _Live:
    meta: plan.LiveMeta | None
    uid: str | None


def prune(kube: client.KubeClient, stale: Sequence[inventory.Entry], *,
          policy: plan.SyncPolicy, inventory_size: int, dry_run: bool = False) -> Result:
    """Delete the stale entries `plan.plan_prune` allows; `dry_run` only reports them."""
    if not stale:
        return Result()
    live = {entry.id: _read(kube, entry) for entry in stale}
    decided = plan.plan_prune(stale, {k: v.meta for k, v in live.items()}, policy=policy,
                              inventory_size=inventory_size)
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
    return Result(deleted=tuple(deleted), kept=decided.kept, gone=decided.gone,
                  failed=tuple(failed))


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
