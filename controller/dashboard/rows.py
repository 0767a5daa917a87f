"""The view-model: one frozen row per object, built from API objects by pure functions.

A row holds only fields chosen to be shown - names, conditions, revisions, key ids, item
*keys*, paths, times - never a spec wholesale: a SealedSecret's `spec.template.data`, any
annotation (kubectl's last-applied-configuration copies the spec) and every Secret stay out.
Times are kept as datetimes; the page formats ages against the snapshot's `now`.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from collections.abc import Mapping
from typing import Any

from controller.apply import inventory
from controller.dashboard import common
from sealer import errors

__all__ = ["EventRow", "GitSyncRow", "Run", "SealedSecretRow", "Stage", "StoreRow",
           "VaultSecretRow", "event_row", "gitsync_row", "history", "sealed_secret_row",
           "store_row", "vault_secret_row"]

MAX_RUNS = 10
MAX_STAGES = 12
MAX_INVENTORY = 500
_OK_OUTCOMES = frozenset({"succeeded", "success", "ok", "true", "ready", "applied"})
_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)(ms|s|m|h))+$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
STAGES = ("fetch", "render", "policy", "secrets", "apply", "prune")  # coloured; others grey


@dataclasses.dataclass(frozen=True)
class Stage:
    name: str
    seconds: float

    @property
    def css(self) -> str:
        return f"stage-{self.name}" if self.name in STAGES else "stage-other"


@dataclasses.dataclass(frozen=True)
class Run:
    """One GitSync run from `status.history`, newest first."""

    revision: str
    outcome: str
    reason: str
    seconds: float | None
    finished: datetime.datetime | None
    state: common.State
    stages: tuple[Stage, ...] = ()


@dataclasses.dataclass(frozen=True)
class GitSyncRow:
    namespace: str
    name: str
    created: datetime.datetime | None
    url: str
    ref: str
    path: str
    interval: str
    suspended: bool
    ready: common.Condition | None
    state: common.State
    applied_revision: str
    attempted_revision: str
    inventory: tuple[str, ...]
    inventory_count: int
    runs: tuple[Run, ...]

    @property
    def last_error(self) -> str:
        if self.ready is None or self.ready.status != "False":
            return ""
        return self.ready.message


@dataclasses.dataclass(frozen=True)
class SealedSecretRow:
    group: str
    namespace: str
    name: str
    created: datetime.datetime | None
    ready: common.Condition | None
    state: common.State
    key_id: str
    items: tuple[str, ...]
    updated: datetime.datetime | None


@dataclasses.dataclass(frozen=True)
class VaultSecretRow:
    namespace: str
    name: str
    created: datetime.datetime | None
    store: str
    refresh_interval: str
    target: str
    paths: tuple[str, ...]
    ready: common.Condition | None
    state: common.State
    refreshed: datetime.datetime | None


@dataclasses.dataclass(frozen=True)
class StoreRow:
    kind: str
    namespace: str
    name: str
    created: datetime.datetime | None
    server: str
    auth: str
    mount: str
    path_prefix: str
    ready: common.Condition | None
    state: common.State


@dataclasses.dataclass(frozen=True)
class EventRow:
    time: datetime.datetime | None
    type: str
    reason: str
    kind: str
    namespace: str
    name: str
    message: str
    count: int

    @property
    def warning(self) -> bool:
        return self.type == "Warning"


def _ref(spec: Mapping[str, Any]) -> str:
    ref = common.mapping(spec.get("ref"))
    for key in ("tag", "branch"):
        if ref.get(key):
            out = f"{key} {common.text(ref[key], limit=255)}"
            commit = common.text(ref.get("commit"), limit=64)
            return f"{out} @ {commit[:12]}" if commit else out
    commit = common.text(ref.get("commit"), limit=64)
    return f"commit {commit[:12]}" if commit else "branch main"


def _inventory(status: Mapping[str, Any]) -> tuple[tuple[str, ...], int]:
    entries = common.mapping(status.get("inventory")).get("entries")
    if not isinstance(entries, list):
        return (), 0
    shown = []
    for raw in entries[:MAX_INVENTORY]:
        item = common.mapping(raw)
        entry_id, version = item.get("id"), item.get("v")
        try:
            if not isinstance(entry_id, str) or not isinstance(version, str):
                raise errors.ManifestError("not an entry")
            shown.append(common.text(str(inventory.Entry.from_id(entry_id, version))))
        except errors.ManifestError:
            shown.append("(unreadable entry)")
    return tuple(shown), len(entries)


def gitsync_row(obj: Mapping[str, Any]) -> GitSyncRow:
    namespace, name, created = common.meta(obj)
    spec, status = common.mapping(obj.get("spec")), common.mapping(obj.get("status"))
    ready = common.condition(obj)
    suspended = spec.get("suspend") is True
    entries, count = _inventory(status)
    return GitSyncRow(
        namespace=namespace, name=name, created=created,
        url=common.display_url(spec.get("url")), ref=_ref(spec),
        path=common.text(spec.get("path"), limit=200) or ".",
        interval=common.text(spec.get("interval"), limit=32) or "5m",
        suspended=suspended, ready=ready,
        state=common.state_of(ready, reconciling=common.condition(obj, "Reconciling"),
                              suspended=suspended),
        applied_revision=common.text(status.get("lastAppliedRevision"), limit=120),
        attempted_revision=common.text(status.get("lastAttemptedRevision"), limit=120),
        inventory=entries, inventory_count=count, runs=history(status))


def seconds(value: object) -> float | None:
    """A duration as seconds: a number, or a Go-style string ("1.5s", "2m3s", "250ms")."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if value >= 0 else None
    if not isinstance(value, str) or len(value) > 40 or not _DURATION.match(value):
        return None
    return sum(float(n) * _UNIT_SECONDS[u] for n, u in _DURATION_PART.findall(value))


def _stages(value: object) -> tuple[Stage, ...]:
    """Stages as a [{name, durationSeconds}] list (what the controller writes, in the order
    reached) or a {name: duration} mapping; unreadable ones are dropped."""
    pairs: list[tuple[object, object]] = []
    if isinstance(value, Mapping):
        pairs = list(value.items())
    elif isinstance(value, list):
        for item in value[:MAX_STAGES]:
            stage = common.mapping(item)
            took = stage.get("durationSeconds", stage.get("duration"))
            pairs.append((stage.get("name"), took))
    found: dict[str, float] = {}
    for key, duration in pairs[:MAX_STAGES]:
        took = seconds(duration)
        if isinstance(key, str) and key and took is not None:
            found.setdefault(common.text(key, limit=32), took)
    return tuple(Stage(k, v) for k, v in found.items())


def _outcome(entry: Mapping[str, Any]) -> tuple[str, common.State]:
    """The run's outcome text and state: from `ready` (a bool, as the controller writes it),
    else from an outcome/status string."""
    ready = entry.get("ready")
    if isinstance(ready, bool):
        return ("Ready" if ready else "Not ready"), \
            (common.State.OK if ready else common.State.FAILED)
    outcome = common.text(entry.get("outcome") or entry.get("lastReconciledStatus")
                          or entry.get("status"), limit=80)
    if not outcome:
        return "", common.State.UNKNOWN
    return outcome, (common.State.OK if outcome.lower() in _OK_OUTCOMES
                     else common.State.FAILED)


def _run(entry: Mapping[str, Any]) -> Run:
    """One history entry, read leniently: the controller writes {revision, reason, ready,
    time, durationSeconds, stages}; Flux-shaped entries (lastReconciledStatus, ...) and
    {outcome, duration} are read as well."""
    revision = (entry.get("revision") or common.mapping(entry.get("metadata")).get("revision")
                or entry.get("digest"))
    outcome, state = _outcome(entry)
    finished = None
    for key in ("time", "finishedAt", "lastReconciled", "startedAt"):
        finished = finished or common.parse_time(entry.get(key))
    took = None
    for key in ("durationSeconds", "duration", "lastReconciledDuration"):
        took = took if took is not None else seconds(entry.get(key))
    return Run(revision=common.text(revision, limit=120), outcome=outcome,
               reason=common.text(entry.get("reason"), limit=80), seconds=took,
               finished=finished, state=state, stages=_stages(entry.get("stages")))


def history(status: Mapping[str, Any]) -> tuple[Run, ...]:
    """The last runs from `status.history`, newest first; () when there is none."""
    entries = status.get("history")
    if not isinstance(entries, list):
        return ()
    runs = [_run(entry) for entry in entries if isinstance(entry, Mapping)]
    oldest = datetime.datetime.min.replace(tzinfo=datetime.UTC)
    runs.sort(key=lambda r: r.finished or oldest, reverse=True)
    return tuple(runs[:MAX_RUNS])


def sealed_secret_row(obj: Mapping[str, Any]) -> SealedSecretRow:
    namespace, name, created = common.meta(obj)
    spec, status = common.mapping(obj.get("spec")), common.mapping(obj.get("status"))
    encrypted = common.mapping(spec.get("encryptedData"))
    ready = common.condition(obj)
    updated = None
    for cond in _list(status.get("conditions")):
        if isinstance(cond, Mapping) and cond.get("type") == "Ready":
            updated = common.parse_time(cond.get("lastUpdateTime"))
    group = common.text(obj.get("apiVersion"), limit=80).partition("/")[0]
    return SealedSecretRow(
        group=group, namespace=namespace, name=name, created=created, ready=ready,
        state=common.state_of(ready), key_id=common.text(status.get("keyId"), limit=64),
        items=tuple(sorted(common.text(k, limit=253) for k in encrypted)),
        updated=updated or (ready.since if ready else None))


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _paths(spec: Mapping[str, Any]) -> tuple[str, ...]:
    found: list[str] = []
    for item in _list(spec.get("data")):
        ref = common.mapping(common.mapping(item).get("remoteRef"))
        prop = common.text(ref.get("property"), limit=100)
        path = common.text(ref.get("path"), limit=200)
        if path:
            found.append(f"{path}#{prop}" if prop else path)
    for item in _list(spec.get("dataFrom")):
        path = common.text(common.mapping(item).get("path"), limit=200)
        if path:
            found.append(f"{path} (all keys)")
    return tuple(found)


def vault_secret_row(obj: Mapping[str, Any]) -> VaultSecretRow:
    namespace, name, created = common.meta(obj)
    spec, status = common.mapping(obj.get("spec")), common.mapping(obj.get("status"))
    store = common.mapping(spec.get("storeRef"))
    target = common.mapping(spec.get("target"))
    ready = common.condition(obj)
    return VaultSecretRow(
        namespace=namespace, name=name, created=created,
        store=f"{common.text(store.get('kind'), limit=40) or 'VaultStore'} "
              f"{common.text(store.get('name'), limit=253)}",
        refresh_interval=common.text(spec.get("refreshInterval"), limit=32) or "1h",
        target=common.text(target.get("name"), limit=253) or name,
        paths=_paths(spec), ready=ready, state=common.state_of(ready),
        refreshed=common.parse_time(status.get("refreshTime")))


def store_row(obj: Mapping[str, Any]) -> StoreRow:
    namespace, name, created = common.meta(obj)
    spec = common.mapping(obj.get("spec"))
    auth = common.mapping(spec.get("auth"))
    kv = common.mapping(spec.get("kv"))
    methods = [m for m in ("token", "kubernetes", "appRole") if m in auth]
    version = common.text(kv.get("version"), limit=4) or "2"
    ready = common.condition(obj)
    return StoreRow(
        kind=common.text(obj.get("kind"), limit=40), namespace=namespace, name=name,
        created=created, server=common.display_url(spec.get("server")),
        auth=", ".join(methods) or "-",
        mount=f"{common.text(kv.get('mount'), limit=100) or 'secret'} (KV v{version})",
        path_prefix=common.text(spec.get("pathPrefix"), limit=200), ready=ready,
        state=common.state_of(ready))


def event_row(obj: Mapping[str, Any]) -> EventRow:
    involved = common.mapping(obj.get("involvedObject"))
    when = None
    for key in ("lastTimestamp", "eventTime", "firstTimestamp"):
        when = when or common.parse_time(obj.get(key))
    count = obj.get("count")
    return EventRow(
        time=when or common.meta(obj)[2], type=common.text(obj.get("type"), limit=20),
        reason=common.text(obj.get("reason"), limit=80),
        kind=common.text(involved.get("kind"), limit=40),
        namespace=common.text(involved.get("namespace"), limit=63),
        name=common.text(involved.get("name"), limit=253),
        message=common.text(obj.get("message"), limit=1024),
        count=count if isinstance(count, int) and not isinstance(count, bool) else 1)
