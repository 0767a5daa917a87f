"""Server-side apply of one wave of planned objects; the only module here that writes objects.

Per object (`Applier.apply` runs a wave on a small thread pool):

    body = the planned object with the port protocols SSA needs on k8s < 1.22 (`defaults`)
    live = one LIST per kind and namespace (`_prefetch`), else a GET
    absent                           -> apply, force (a new object has no other owner)
    labelled by another GitSync      -> ConflictError, nothing written
    labelled ours, another owner uid -> ConflictError (a re-created GitSync: `inventory`)
    labelled ours, in sync (`drift`) -> nothing sent at all
    labelled ours, else              -> dry run; written (force) only if the result differs
    present but not labelled         -> apply without force: a 409 becomes a ConflictError
                                        naming the other field managers (HOSTILE-INPUTS K42)

So a re-sync of unchanged objects makes no write request. Field manager `sealops`. Every
confirmed apply is recorded in `applied` at once, so a failure after k of N objects still
leaves an exact record for the inventory (K43). `checkpoint(writes)` runs after each write:
the fault-injection seam for tests (raise there to simulate an API failure mid-apply).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent import futures
from dataclasses import dataclass
from typing import Any

from controller.apply import defaults, diff, drift, inventory, plan
from sealer import errors
from sealer.kube import client
from sealer.kube import errors as kerrors

__all__ = ["FIELD_MANAGER", "Applied", "Applier", "ApplyError"]

FIELD_MANAGER = "sealops"
CREATED, CONFIGURED, UNCHANGED = "created", "configured", "unchanged"
_UNKNOWN: Any = object()
_LIST_ALL_ABOVE = 8  # objects of one kind and namespace in a wave

Checkpoint = Callable[[int], None]


@dataclass(frozen=True)
class Applied:
    """One object's outcome. `after` is the applied (or dry-run) object, or the live one when
    nothing was sent; `before` is the live object before, None when it did not exist."""

    entry: inventory.Entry
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any]

    def __repr__(self) -> str:
        return f"Applied({self.entry}, {self.action})"


class ApplyError(errors.ClusterError):
    """Objects of a wave failed; names the first one (in apply order) and counts the rest."""

    reason = "ApplyFailed"

    def __init__(self, failures: Sequence[tuple[str, errors.SealopsError]]) -> None:
        self.failures = tuple(failures)
        first_name, first = failures[0]
        more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        super().__init__(_with_subject(first_name, str(first)) + more)
        self.retryable = all(exc.retryable for _, exc in failures)


def _with_subject(subject: str, message: str) -> str:
    return message if message.startswith(subject) else f"{subject}: {message}"


class Applier:
    """Applies waves for one sync. Thread-safe; create one per reconcile."""

    def __init__(self, kube: client.KubeClient, *, label: str,
                 field_manager: str = FIELD_MANAGER, workers: int = 4, dry_run: bool = False,
                 checkpoint: Checkpoint | None = None, owner_uid: str | None = None) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self._kube = kube
        self._label = label
        self._manager = field_manager
        self._workers = workers
        self._dry_run = dry_run
        self._checkpoint = checkpoint
        self._owner_uid = owner_uid
        self._lock = threading.Lock()
        self._applied: list[Applied] = []
        self.writes = 0

    @property
    def applied(self) -> list[Applied]:
        with self._lock:
            return list(self._applied)

    def resource_of(self, obj: Mapping[str, Any]) -> client.Resource:
        return self._kube.resource(str(obj["apiVersion"]), str(obj["kind"]))

    def apply(self, objects: Sequence[Mapping[str, Any]]) -> list[Applied]:
        """Apply one wave concurrently; `ApplyError` after the wave if any object failed (objects
        not yet started are cancelled)."""
        if not objects:
            return []
        live = self._prefetch(objects)
        results: dict[int, Applied] = {}
        failures: dict[int, errors.SealopsError] = {}
        with futures.ThreadPoolExecutor(max_workers=self._workers,
                                        thread_name_prefix="sealops-apply") as pool:
            pending = {pool.submit(self._one, obj, live.get(_key(obj), _UNKNOWN)): i
                       for i, obj in enumerate(objects)}
            for done in futures.as_completed(pending):
                index = pending[done]
                try:
                    results[index] = done.result()
                except errors.SealopsError as exc:
                    failures[index] = exc
                    for other in pending:
                        other.cancel()
                except futures.CancelledError:
                    continue
        if failures:
            raise ApplyError([(diff.describe(objects[i]), failures[i]) for i in sorted(failures)])
        return [results[i] for i in sorted(results)]

    # -- one object ----------------------------------------------------------------------------

    def _one(self, obj: Mapping[str, Any], live: Any) -> Applied:
        body = defaults.with_defaults(obj)
        try:
            res = self.resource_of(body)
        except kerrors.ApiError as exc:
            if self._dry_run and exc.status == 404:  # its CRD is applied in the same sync
                return self._record(Applied(_entry(body), CREATED, None, body))
            raise
        if live is _UNKNOWN:
            live = self._kube.get(res, body["metadata"]["name"],
                                  namespace=body["metadata"].get("namespace"))
        if live is None:
            return self._write(res, body, before=None, force=True)
        return self._existing(res, body, live)

    def _existing(self, res: client.Resource, body: dict[str, Any],
                  live: dict[str, Any]) -> Applied:
        owner = ((live.get("metadata") or {}).get("labels") or {}).get(plan.SYNC_LABEL)
        if owner is not None and owner != self._label:
            raise errors.ConflictError(
                f"{diff.describe(body)} belongs to GitSync {owner!r} (label {plan.SYNC_LABEL}); "
                "refusing to take it over")
        if owner is None:
            return self._write(res, body, before=live, force=False)
        self._check_owner_uid(body, live, owner=owner)
        unchanged = Applied(_entry(body), UNCHANGED, live, live)
        if drift.in_sync(body, live, field_manager=self._manager):
            return self._record(unchanged)
        dry = self._send(res, body, force=True, dry_run=True)
        if drift.same_result(dry, live, field_manager=self._manager):
            return self._record(unchanged)
        if self._dry_run:
            return self._record(Applied(_entry(body), CONFIGURED, live, dry))
        return self._write(res, body, before=live, force=True)

    def _check_owner_uid(self, body: dict[str, Any], live: dict[str, Any], *,
                         owner: str) -> None:
        labels = (live.get("metadata") or {}).get("labels") or {}
        other = inventory.foreign_owner(labels, owner_uid=self._owner_uid)
        if other is not None:
            raise errors.ConflictError(
                f"{diff.describe(body)} belongs to another sync named {owner!r} (label "
                f"{inventory.OWNER_UID_LABEL}={other}: a GitSync deleted and re-created, or "
                "`sealops sync`); refusing to take it over (remove that label to adopt it)")

    def _write(self, res: client.Resource, body: dict[str, Any], *,
               before: dict[str, Any] | None, force: bool) -> Applied:
        action = CREATED if before is None else CONFIGURED
        if self._dry_run:
            try:
                after = self._send(res, body, force=force, dry_run=True)
            except kerrors.ApiError as exc:
                if before is not None or exc.status != 404:
                    raise
                after = body  # its namespace is created in the same sync
            return self._record(Applied(_entry(body), action, before, after))
        after = self._send(res, body, force=force, dry_run=False)
        applied = self._record(Applied(_entry(body), action, before, after))
        with self._lock:
            self.writes += 1
            count = self.writes
        if self._checkpoint is not None:
            self._checkpoint(count)
        return applied

    def _send(self, res: client.Resource, body: dict[str, Any], *, force: bool,
              dry_run: bool) -> dict[str, Any]:
        try:
            return self._kube.apply(res, body, field_manager=self._manager, force=force,
                                    dry_run=dry_run)
        except kerrors.ApiError as exc:
            if exc.status == 409 and not force:
                raise errors.ConflictError(
                    f"{diff.describe(body)}: conflict with another field manager; the object "
                    f"is not labelled {plan.SYNC_LABEL}={self._label}, so sealops does not "
                    f"force ownership ({exc})") from None
            raise

    def _record(self, applied: Applied) -> Applied:
        with self._lock:
            self._applied.append(applied)
        return applied

    # -- reading live objects ---------------------------------------------------------------

    def _prefetch(self, objects: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any] | None]:
        """Live objects of the wave by inventory id, from one LIST per (kind, namespace): all
        objects when the group is large (so new objects need no GET each), else only ours.
        Secrets are only listed by our label. A group that cannot be listed is left to GETs;
        an object absent from a labelled LIST is looked up with a GET."""
        groups: dict[tuple[str, str, str], list[Mapping[str, Any]]] = {}
        for obj in objects:
            key = (str(obj["apiVersion"]), str(obj["kind"]),
                   str(obj["metadata"].get("namespace") or ""))
            groups.setdefault(key, []).append(obj)
        found: dict[str, dict[str, Any] | None] = {}
        for (api_version, kind, namespace), members in groups.items():
            whole = len(members) > _LIST_ALL_ABOVE and (api_version, kind) != ("v1", "Secret")
            selector = None if whole else f"{plan.SYNC_LABEL}={self._label}"
            try:
                res = self._kube.resource(api_version, kind)
                items = self._kube.list(res, namespace=namespace or None,
                                        label_selector=selector)
            except kerrors.ApiError:
                continue
            by_name = {item["metadata"]["name"]: item for item in items}
            for member in members:
                name = member["metadata"]["name"]
                if name in by_name:
                    found[_key(member)] = by_name[name]
                elif whole:
                    found[_key(member)] = None
        return found

def _entry(obj: Mapping[str, Any]) -> inventory.Entry:
    return inventory.Entry.from_object(obj)


def _key(obj: Mapping[str, Any]) -> str:
    return inventory.Entry.from_object(obj).id
