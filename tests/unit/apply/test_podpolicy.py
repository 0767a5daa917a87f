"""The opt-in policy refusing privileged Pods (--refuse-privileged-pods)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from controller.apply import plan, podpolicy, scope
from sealer import errors


def deployment(**pod: Any) -> dict[str, Any]:
    spec = {"containers": [{"name": "app", "image": "x"}], **pod}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "team"},
            "spec": {"template": {"spec": spec}}}


def cronjob(**pod: Any) -> dict[str, Any]:
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c"},
            "spec": {"jobTemplate": {"spec": {"template": {"spec": {
                "containers": [{"name": "app", "image": "x"}], **pod}}}}}}


HOSTILE = [
    ({"volumes": [{"name": "root", "hostPath": {"path": "/"}}]}, "volumes[root].hostPath"),
    ({"hostNetwork": True}, "hostNetwork"),
    ({"hostPID": True}, "hostPID"),
    ({"containers": [{"name": "app", "securityContext": {"privileged": True}}]},
     "containers[app].securityContext.privileged"),
    ({"initContainers": [{"name": "i", "securityContext": {"allowPrivilegeEscalation": True}}]},
     "initContainers[i].securityContext.allowPrivilegeEscalation"),
    ({"containers": [{"name": "app", "securityContext": {"capabilities": {
        "add": ["NET_BIND_SERVICE", "CAP_SYS_ADMIN"]}}}]}, "capabilities.add SYS_ADMIN"),
]


@pytest.mark.parametrize(("pod", "field"), HOSTILE)
def test_host_access_is_refused_naming_the_object_and_field(pod: dict[str, Any],
                                                            field: str) -> None:
    for obj in (deployment(**pod), cronjob(**pod)):
        with pytest.raises(errors.PolicyError, match=field.replace("[", r"\[").replace(
                "]", r"\]")):
            podpolicy.check(obj, what="X")


def test_an_ordinary_workload_and_other_kinds_pass() -> None:
    podpolicy.check(deployment(volumes=[{"name": "c", "configMap": {"name": "c"}}],
                               hostNetwork=False), what="X")
    podpolicy.check({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
                     "spec": {"hostNetwork": True}}, what="X")
    podpolicy.check({"apiVersion": "apps/v1", "kind": "Deployment", "spec": "junk"},
                    what="X")


def test_the_planner_applies_it_only_when_the_policy_asks() -> None:
    hostile = deployment(volumes=[{"name": "root", "hostPath": {"path": "/"}}])
    cluster = scope.Offline(lambda *_: True)
    base = plan.SyncPolicy(sync_namespace="team", sync_name="apps")
    assert plan.plan([copy.deepcopy(hostile)], policy=base, cluster=cluster).objects
    refusing = plan.SyncPolicy(sync_namespace="team", sync_name="apps",
                               refuse_privileged_pods=True)
    with pytest.raises(errors.PolicyError, match=r"Deployment team/web: spec\.template\.spec"):
        plan.plan([hostile], policy=refusing, cluster=cluster)
