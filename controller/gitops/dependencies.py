"""Is every GitSync this one depends on Ready at its current revision? Cycles are reported.

A dependency is ready (Flux's rule) when it exists, is not being deleted, its status speaks for
its current generation (`observedGeneration == metadata.generation`), its `Ready` condition is
True, and it applied the revision it last attempted (`lastAppliedRevision ==
lastAttemptedRevision`, both set). Until then the dependent does nothing (no fetch, no apply,
no prune) and reports Ready=False `DependencyNotReady` naming the first dependency that is not;
the reconciler runs it again after `REQUEUE_S`.

Cycles: before the readiness check the graph reachable from this GitSync is walked through the
dependencies' specs (at most `MAX_VISITED` GitSyncs read per check). A path leading back to
this GitSync is reported as Ready=False `DependencyCycle` naming the cycle; nothing waits on
anything, so a cycle never deadlocks the scheduler (each member reports it on its own run).
A cycle further down that does not contain this GitSync shows here as a dependency that is
never ready.

GitSyncs are read with the controller's own client: a tenant's may only name GitSyncs in its
own namespace (`spec.check_references`), so nothing is read for a tenant that it could not
see in its namespace anyway. Pure apart from `read`, which tests pass as a function.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from controller.gitops import spec
from sealer import errors

__all__ = ["DEPENDENCY_CYCLE", "DEPENDENCY_NOT_READY", "MAX_VISITED", "REQUEUE_S", "Blocked",
           "check", "not_ready_because"]

DEPENDENCY_NOT_READY = "DependencyNotReady"
DEPENDENCY_CYCLE = "DependencyCycle"
REQUEUE_S = 5.0  # Flux: --requeue-dependency=30s; a read per waiting GitSync is cheap
MAX_VISITED = 256

Key = tuple[str, str]
Read = Callable[[Key], Mapping[str, Any] | None]


@dataclass(frozen=True)
class Blocked:
    """Why a GitSync may not run yet: `reason` is one of the two above."""

    reason: str
    message: str


def check(key: Key, depends_on: tuple[spec.ObjectRef, ...], *, read: Read,
          controller_namespace: str) -> Blocked | None:
    """None when every dependency is ready; else why not (a cycle first)."""
    if not depends_on:
        return None
    cache: dict[Key, Mapping[str, Any] | None] = {}

    def cached(k: Key) -> Mapping[str, Any] | None:
        if k not in cache:
            cache[k] = read(k)
        return cache[k]

    cycle = _cycle(key, [_key(ref, key) for ref in depends_on], read=cached,
                   admin=controller_namespace)
    if cycle is not None:
        path = " -> ".join(f"{ns}/{name}" for ns, name in cycle)
        return Blocked(DEPENDENCY_CYCLE, f"dependency cycle: {path}; nothing applied")
    for ref in depends_on:
        dep = _key(ref, key)
        why = not_ready_because(cached(dep))
        if why is not None:
            return Blocked(DEPENDENCY_NOT_READY,
                           f"dependency GitSync {dep[0]}/{dep[1]} is not ready ({why}); "
                           "waiting, nothing applied")
    return None


def not_ready_because(obj: Mapping[str, Any] | None) -> str | None:
    """None when `obj` (a GitSync) is ready at its current revision; else a short why."""
    if obj is None:
        return "not found"
    meta = obj.get("metadata") or {}
    if meta.get("deletionTimestamp"):
        return "being deleted"
    status = obj.get("status") or {}
    if status.get("observedGeneration") != meta.get("generation"):
        return "its current generation is not reconciled yet"
    ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
    if ready is None or ready.get("status") != "True":
        reason = str((ready or {}).get("reason") or "no Ready condition")[:64]
        return f"Ready is not True: {reason}"
    applied, attempted = status.get("lastAppliedRevision"), status.get("lastAttemptedRevision")
    if not applied or applied != attempted:
        return "its last attempted revision is not applied"
    return None


def _key(ref: spec.ObjectRef, owner: Key) -> Key:
    return (ref.namespace or owner[0], ref.name)


def _dependencies_of(obj: Mapping[str, Any] | None, key: Key, *, admin: str) -> list[Key]:
    """The dependencies a GitSync may declare (an unreadable spec declares none; a tenant's
    edges into other namespaces are refused by policy, so they are not followed either)."""
    if obj is None:
        return []
    try:
        parsed = spec.parse(obj.get("spec"), namespace=key[0])
    except errors.SealopsError:
        return []
    deps = [_key(ref, key) for ref in parsed.depends_on]
    return deps if key[0] == admin else [d for d in deps if d[0] == key[0]]


def _cycle(start: Key, first: list[Key], *, read: Read, admin: str) -> list[Key] | None:
    """A path start -> ... -> start through declared dependencies, or None (depth-first,
    iterative, bounded by `MAX_VISITED`)."""
    visited: set[Key] = set()
    stack: list[tuple[Key, list[Key]]] = [(dep, [start, dep]) for dep in reversed(first)]
    while stack:
        node, path = stack.pop()
        if node == start:
            return path
        if node in visited or len(visited) >= MAX_VISITED:
            continue
        visited.add(node)
        for dep in reversed(_dependencies_of(read(node), node, admin=admin)):
            stack.append((dep, [*path, dep]))
    return None
