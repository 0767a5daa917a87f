"""The inventory: which objects a GitSync applied, as kept in its status (like Flux's ssa).

An entry's id is Flux's `<namespace>_<name>_<group>_<kind>` (namespace empty for cluster-scoped
objects, group empty for the core group); `v` is the API version last applied. Identity is the
id alone, so a version bump is not a new object. Serialised as a sorted list of `{id, v}`.

Ownership: every applied object carries `plan.SYNC_LABEL` (`<namespace>.<name>` of its sync)
and `OWNER_UID_LABEL` (the GitSync's uid; `cli` for `sealops sync`), so a GitSync deleted and
re-created under the same name (perhaps from another URL), or a one-shot sync that shares a
GitSync's name, never takes over or prunes the other's objects (the applier refuses, the
pruner keeps). An object without the uid label (applied before it existed) is adopted.

Merge rules (HOSTILE-INPUTS K43, Flux #1664/#1665): the inventory records only confirmed
applies, and a stale entry whose prune failed stays in it, so the next reconcile retries it:

    after a failed reconcile   old.merge(applied)             (nothing pruned, nothing forgotten)
    after a good reconcile     applied.merge(failed_prunes)   (pruned and skipped entries drop)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from controller.apply import ordering
from sealer import errors

__all__ = ["CLI_OWNER_UID", "OWNER_UID_LABEL", "Entry", "Inventory", "diff", "foreign_owner"]

_SEPARATOR = "_"
OWNER_UID_LABEL = "sealops.dev/sync-uid"
CLI_OWNER_UID = "cli"


@dataclass(frozen=True, order=True)
class Entry:
    namespace: str
    name: str
    group: str
    kind: str
    version: str = field(compare=False)

    @property
    def id(self) -> str:
        return _SEPARATOR.join((self.namespace, self.name, self.group, self.kind))

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def __str__(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {where}"

    @classmethod
    def from_object(cls, obj: Mapping[str, Any]) -> Entry:
        api_version = str(obj["apiVersion"])
        metadata = obj["metadata"]
        return cls(
            namespace=str(metadata.get("namespace") or ""),
            name=str(metadata["name"]),
            group=ordering.group_of(api_version),
            kind=str(obj["kind"]),
            version=api_version.rpartition("/")[2],
        )

    @classmethod
    def from_id(cls, entry_id: str, version: str) -> Entry:
        """Parse an id. Namespaces, groups and kinds hold no `_`; a name may, so the name is
        whatever lies between the first field and the last two."""
        fields = entry_id.split(_SEPARATOR)
        if len(fields) < 4 or not fields[-1] or not version:
            raise errors.ManifestError(f"invalid inventory entry {entry_id[:200]!r}")
        name = _SEPARATOR.join(fields[1:-2])
        if not name:
            raise errors.ManifestError(f"invalid inventory entry {entry_id[:200]!r}")
        return cls(namespace=fields[0], name=name, group=fields[-2], kind=fields[-1],
                   version=version)


@dataclass(frozen=True)
class Inventory:
    """An immutable set of entries, unique by id, kept sorted by id."""

    entries: tuple[Entry, ...] = ()

    def __post_init__(self) -> None:
        unique = {entry.id: entry for entry in self.entries}
        object.__setattr__(self, "entries", tuple(unique[key] for key in sorted(unique)))

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, entry: object) -> bool:
        return isinstance(entry, Entry) and entry.id in self.ids()

    def ids(self) -> frozenset[str]:
        return frozenset(entry.id for entry in self.entries)

    @classmethod
    def from_objects(cls, objects: Iterable[Mapping[str, Any]]) -> Inventory:
        return cls(tuple(Entry.from_object(obj) for obj in objects))

    @classmethod
    def from_status(cls, items: object) -> Inventory:
        """Read `status.inventory.entries`; `None` is an empty inventory."""
        if items is None:
            return cls()
        if not isinstance(items, list):
            raise errors.ManifestError("inventory entries must be a list")
        entries: list[Entry] = []
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not (
                isinstance(item.get("v"), str)
            ):
                raise errors.ManifestError("inventory entries must be {id, v} string pairs")
            entries.append(Entry.from_id(item["id"], item["v"]))
        return cls(tuple(entries))

    def to_status(self) -> list[dict[str, str]]:
        return [{"id": entry.id, "v": entry.version} for entry in self.entries]

    def merge(self, other: Inventory | Iterable[Entry]) -> Inventory:
        """The union; on a shared id, `other`'s version wins."""
        extra = other.entries if isinstance(other, Inventory) else tuple(other)
        return Inventory(self.entries + extra)

    def without(self, removed: Iterable[Entry]) -> Inventory:
        gone = {entry.id for entry in removed}
        return Inventory(tuple(e for e in self.entries if e.id not in gone))


def foreign_owner(labels: Mapping[str, str], *, owner_uid: str | None) -> str | None:
    """The uid of another sync that owns an object with these labels, else None (ours, or
    applied before the uid label existed, or no uid to compare with)."""
    found = labels.get(OWNER_UID_LABEL)
    if owner_uid is None or found is None or found == owner_uid:
        return None
    return str(found)[:63]


def diff(old: Inventory, new: Inventory) -> list[Entry]:
    """Stale entries: in `old` but not in `new` (by id), in reverse apply order for pruning."""
    current = new.ids()
    stale = [entry for entry in old.entries if entry.id not in current]
    return sorted(stale, key=_prune_key, reverse=True)


def _prune_key(entry: Entry) -> tuple[int, int, str, str, str, str]:
    return ordering.sort_key(
        {"apiVersion": entry.api_version, "kind": entry.kind,
         "metadata": {"namespace": entry.namespace, "name": entry.name}}
    )
