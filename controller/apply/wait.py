"""Waiting for applied objects to be usable before the next stage is applied.

    prerequisites   a CustomResourceDefinition until `Established` is True, a Namespace
                    until its phase is `Active`
    secrets         a SealedSecret or VaultSecret until its `Ready` condition is True *for its
                    current generation* (`observedGeneration == metadata.generation`) and its
                    target Secret exists; a `Ready=False` for the current generation fails at
                    once, naming the object and the condition's reason (never its message)

Polling with a deadline (reads only). The target Secret of a SealedSecret has the SealedSecret's
name; a VaultSecret may name another in `spec.target.name`. A Secret is read only to learn
that it exists; its data is dropped at once and never logged.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent import futures
from typing import Any

from controller.apply import applier, inventory
from sealer import errors
from sealer.kube import client

__all__ = ["Clock", "SecretsNotReadyError", "WaitTimeoutError", "materialized",
           "prerequisites"]

READY, PENDING, FAILED = "ready", "pending", "failed"


class WaitTimeoutError(errors.ClusterError):
    reason = "WaitTimeout"


class SecretsNotReadyError(errors.ClusterError):
    """A secret-bearing object failed or did not become Ready in time."""

    reason = "SecretsFailed"

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclasses.dataclass(frozen=True)
class Clock:
    """Time for the waits: polls start after `interval` and back off by half up to
    `max_interval` (objects are usually ready within a few hundred milliseconds)."""

    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    interval: float = 0.05
    max_interval: float = 1.0

    def pause(self, round_: int) -> None:
        self.sleep(min(self.max_interval, self.interval * 1.5 ** min(round_, 32)))


DEFAULT_CLOCK = Clock()


def prerequisites(kube: client.KubeClient, applied: Sequence[applier.Applied], *,
                  deadline: float, clock: Clock = DEFAULT_CLOCK) -> None:
    """Wait until every applied CRD is Established and every Namespace Active."""
    pending = [a for a in applied if a.entry.kind in ("CustomResourceDefinition", "Namespace")]
    for item in pending:
        kind = item.entry.kind
        if _usable(kind, item.after):
            continue
        res = kube.resource(item.entry.api_version, kind)
        _until(functools.partial(_live_usable, kube, res, item.entry), deadline=deadline,
               clock=clock, what=str(item.entry))
    if any(a.entry.kind == "CustomResourceDefinition" for a in pending):
        kube.forget_discovery()


def _live_usable(kube: client.KubeClient, res: client.Resource,
                 entry: inventory.Entry) -> bool:
    return _usable(entry.kind, kube.get(res, entry.name))


def _usable(kind: str, obj: Mapping[str, Any] | None) -> bool:
    if not obj:
        return False
    status = obj.get("status") or {}
    if kind == "Namespace":
        return bool(status.get("phase") == "Active")
    return any(c.get("type") == "Established" and c.get("status") == "True"
               for c in status.get("conditions") or [])


def _until(check: Callable[[], bool], *, deadline: float, clock: Clock, what: str) -> None:
    rounds = 0
    while not check():
        if clock.monotonic() >= deadline:
            raise WaitTimeoutError(f"timed out waiting for {what} to become usable")
        clock.pause(rounds)
        rounds += 1


def materialized(kube: client.KubeClient, applied: Sequence[applier.Applied], *,
                 deadline: float, workers: int = 4, clock: Clock = DEFAULT_CLOCK) -> None:
    """Wait until every secret-bearing object is Ready at its generation and its Secret exists.

    Raises `SecretsNotReadyError` naming the first failed (or, at the deadline, still pending)
    object in apply order.
    """
    states: dict[int, tuple[str, str]] = {}
    seen: dict[int, Mapping[str, Any]] = {i: a.after for i, a in enumerate(applied)}
    with futures.ThreadPoolExecutor(max_workers=workers,
                                    thread_name_prefix="sealops-wait") as pool:
        rounds = 0
        while True:
            todo = [i for i in range(len(applied)) if states.get(i, (PENDING,))[0] != READY]
            if not todo:
                return
            checked = pool.map(lambda i: _state(kube, applied[i], seen.pop(i, None)), todo)
            states.update(zip(todo, checked, strict=True))
            failed = [i for i in todo if states[i][0] == FAILED]
            if failed:
                item = applied[failed[0]]
                raise SecretsNotReadyError(f"{item.entry} is not ready: {states[failed[0]][1]}")
            if all(states[i][0] == READY for i in todo):
                return
            if clock.monotonic() >= deadline:
                first = next(i for i in todo if states[i][0] != READY)
                raise SecretsNotReadyError(
                    f"timed out waiting for {applied[first].entry}: {states[first][1]}")
            clock.pause(rounds)
            rounds += 1


def _state(kube: client.KubeClient, item: applier.Applied,
           seen: Mapping[str, Any] | None) -> tuple[str, str]:
    """(READY | PENDING | FAILED, what is awaited or the failed Ready condition's reason)."""
    obj = seen
    if obj is None or "status" not in obj:
        res = kube.resource(item.entry.api_version, item.entry.kind)
        obj = kube.get(res, item.entry.name, namespace=item.entry.namespace or None)
        if obj is None:
            return PENDING, f"{item.entry} does not exist"
    generation = obj["metadata"].get("generation")
    cond = ready_condition(obj)
    if cond is None:
        return PENDING, f"no Ready condition for generation {generation} yet"
    if cond.get("status") != "True":
        return FAILED, str(cond.get("reason") or "NotReady")[:100]
    name = target_secret(item.entry.kind, obj)
    if kube.get(client.SECRETS, name, namespace=item.entry.namespace or None) is None:
        return PENDING, f"Secret {item.entry.namespace}/{name} does not exist yet"
    return READY, ""


def ready_condition(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The Ready condition if it speaks for the object's current generation."""
    generation = obj["metadata"].get("generation")
    status = obj.get("status") or {}
    for cond in status.get("conditions") or []:
        if cond.get("type") != "Ready":
            continue
        observed = cond.get("observedGeneration", status.get("observedGeneration"))
        return cond if observed == generation else None
    return None


def target_secret(kind: str, obj: Mapping[str, Any]) -> str:
    """The name of the Secret a SealedSecret or VaultSecret (`kind`) materializes."""
    spec = obj.get("spec") or {}
    target = spec.get("target") if isinstance(spec, dict) else None
    if kind == "VaultSecret" and isinstance(target, dict) and \
            isinstance(target.get("name"), str) and target["name"]:
        return str(target["name"])
    return str(obj["metadata"]["name"])

