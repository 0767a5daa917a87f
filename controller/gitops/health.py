"""Health after apply: wait until named or applied objects are Ready by kstatus rules.

Asked by `pipeline.run` after apply and prune when a GitSync has `spec.wait: true` (every
applied object) or `spec.healthChecks` (the named ones; a namespaced kind without a namespace
means the sync's target namespace). Rules, per kind (`state_of`):

    apps/v1 Deployment          status.observedGeneration >= generation, updatedReplicas and
                                availableReplicas == spec.replicas (default 1), no old replicas
                                left (status.replicas == updatedReplicas); the Progressing
                                condition with reason ProgressDeadlineExceeded fails at once
    batch/v1 Job                condition Complete True; condition Failed True fails at once
    CustomResourceDefinition    condition Established True
    Namespace                   phase Active
    GitSync                     Ready at its current revision (`dependencies.not_ready_because`)
    other sealops.dev kinds     condition Ready True for the current generation
    anything else               exists

Every read goes through the sync's client (`kube`, impersonating the GitSync's ServiceAccount),
so a health check never sees what the tenant's account may not read. Polls until `deadline`
(the GitSync's `spec.timeout` from the end of apply), then `HealthCheckError` naming the first
object that is not ready and why (counts and reasons only, never a field value).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from controller.apply import wait
from controller.gitops import dependencies, spec
from sealer import errors
from sealer.kube import client
from sealer.kube import errors as kerrors

__all__ = ["FAILED", "HEALTH_CHECK_FAILED", "PENDING", "READY", "HealthCheckError", "await_ready",
           "state_of"]

HEALTH_CHECK_FAILED = "HealthCheckFailed"
READY, PENDING, FAILED = wait.READY, wait.PENDING, wait.FAILED
State = tuple[str, str]


class HealthCheckError(errors.ClusterError):
    reason = HEALTH_CHECK_FAILED


def await_ready(kube: client.KubeClient, targets: Sequence[spec.ObjectRef], *,
                deadline: float, namespace: str, allow_cluster_scoped: bool,
                clock: wait.Clock = wait.DEFAULT_CLOCK) -> None:
    """Return once every target is ready; `HealthCheckError` on a failure or at `deadline`.
    `namespace`: where a namespaced target naming none lives; `allow_cluster_scoped`: False
    for a tenant's sync, whose cluster-scoped targets fail at once."""
    todo = list(dict.fromkeys(targets))
    rounds = 0
    while todo:
        states = {ref: _read_state(kube, ref, namespace=namespace,
                                   allow_cluster_scoped=allow_cluster_scoped) for ref in todo}
        failed = next((ref for ref in todo if states[ref][0] == FAILED), None)
        if failed is not None:
            raise HealthCheckError(f"health check failed: {failed}: {states[failed][1]}")
        todo = [ref for ref in todo if states[ref][0] != READY]
        if not todo:
            return
        if clock.monotonic() >= deadline:
            first = todo[0]
            more = f" (and {len(todo) - 1} more)" if len(todo) > 1 else ""
            raise HealthCheckError(f"health check failed: {first} not ready within the "
                                   f"timeout: {states[first][1]}{more}")
        clock.pause(rounds)
        rounds += 1


def _read_state(kube: client.KubeClient, ref: spec.ObjectRef, *, namespace: str,
                allow_cluster_scoped: bool) -> State:
    try:
        res = kube.resource(ref.api_version, ref.kind)
        if not res.namespaced and not allow_cluster_scoped:
            return FAILED, "cluster-scoped; a tenant's GitSync may only check its own namespace"
        obj = kube.get(res, ref.name, namespace=(ref.namespace or namespace)
                       if res.namespaced else None)
    except kerrors.ApiError as exc:
        if exc.status == 403:  # the account may not read it: waiting would never help
            return FAILED, "the GitSync's account may not read it (Forbidden)"
        return PENDING, f"cannot be read ({exc.reason})"
    except errors.ClusterError as exc:
        return PENDING, f"cannot be read ({exc.reason})"
    if obj is None:
        return PENDING, "does not exist"
    return state_of(ref.api_version, ref.kind, obj)


def state_of(api_version: str, kind: str, obj: Mapping[str, Any]) -> State:
    """(READY | PENDING | FAILED, why) for one live object, by the rules above."""
    group = api_version.rpartition("/")[0]
    rule = _RULES.get((group, kind))
    if rule is not None:
        return rule(obj)
    if group == "sealops.dev":
        cond = wait.ready_condition(obj)
        if cond is not None and cond.get("status") == "True":
            return READY, ""
        return PENDING, "no Ready=True condition for its current generation"
    return READY, ""


def _namespace(obj: Mapping[str, Any]) -> State:
    phase = (obj.get("status") or {}).get("phase")
    return (READY, "") if phase == "Active" else (PENDING, "phase is not Active")


def _gitsync(obj: Mapping[str, Any]) -> State:
    why = dependencies.not_ready_because(obj)
    return (READY, "") if why is None else (PENDING, why)


def _conditions(obj: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {str(c.get("type")): c for c in (obj.get("status") or {}).get("conditions") or []
            if isinstance(c, Mapping)}


def _condition(obj: Mapping[str, Any], kind: str) -> State:
    if _conditions(obj).get(kind, {}).get("status") == "True":
        return READY, ""
    return PENDING, f"condition {kind} is not True"


def _count(status: Mapping[str, Any], key: str) -> int:
    value = status.get(key, 0)
    return value if isinstance(value, int) else 0


def _deployment(obj: Mapping[str, Any]) -> State:
    status = obj.get("status") or {}
    generation = obj["metadata"].get("generation")
    observed = status.get("observedGeneration")
    if not isinstance(observed, int) or not isinstance(generation, int) or \
            observed < generation:
        return PENDING, "the Deployment controller has not observed its generation yet"
    progressing = _conditions(obj).get("Progressing", {})
    if progressing.get("reason") == "ProgressDeadlineExceeded":
        return FAILED, "progress deadline exceeded"
    replicas = (obj.get("spec") or {}).get("replicas", 1)
    wanted = replicas if isinstance(replicas, int) else 1
    updated, available = _count(status, "updatedReplicas"), _count(status, "availableReplicas")
    if updated < wanted:
        return PENDING, f"{updated}/{wanted} replicas updated"
    if _count(status, "replicas") > updated:
        return PENDING, f"{_count(status, 'replicas') - updated} old replicas pending termination"
    if available < wanted:
        return PENDING, f"{available}/{wanted} replicas available"
    return READY, ""


def _job(obj: Mapping[str, Any]) -> State:
    conditions = _conditions(obj)
    if conditions.get("Failed", {}).get("status") == "True":
        return FAILED, "the Job failed"
    if conditions.get("Complete", {}).get("status") == "True":
        return READY, ""
    return PENDING, "the Job is not complete"


_RULES: dict[tuple[str, str], Callable[[Mapping[str, Any]], State]] = {
    ("apps", "Deployment"): _deployment,
    ("batch", "Job"): _job,
    ("apiextensions.k8s.io", "CustomResourceDefinition"):
        lambda obj: _condition(obj, "Established"),
    ("", "Namespace"): _namespace,
    ("sealops.dev", "GitSync"): _gitsync,
}
