"""Scope comes from the cluster; a CRD in the render may only add kinds (HOSTILE-INPUTS S18)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from controller.apply import plan, scope
from sealer import errors

SERVED = {("v1", "ConfigMap"): True, ("v1", "Namespace"): False,
          ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): False,
          ("apiextensions.k8s.io/v1", "CustomResourceDefinition"): False,
          ("example.com/v1", "Gadget"): True}


class FakeCluster:
    """Cluster facts as a dict (the real one is exercised by the integration tests)."""

    def __init__(self, crds: Mapping[str, Mapping[str, str]] | None = None) -> None:
        self.crds = dict(crds or {})

    def served_scope(self, api_version: str, kind: str) -> bool | None:
        return SERVED.get((api_version, kind))

    def builtin_groups(self) -> frozenset[str]:
        return frozenset({"", "rbac.authorization.k8s.io", "apiextensions.k8s.io",
                          "aggregated.example.org"})

    def crd_labels(self, name: str) -> Mapping[str, str] | None:
        return self.crds.get(name)

    def unserved_scope(self, api_version: str, kind: str) -> bool:
        raise errors.ManifestError(f"kind {kind} of {api_version} is not served")


def crd(group: str, kind: str, plural: str, *, scope_: str = "Namespaced",
        name: str | None = None) -> dict[str, Any]:
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": name or f"{plural}.{group}"},
            "spec": {"group": group, "scope": scope_, "versions": [{"name": "v1"}],
                     "names": {"kind": kind, "plural": plural}}}


def binding() -> dict[str, Any]:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": "pwn"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": "cluster-admin"}}


def make(objects: list[dict[str, Any]], *, admin: bool = False,
         cluster: FakeCluster | None = None) -> plan.Plan:
    policy = plan.SyncPolicy(sync_namespace="team", sync_name="apps", target_namespace="team",
                             allowed_namespaces=None if admin else frozenset({"team"}),
                             allow_cluster_scoped=admin, allow_crds=admin)
    return plan.plan(objects, policy=policy, cluster=cluster or FakeCluster())


@pytest.mark.parametrize("admin", [False, True])
def test_fake_crds_for_built_in_kinds_are_refused_naming_the_crd(admin: bool) -> None:
    objects = [crd("rbac.authorization.k8s.io", "ClusterRoleBinding", "clusterrolebindings"),
               crd("apiextensions.k8s.io", "CustomResourceDefinition",
                   "customresourcedefinitions"), binding()]
    with pytest.raises(errors.PolicyError, match=(
            r"CustomResourceDefinition clusterrolebindings\.rbac\.authorization\.k8s\.io: "
            r"group 'rbac\.authorization\.k8s\.io' is built into the cluster")):
        make(objects, admin=admin)


@pytest.mark.parametrize("group", ["apps", "storage.k8s.io", "aggregated.example.org"])
def test_no_crd_may_claim_a_built_in_or_aggregated_group(group: str) -> None:
    with pytest.raises(errors.PolicyError, match="built into the cluster"):
        make([crd(group, "Thing", "things", name=f"things.{group}")], admin=True)


def test_the_cluster_answers_for_a_kind_it_serves_whatever_a_render_crd_says() -> None:
    # Even without any CRD: the binding is cluster-scoped, so a tenant may not apply it.
    with pytest.raises(errors.PolicyError, match="ClusterRoleBinding pwn: cluster-scoped"):
        make([binding() | {"metadata": {"name": "pwn", "namespace": "team"}}])
    gadgets = crd("example.com", "Gadget", "gadgets", scope_="Cluster")
    planned = make([gadgets, {"apiVersion": "example.com/v1", "kind": "Gadget",
                              "metadata": {"name": "g"}}], admin=True,
                   cluster=FakeCluster({"gadgets.example.com": {plan.SYNC_LABEL: "team.apps"}}))
    gadget = next(o for o in planned.objects if o["kind"] == "Gadget")
    assert gadget["metadata"]["namespace"] == "team"  # served: Namespaced, as the cluster says


def test_a_tenant_gitsync_may_not_bring_crds_at_all() -> None:
    with pytest.raises(errors.PolicyError, match="may not apply CustomResourceDefinitions"):
        make([crd("widgets.example.com", "Widget", "widgets")])


def test_a_render_crd_describes_a_new_kind_of_its_own_group_only() -> None:
    widgets = crd("example.com", "Widget", "widgets", scope_="Cluster")
    planned = make([widgets, {"apiVersion": "example.com/v1", "kind": "Widget",
                              "metadata": {"name": "w", "namespace": "team"}}], admin=True)
    widget = next(o for o in planned.objects if o["kind"] == "Widget")
    assert "namespace" not in widget["metadata"]
    for unknown in ("other.example.com/v1", "example.com/v2"):  # other group, unlisted version
        with pytest.raises(errors.ManifestError, match="not served"):
            make([widgets, {"apiVersion": unknown, "kind": "Widget",
                            "metadata": {"name": "w"}}], admin=True)


def test_an_existing_crd_owned_by_someone_else_is_refused() -> None:
    widgets = crd("example.com", "Widget", "widgets")
    for labels in ({}, {plan.SYNC_LABEL: "other.sync"}):
        with pytest.raises(errors.PolicyError, match="already exists and is not managed"):
            make([widgets], admin=True, cluster=FakeCluster({"widgets.example.com": labels}))
    ours = FakeCluster({"widgets.example.com": {plan.SYNC_LABEL: "team.apps"}})
    assert make([widgets], admin=True, cluster=ours).objects


@pytest.mark.parametrize("change", [
    {"metadata": {"name": "clusterrolebindings.example.com"}},
    {"spec": {"group": "example.com", "scope": "namespaced",
              "names": {"kind": "Widget", "plural": "widgets"}}},
    {"spec": {"group": "example.com", "names": {"kind": "Widget"}}},
    {"metadata": {"name": "widgets."}, "spec": {"group": "", "scope": "Namespaced",
                                               "names": {"kind": "Widget", "plural": "widgets"}}},
    {"spec": "x"}])
def test_a_malformed_render_crd_is_refused(change: dict[str, Any]) -> None:
    with pytest.raises(errors.ManifestError, match="CustomResourceDefinition"):
        make([crd("example.com", "Widget", "widgets") | change], admin=True)


def test_offline_scope_keeps_built_in_kinds_and_lets_render_crds_add_new_ones() -> None:
    offline = scope.Offline(lambda _av, kind: kind != "ClusterRoleBinding")
    lookup = scope.resolver([crd("example.com", "Widget", "widgets", scope_="Cluster")],
                            cluster=offline, allow_crds=True, label="team.apps")
    assert not lookup("rbac.authorization.k8s.io/v1", "ClusterRoleBinding")
    assert not lookup("example.com/v1", "Widget")
    assert lookup("sealops.dev/v1alpha1", "SealedSecret")
