"""One sync of one source, stage by stage; shared by the controller and `sealops sync/diff`.

    fetch      the caller's `fetch()` gives a checkout        FetchFailed (PolicyViolation when
                                                              the source itself is refused)
    render     `render.render` of `path`                      RenderFailed
    plan       `plan.plan` against the policy                 PolicyViolation / RenderFailed
    apply      stage 0 (CRDs, Namespaces), then wait usable   ApplyFailed
               stage 1 (SealedSecret, VaultSecret), then wait
               Ready at generation + Secret exists            SecretsFailed
               stamp opted-in workloads with the keyed hash   ApplyFailed
               of their Secrets (`controller.rollout.stamp`)
               stage 2 in kind-order waves                    ApplyFailed
    prune      previous inventory minus new (`prune`)         PruneFailed
               more than half of it, or after a history       PruneBlocked (applied, nothing
               rewrite, without confirmation (`prune.Guard`)  pruned, stale entries kept)
    health     `health_checks` (and with `wait_for_all`       HealthCheckFailed (applied and
               every applied object) Ready by kstatus rules   pruned; the new inventory is
               within `timeout` (`controller.gitops.health`)  kept, the revision not applied)
    done                                                      Succeeded

`Outcome.stages` gives the seconds spent in each stage reached, in the order reached (fetch,
render, apply, secrets, prune; plan counts as apply, each wait as its stage), and
`Outcome.duration_s` the whole run, both by the injected clock: the metrics and the GitSync's
`status.history` are built from them.

Any failure stops the sync: nothing after it is applied, nothing is pruned, and the inventory
becomes `previous.merge(confirmed applies)` (HOSTILE-INPUTS K43). After a good apply it is
`planned.merge(failed prunes)`; without `prune` (or when the guard blocks it) every stale
entry stays in the inventory, so a later prune still finds it. With `rollouts` (the controller's
`controller.rollout.service.Rollout`), the opted-in stage-2 workloads are claimed from before
stage 1 until stage 2 is done: a Secret that changes meanwhile does not stamp them through the
patch path; the sync applies them with the new hash already in their pod template, so a commit
that changes a sealed secret and its Deployment rolls the Deployment once. When the sync stops
before stage 2 (a Secret failed to materialize), the changes held back are handed to the patch
path as the claim ends. Every object is labelled with
the sync's owner uid (`inventory.OWNER_UID_LABEL`) when the request has one. No kopf and no
status writes here: the caller reports the `Outcome`. Messages come from our errors (names,
paths, reasons; API text already scrubbed).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from controller import faults, render
from controller.apply import applier, inventory, ordering, plan, prune, scope, wait
from controller.gitops import health
from controller.gitops import spec as spec_mod
from controller.rollout import service as rollout
from controller.sources import git, history
from sealer import errors
from sealer.kube import client

__all__ = [
    "APPLY_FAILED", "DEFAULT_WORKERS", "FETCH_FAILED", "HEALTH_CHECK_FAILED",
    "POLICY_VIOLATION", "PRUNE_BLOCKED",
    "PRUNE_FAILED", "REASONS", "RENDER_FAILED", "SECRETS_FAILED", "SUCCEEDED", "Counts",
    "Outcome", "Request", "default_render", "run", "waves",
]

FETCH_FAILED = "FetchFailed"
RENDER_FAILED = "RenderFailed"
POLICY_VIOLATION = "PolicyViolation"
SECRETS_FAILED = "SecretsFailed"
APPLY_FAILED = "ApplyFailed"
PRUNE_FAILED = "PruneFailed"
PRUNE_BLOCKED = "PruneBlocked"
HEALTH_CHECK_FAILED = health.HEALTH_CHECK_FAILED
SUCCEEDED = "Succeeded"
REASONS = (FETCH_FAILED, RENDER_FAILED, POLICY_VIOLATION, SECRETS_FAILED, APPLY_FAILED,
           PRUNE_FAILED, PRUNE_BLOCKED, HEALTH_CHECK_FAILED, SUCCEEDED)
REWRITES = (history.REWRITTEN, history.UNVERIFIED)
_Guard = prune.Guard  # `Request.prune` (a flag) hides the module inside the class body
GITSYNC_CONFIRM_HINT = f"annotate the GitSync {prune.CONFIRM_ANNOTATION}={{sha}}"

DEFAULT_CLOCK = wait.DEFAULT_CLOCK
# Apply concurrency per wave: the API server, not the client, is the bottleneck beyond this.
DEFAULT_WORKERS = 8
Fetch = Callable[[], git.Checkout]
Render = Callable[[git.Checkout], list[dict[str, Any]]]


@dataclass(frozen=True)
class Request:
    policy: plan.SyncPolicy
    path: str = "."
    previous: inventory.Inventory = field(default_factory=inventory.Inventory)
    prune: bool = False
    timeout: float = 300.0
    dry_run: bool = False
    wait: bool = True
    workers: int = DEFAULT_WORKERS
    # Ownership and prune confirmation (issue 10 item 8): the owning GitSync's uid (or
    # `inventory.CLI_OWNER_UID`), the `sealops.dev/confirm-prune` value, the CLI's flag.
    owner_uid: str | None = None
    confirm_prune: str | None = None
    confirm_all_prunes: bool = False
    guard: _Guard = field(default_factory=_Guard)
    confirm_hint: str = GITSYNC_CONFIRM_HINT
    # Health after apply (issue 14 item 1): these objects, and with `wait_for_all` every
    # applied one, must become Ready within `timeout` of the end of apply.
    health_checks: tuple[spec_mod.ObjectRef, ...] = ()
    wait_for_all: bool = False


@dataclass(frozen=True)
class Counts:
    created: int = 0
    configured: int = 0
    unchanged: int = 0
    pruned: int = 0
    writes: int = 0

    def __str__(self) -> str:
        return (f"{self.created} created, {self.configured} configured, "
                f"{self.unchanged} unchanged, {self.pruned} pruned")


@dataclass(frozen=True)
class Outcome:
    reason: str
    message: str
    revision: str | None
    inventory: inventory.Inventory
    counts: Counts = Counts()
    retryable: bool = False
    applied: tuple[applier.Applied, ...] = ()
    pruned: prune.Result = field(default_factory=prune.Result)
    ancestry: str | None = None  # `history.*` against the last applied revision, if checked
    stages: tuple[tuple[str, float], ...] = ()  # (stage, seconds) in the order reached
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.reason == SUCCEEDED


class _Timer:
    """Seconds per stage, summed over the stage's parts (apply runs before and after secrets)."""

    def __init__(self, clock: wait.Clock) -> None:
        self._clock = clock
        self._started = clock.monotonic()
        self._spent: dict[str, float] = {}

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = self._clock.monotonic()
        try:
            yield
        finally:
            spent = self._clock.monotonic() - started
            self._spent[name] = self._spent.get(name, 0.0) + spent

    def stamp(self, outcome: Outcome) -> Outcome:
        return dataclasses.replace(outcome, stages=tuple(self._spent.items()),
                                   duration_s=self._clock.monotonic() - self._started)


class _Failed(Exception):
    def __init__(self, reason: str, exc: errors.SealopsError) -> None:
        super().__init__(str(exc))
        self.reason = reason
        self.exc = exc


def default_render(path: str) -> Render:
    return lambda checkout: render.render(checkout.root, path=path)


def run(fetch: Fetch, request: Request, *, kube: client.KubeClient,
        render_objects: Render | None = None, checkpoint: applier.Checkpoint | None = None,
        clock: wait.Clock = DEFAULT_CLOCK, cluster: scope.Cluster | None = None,
        rollouts: rollout.Rollout | None = None) -> Outcome:
    """Run every stage once (see the module docstring); never raises a `SealopsError`.

    `kube` does every read and write of the sync (an impersonating client for a GitSync with a
    ServiceAccount); `cluster` answers how kinds are scoped (default: discovery through `kube`).
    """
    label = plan.sync_label_value(request.policy.sync_namespace, request.policy.sync_name)
    engine = applier.Applier(kube, label=label, workers=request.workers,
                             dry_run=request.dry_run, checkpoint=checkpoint,
                             owner_uid=request.owner_uid)
    deadline = clock.monotonic() + request.timeout
    timer = _Timer(clock)
    checkout: git.Checkout | None = None
    try:
        with timer.stage("fetch"):
            checkout = _stage(FETCH_FAILED, fetch)
        assert checkout is not None
        with timer.stage("render"):
            objects = _stage(RENDER_FAILED, lambda: (render_objects or default_render(
                request.path))(checkout))
        with timer.stage("apply"):
            planned = _stage(APPLY_FAILED, lambda: plan.plan(
                objects, policy=request.policy, cluster=cluster or scope.Live(kube)))
            _label_owner(planned, owner_uid=request.owner_uid)
        _apply(engine, kube, planned, request=request, deadline=deadline, clock=clock,
               timer=timer, rollouts=None if request.dry_run else rollouts)
        with timer.stage("prune"):
            pruned = _prune(kube, planned, request=request, checkout=checkout)
    except _Failed as failed:
        return timer.stamp(_failure(failed, checkout=checkout, request=request, engine=engine))
    done = _success(checkout, planned, engine=engine, pruned=pruned, request=request)
    return timer.stamp(_health(kube, planned, done, request=request, clock=clock, timer=timer))


def _health(kube: client.KubeClient, planned: plan.Plan, done: Outcome, *, request: Request,
            clock: wait.Clock, timer: _Timer) -> Outcome:
    """The outcome after the health stage: a success becomes HealthCheckFailed when a target
    is not Ready within the timeout (objects stay applied, the inventory is the new one)."""
    targets = list(request.health_checks)
    if request.wait_for_all:
        targets = [_ref(obj) for obj in planned.objects] + targets
    if not done.ok or request.dry_run or not targets:
        return done
    policy = request.policy
    try:
        with timer.stage("health"):  # a stage of its own only when there is something to wait for
            health.await_ready(kube, targets, deadline=clock.monotonic() + request.timeout,
                               namespace=policy.target_namespace or policy.sync_namespace,
                               allow_cluster_scoped=policy.allow_cluster_scoped, clock=clock)
    except health.HealthCheckError as exc:
        return dataclasses.replace(done, reason=HEALTH_CHECK_FAILED, retryable=True,
                                   message=f"{done.message}; {exc}")
    return done


def _ref(obj: dict[str, Any]) -> spec_mod.ObjectRef:
    meta = obj["metadata"]
    return spec_mod.ObjectRef(name=meta["name"], namespace=meta.get("namespace") or None,
                              api_version=obj["apiVersion"], kind=obj["kind"])


def _label_owner(planned: plan.Plan, *, owner_uid: str | None) -> None:
    if owner_uid is None:
        return
    for obj in planned.objects:
        obj["metadata"]["labels"][inventory.OWNER_UID_LABEL] = owner_uid


def _stage(reason: str, call: Callable[[], Any]) -> Any:
    """Run one stage; a refusal by policy (a plaintext Secret, a namespace, a refused source
    URL or an oversized checkout) is PolicyViolation and an invalid object RenderFailed,
    whatever the stage; any other error gets the stage's `reason`."""
    try:
        return call()
    except errors.PolicyError as exc:
        raise _Failed(POLICY_VIOLATION, exc) from None
    except errors.ManifestError as exc:
        raise _Failed(RENDER_FAILED, exc) from None
    except errors.SealopsError as exc:
        raise _Failed(reason, exc) from None


def _apply(engine: applier.Applier, kube: client.KubeClient, planned: plan.Plan, *,
           request: Request, deadline: float, clock: wait.Clock, timer: _Timer,
           rollouts: rollout.Rollout | None) -> None:
    prerequisites, secrets, workloads = planned.stages
    waiting = request.wait and not request.dry_run
    with timer.stage("apply"):
        done = _stage(APPLY_FAILED, lambda: engine.apply(prerequisites))
        if waiting:
            _stage(APPLY_FAILED, lambda: wait.prerequisites(kube, done, deadline=deadline,
                                                            clock=clock))
    claim = rollouts.claim(workloads) if rollouts is not None else contextlib.nullcontext(None)
    with claim as held:
        with timer.stage("secrets"):
            done = _stage(SECRETS_FAILED, lambda: engine.apply(secrets))
            if waiting:
                _stage(SECRETS_FAILED, lambda: wait.materialized(
                    kube, done, deadline=deadline, workers=request.workers, clock=clock))
        with timer.stage("apply"):
            faults.delay("gitops.before-stamp")
            if rollouts is not None and held is not None:
                _stage(APPLY_FAILED, lambda: rollouts.stamp(list(workloads), kube=kube,
                                                            claim=held))
            for wave in waves(workloads):
                _stage(APPLY_FAILED, functools.partial(engine.apply, wave))


def waves(objects: Sequence[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """Consecutive runs of one kind (objects come in `ordering` order): each run is applied
    concurrently, and the next kind starts only when the previous one is done."""
    current: list[dict[str, Any]] = []
    for obj in objects:
        if current and ordering.sort_key(current[0])[:4] != ordering.sort_key(obj)[:4]:
            yield current
            current = []
        current.append(obj)
    if current:
        yield current


def _prune(kube: client.KubeClient, planned: plan.Plan, *, request: Request,
           checkout: git.Checkout) -> prune.Result:
    if not request.prune:
        return prune.Result()
    stale = inventory.diff(request.previous, planned.inventory)
    confirmed = request.confirm_all_prunes or prune.confirms(request.confirm_prune,
                                                             revision=checkout.revision)
    guard = dataclasses.replace(request.guard, confirmed=confirmed,
                                rewritten=checkout.ancestry in REWRITES)
    result: prune.Result = _stage(PRUNE_FAILED, lambda: prune.prune(
        kube, stale, policy=request.policy, inventory_size=len(request.previous),
        dry_run=request.dry_run, owner_uid=request.owner_uid, guard=guard))
    return result


def _counts(engine: applier.Applier, pruned: prune.Result) -> Counts:
    actions = [a.action for a in engine.applied]
    return Counts(created=actions.count(applier.CREATED),
                  configured=actions.count(applier.CONFIGURED),
                  unchanged=actions.count(applier.UNCHANGED), pruned=len(pruned.deleted),
                  writes=engine.writes)


def _failure(failed: _Failed, *, checkout: git.Checkout | None, request: Request,
             engine: applier.Applier) -> Outcome:
    confirmed = [a.entry for a in engine.applied]
    stage = {FETCH_FAILED: "fetch", RENDER_FAILED: "render", POLICY_VIOLATION: "policy",
             SECRETS_FAILED: "secrets", APPLY_FAILED: "apply", PRUNE_FAILED: "prune"}
    message = f"{stage[failed.reason]} failed: {failed}"
    kept = request.previous if request.dry_run else request.previous.merge(confirmed)
    return Outcome(reason=failed.reason, message=message,
                   revision=checkout.revision if checkout else None, inventory=kept,
                   counts=_counts(engine, prune.Result()), retryable=failed.exc.retryable,
                   applied=tuple(engine.applied),
                   ancestry=checkout.ancestry if checkout else None)


def _success(checkout: git.Checkout, planned: plan.Plan, *, engine: applier.Applier,
             pruned: prune.Result, request: Request) -> Outcome:
    revision = checkout.revision
    failed = [entry for entry, _ in pruned.failed]
    new = planned.inventory.merge(failed)
    if not request.prune or pruned.blocked is not None:
        new = new.merge(e for e in request.previous.entries if e.id not in new.ids())
    applied = f"Applied revision {revision}: {len(planned.inventory)} objects"
    done = Outcome(reason=SUCCEEDED, message=applied, revision=revision, inventory=new,
                   counts=_counts(engine, pruned), applied=tuple(engine.applied),
                   pruned=pruned, ancestry=checkout.ancestry)
    if pruned.blocked is not None:
        hint = request.confirm_hint.format(sha=revision.rpartition(":")[2])
        return dataclasses.replace(done, reason=PRUNE_BLOCKED, message=(
            f"{applied}; prune blocked: {pruned.blocked}; nothing was pruned "
            f"(to confirm, {hint})"))
    if failed:
        first, why = pruned.failed[0]
        more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        return dataclasses.replace(done, reason=PRUNE_FAILED, retryable=True,
                                   message=f"prune failed: {first}: {why}{more}")
    return done
