"""dependsOn, cycles and kstatus health rules (controller.gitops.dependencies, .health, .spec)."""

from __future__ import annotations

from typing import Any

import pytest

from controller.gitops import dependencies, health, spec
from sealer import errors

ADMIN = "sealops-system"
URL = "https://git.example/app.git"


def gitsync(ns: str, name: str, *, deps: list[dict[str, str]] | None = None,
            ready: bool = True, generation: int = 1, observed: int = 1,
            applied: str = "main@sha1:a", attempted: str = "main@sha1:a") -> dict[str, Any]:
    return {"metadata": {"namespace": ns, "name": name, "generation": generation},
            "spec": {"url": URL, **({"dependsOn": deps} if deps else {})},
            "status": {"observedGeneration": observed, "lastAppliedRevision": applied,
                       "lastAttemptedRevision": attempted,
                       "conditions": [{"type": "Ready", "status": "True" if ready else "False",
                                       "reason": "Succeeded" if ready else "ApplyFailed"}]}}


def reader(*objs: dict[str, Any]) -> dependencies.Read:
    table = {(o["metadata"]["namespace"], o["metadata"]["name"]): o for o in objs}
    return table.get


def check(obj: dict[str, Any], *others: dict[str, Any]) -> dependencies.Blocked | None:
    meta = obj["metadata"]
    parsed = spec.parse(obj["spec"], namespace=meta["namespace"])
    return dependencies.check((meta["namespace"], meta["name"]), parsed.depends_on,
                              read=reader(obj, *others), controller_namespace=ADMIN)


def test_a_gitsync_runs_once_every_dependency_is_ready_at_its_revision() -> None:
    app = gitsync("shop", "app", deps=[{"name": "infra"}, {"name": "db"}])
    assert check(app, gitsync("shop", "infra"), gitsync("shop", "db")) is None


@pytest.mark.parametrize(("dep", "why"), [
    (None, "not found"),
    (gitsync("shop", "infra", ready=False), "Ready is not True: ApplyFailed"),
    (gitsync("shop", "infra", generation=2), "generation is not reconciled"),
    (gitsync("shop", "infra", attempted="main@sha1:b"), "attempted revision is not applied"),
])
def test_a_dependency_not_ready_at_its_current_revision_blocks_naming_it(
        dep: dict[str, Any] | None, why: str) -> None:
    app = gitsync("shop", "app", deps=[{"name": "infra"}])
    blocked = check(app, *([dep] if dep else []))
    assert blocked is not None and blocked.reason == dependencies.DEPENDENCY_NOT_READY
    assert "GitSync shop/infra" in blocked.message and why in blocked.message


def test_a_cycle_is_reported_with_its_path_instead_of_waiting() -> None:
    a = gitsync("shop", "a", deps=[{"name": "b"}])
    b = gitsync("shop", "b", deps=[{"name": "c"}])
    c = gitsync("shop", "c", deps=[{"name": "a"}])
    blocked = check(a, b, c)
    assert blocked is not None and blocked.reason == dependencies.DEPENDENCY_CYCLE
    assert "shop/a -> shop/b -> shop/c -> shop/a" in blocked.message


def test_a_self_dependency_is_a_cycle() -> None:
    a = gitsync("shop", "a", deps=[{"name": "a"}])
    assert check(a).reason == dependencies.DEPENDENCY_CYCLE  # type: ignore[union-attr]


def test_a_cycle_below_that_excludes_this_gitsync_shows_as_a_dependency_not_ready() -> None:
    a = gitsync("shop", "a", deps=[{"name": "b"}])
    b = gitsync("shop", "b", deps=[{"name": "c"}], ready=False)
    c = gitsync("shop", "c", deps=[{"name": "b"}], ready=False)
    assert check(a, b, c).reason == dependencies.DEPENDENCY_NOT_READY  # type: ignore[union-attr]


def test_a_tenants_edge_into_another_namespace_is_not_followed_by_the_cycle_walk() -> None:
    a = gitsync("shop", "a", deps=[{"name": "b"}])
    b = gitsync("shop", "b", deps=[{"name": "a", "namespace": "other"}])
    planted = gitsync("other", "a", deps=[{"name": "a", "namespace": "shop"}])
    assert check(a, b, planted) is None


def test_a_tenant_may_only_depend_on_and_check_its_own_namespace() -> None:
    for field, item in (("dependsOn", {"name": "x", "namespace": "other"}),
                        ("healthChecks", {"apiVersion": "v1", "kind": "ConfigMap", "name": "x",
                                          "namespace": "other"})):
        parsed = spec.parse({"url": URL, field: [item]}, namespace="shop")
        with pytest.raises(errors.PolicyError, match=f"spec.{field} names"):
            spec.check_references(parsed, namespace="shop", name="app",
                                  controller_namespace=ADMIN)
        spec.check_references(parsed, namespace=ADMIN, name="platform",
                              controller_namespace=ADMIN)


def test_depends_on_and_health_checks_are_parsed_with_defaults() -> None:
    parsed = spec.parse({"url": URL, "wait": True, "dependsOn": [{"name": "infra"}],
                         "healthChecks": [{"apiVersion": "apps/v1", "kind": "Deployment",
                                           "name": "web"}]}, namespace="shop")
    assert parsed.depends_on == (spec.ObjectRef(name="infra", namespace="shop"),)
    assert parsed.wait
    assert parsed.health_checks == (spec.ObjectRef(name="web", api_version="apps/v1",
                                                   kind="Deployment"),)


@pytest.mark.parametrize(("field", "value", "match"), [
    ("dependsOn", {"name": "x"}, "list of mappings"),
    ("dependsOn", [{"name": "../x"}], r"dependsOn\[0\].name"),
    ("dependsOn", [{"name": f"x{i}"} for i in range(33)], "at most 32"),
    ("healthChecks", [{"apiVersion": "apps/v1", "name": "x"}], r"healthChecks\[0\].kind"),
    ("healthChecks", [{"apiVersion": "a b", "kind": "X", "name": "x"}], "apiVersion"),
    ("wait", "yes", "spec.wait"),
])
def test_malformed_dependencies_and_checks_are_refused_naming_the_field(
        field: str, value: object, match: str) -> None:
    with pytest.raises(errors.ManifestError, match=match):
        spec.parse({"url": URL, field: value})


def deployment(*, replicas: int = 2, generation: int = 3, **status: Any) -> dict[str, Any]:
    return {"metadata": {"generation": generation}, "spec": {"replicas": replicas},
            "status": status}


@pytest.mark.parametrize(("obj", "state"), [
    (deployment(observedGeneration=2, updatedReplicas=2, availableReplicas=2, replicas=2),
     health.PENDING),
    (deployment(observedGeneration=3, updatedReplicas=1, availableReplicas=1, replicas=2),
     health.PENDING),
    (deployment(observedGeneration=3, updatedReplicas=2, availableReplicas=2, replicas=3),
     health.PENDING),
    (deployment(observedGeneration=3, updatedReplicas=2, availableReplicas=1, replicas=2),
     health.PENDING),
    (deployment(observedGeneration=3, updatedReplicas=2, availableReplicas=2, replicas=2),
     health.READY),
    (deployment(observedGeneration=3, conditions=[
        {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]),
     health.FAILED),
])
def test_deployments_are_ready_when_the_rollout_is_complete_and_available(
        obj: dict[str, Any], state: str) -> None:
    assert health.state_of("apps/v1", "Deployment", obj)[0] == state


def test_jobs_crds_and_our_kinds_follow_their_conditions() -> None:
    def conds(*pairs: tuple[str, str]) -> dict[str, Any]:
        return {"metadata": {"generation": 1}, "status": {"conditions": [
            {"type": t, "status": s, "observedGeneration": 1} for t, s in pairs]}}
    assert health.state_of("batch/v1", "Job", conds(("Complete", "True")))[0] == health.READY
    assert health.state_of("batch/v1", "Job", conds(("Failed", "True")))[0] == health.FAILED
    assert health.state_of("batch/v1", "Job", conds())[0] == health.PENDING
    crd = "apiextensions.k8s.io/v1"
    assert health.state_of(crd, "CustomResourceDefinition",
                           conds(("Established", "True")))[0] == health.READY
    assert health.state_of(crd, "CustomResourceDefinition", conds())[0] == health.PENDING
    ours = "sealops.dev/v1alpha1"
    assert health.state_of(ours, "SealedSecret", conds(("Ready", "True")))[0] == health.READY
    assert health.state_of(ours, "SealedSecret", conds(("Ready", "False")))[0] == health.PENDING
    assert health.state_of("v1", "ConfigMap", {"metadata": {}})[0] == health.READY
