"""Apply planning: policy checks, namespace placement, labels and prune decisions."""

from __future__ import annotations

from typing import Any

import pytest

from controller.apply import inventory, plan, scope
from sealer import errors

CLUSTER_SCOPED = {"Namespace", "ClusterRole", "CustomResourceDefinition", "StorageClass"}


def is_namespaced(api_version: str, kind: str) -> bool:
    return kind not in CLUSTER_SCOPED


def obj(api_version: str, kind: str, name: str, namespace: str | None = None,
        **fields: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, **fields}


def policy(**kwargs: Any) -> plan.SyncPolicy:
    return plan.SyncPolicy(sync_namespace="team", sync_name="apps", **kwargs)


def make(objects: list[dict[str, Any]], **kwargs: Any) -> plan.Plan:
    return plan.plan(objects, policy=policy(**kwargs), cluster=scope.Offline(is_namespaced))


def test_every_object_gets_the_ownership_label_and_the_input_is_not_mutated() -> None:
    source = obj("v1", "ConfigMap", "cfg", "team", )
    source["metadata"]["labels"] = {"app": "web", plan.SYNC_LABEL: "someone.else"}
    result = make([source, obj("v1", "Namespace", "team")])
    for planned in result.objects:
        assert planned["metadata"]["labels"][plan.SYNC_LABEL] == "team.apps"
    assert source["metadata"]["labels"] == {"app": "web", plan.SYNC_LABEL: "someone.else"}


def test_namespaced_objects_without_a_namespace_get_the_target_namespace() -> None:
    result = make([obj("v1", "ConfigMap", "cfg"), obj("v1", "ConfigMap", "keep", "other")],
                  target_namespace="team")
    assert {o["metadata"]["name"]: o["metadata"]["namespace"] for o in result.objects} == {
        "cfg": "team", "keep": "other"}


def test_a_namespaced_object_without_namespace_or_target_is_refused() -> None:
    with pytest.raises(errors.ManifestError, match="ConfigMap cfg: a namespaced object"):
        make([obj("v1", "ConfigMap", "cfg")])


def test_cluster_scoped_objects_lose_a_stray_namespace() -> None:
    result = make([obj("rbac.authorization.k8s.io/v1", "ClusterRole", "r", "team")])
    assert "namespace" not in result.objects[0]["metadata"]
    assert result.inventory.to_status() == [{"id": "_r_rbac.authorization.k8s.io_ClusterRole",
                                             "v": "v1"}]


def test_objects_outside_the_allowed_namespaces_are_refused() -> None:
    allowed = frozenset({"team"})
    make([obj("v1", "ConfigMap", "cfg", "team")], allowed_namespaces=allowed)
    with pytest.raises(errors.PolicyError, match="namespace 'kube-system' is not allowed") as e:
        make([obj("v1", "ConfigMap", "cfg", "kube-system")], allowed_namespaces=allowed)
    assert e.value.reason == "PolicyViolation"
    with pytest.raises(errors.PolicyError, match="'elsewhere' is not allowed"):
        make([obj("v1", "ConfigMap", "cfg")], allowed_namespaces=allowed,
             target_namespace="elsewhere")


def test_namespace_objects_are_checked_against_the_allow_list() -> None:
    allowed = frozenset({"team"})
    make([obj("v1", "Namespace", "team")], allowed_namespaces=allowed,
         allow_cluster_scoped=False)
    with pytest.raises(errors.PolicyError, match="Namespace kube-system"):
        make([obj("v1", "Namespace", "kube-system")], allowed_namespaces=allowed)


def test_cluster_scoped_objects_can_be_forbidden() -> None:
    with pytest.raises(errors.PolicyError, match="cluster-scoped objects are not allowed"):
        make([obj("rbac.authorization.k8s.io/v1", "ClusterRole", "admin")],
             allow_cluster_scoped=False)


def test_invalid_namespaces_are_refused() -> None:
    with pytest.raises(errors.ManifestError, match="invalid namespace"):
        make([obj("v1", "ConfigMap", "cfg", "Bad_NS")])


def test_scope_of_custom_kinds_comes_from_crds_in_the_same_render() -> None:
    crd = obj("apiextensions.k8s.io/v1", "CustomResourceDefinition", "widgets.example.com",
              spec={"group": "example.com", "scope": "Cluster", "versions": [{"name": "v1"}],
                    "names": {"kind": "Widget", "plural": "widgets"}})
    result = make([crd, obj("example.com/v1", "Widget", "w", "team")], allow_crds=True)
    widget = next(o for o in result.objects if o["kind"] == "Widget")
    assert "namespace" not in widget["metadata"]


def test_a_plaintext_secret_is_refused_without_echoing_its_values() -> None:
    secret = obj("v1", "Secret", "db", "team", stringData={"password": "canary-hunter2"})
    with pytest.raises(errors.PolicyError, match="Secret team/db: plaintext Secret") as caught:
        make([secret])
    assert "canary" not in str(caught.value)
    with pytest.raises(errors.PolicyError):
        make([obj("v1", "Secret", "db", "team", data={"k": "Y2FuYXJ5"})])


def test_a_plaintext_secret_is_applied_only_when_explicitly_allowed() -> None:
    secret = obj("v1", "Secret", "db", "team", stringData={"password": "x"})
    assert make([secret], allow_plaintext_secrets=True).objects[0]["kind"] == "Secret"
    assert make([obj("v1", "Secret", "empty", "team", type="kubernetes.io/tls")]).objects


def test_service_account_token_secrets_are_always_refused() -> None:
    token = obj("v1", "Secret", "sa", "team", type=plan.SA_TOKEN_TYPE,
                metadata={"name": "sa", "namespace": "team",
                          "annotations": {"kubernetes.io/service-account.name": "default"}})
    with pytest.raises(errors.PolicyError, match="service-account-token"):
        make([token], allow_plaintext_secrets=True,
             allowed_secret_types=plan.DEFAULT_SECRET_TYPES | {plan.SA_TOKEN_TYPE})


def test_a_sealed_secret_whose_template_asks_for_a_token_type_is_refused() -> None:
    sealed = obj("sealops.dev/v1alpha1", "SealedSecret", "s", "team",
                 spec={"encryptedData": {}, "template": {"type": plan.SA_TOKEN_TYPE}})
    with pytest.raises(errors.PolicyError, match="SealedSecret team/s"):
        make([sealed])
    sealed["spec"]["template"]["type"] = "bootstrap.kubernetes.io/token"
    with pytest.raises(errors.PolicyError, match="is not allowed"):
        make([sealed])


def test_an_empty_render_is_refused_unless_allowed() -> None:
    with pytest.raises(errors.PolicyError, match="allowEmpty"):
        make([])
    assert make([], allow_empty=True).objects == ()


def test_the_same_object_twice_is_refused() -> None:
    with pytest.raises(errors.ManifestError, match="ConfigMap team/cfg is defined more than once"):
        make([obj("v1", "ConfigMap", "cfg", "team"), obj("v1", "ConfigMap", "cfg")],
             target_namespace="team")


def test_the_plan_is_staged_and_carries_its_inventory() -> None:
    result = make([
        obj("apps/v1", "Deployment", "web", "team"),
        obj("sealops.dev/v1alpha1", "SealedSecret", "db", "team", spec={}),
        obj("v1", "Namespace", "team"),
    ])
    assert [[o["kind"] for o in stage] for stage in result.stages] == [
        ["Namespace"], ["SealedSecret"], ["Deployment"]]
    assert len(result.inventory) == 3


def test_an_ownership_label_longer_than_63_characters_is_refused() -> None:
    with pytest.raises(errors.PolicyError, match="63"):
        plan.sync_label_value("team", "x" * 60)


def entry(name: str) -> inventory.Entry:
    return inventory.Entry.from_object(obj("v1", "ConfigMap", name, "team"))


OURS = {plan.SYNC_LABEL: "team.apps"}


def test_prune_only_deletes_objects_still_labelled_ours_and_not_protected() -> None:
    stale = [entry("ours"), entry("adopted"), entry("protected"), entry("gone")]
    live = {
        entry("ours").id: plan.LiveMeta(labels=OURS, annotations={}),
        entry("adopted").id: plan.LiveMeta(labels={plan.SYNC_LABEL: "other.sync"},
                                           annotations={}),
        entry("protected").id: plan.LiveMeta(labels=OURS,
                                             annotations={plan.PRUNE_ANNOTATION: "disabled"}),
        entry("gone").id: None,
    }
    decided = plan.plan_prune(stale, live, policy=policy(), inventory_size=10)
    assert [e.name for e in decided.prune] == ["ours"]
    assert [(e.name, why) for e, why in decided.kept] == [
        ("adopted", "not labelled sealops.dev/sync=team.apps any more"),
        ("protected", "annotated sealops.dev/prune: disabled"),
    ]
    assert [e.name for e in decided.gone] == ["gone"]


def test_prune_refuses_to_guess_about_objects_it_was_not_told_about() -> None:
    with pytest.raises(ValueError):
        plan.plan_prune([entry("x")], {}, policy=policy(), inventory_size=1)


def test_prune_ratio_guard_refuses_mass_prunes() -> None:
    stale = [entry(f"o{i}") for i in range(6)]
    live = {e.id: plan.LiveMeta(labels=OURS, annotations={}) for e in stale}
    with pytest.raises(errors.PolicyError, match="refusing to prune 6 of 10"):
        plan.plan_prune(stale, live, policy=policy(max_prune_ratio=0.5), inventory_size=10)
    assert len(plan.plan_prune(stale, live, policy=policy(max_prune_ratio=0.6),
                               inventory_size=10).prune) == 6


def test_template_data_that_is_a_literal_is_refused_as_plaintext_in_git() -> None:
    sealed = obj("sealops.dev/v1alpha1", "SealedSecret", "s", "team",
                 spec={"encryptedData": {"password": "AgA="},
                       "template": {"data": {"dsn": "canary-hunter2"}}})
    with pytest.raises(errors.PolicyError) as caught:
        make([sealed])
    assert str(caught.value).startswith(
        "SealedSecret team/s: spec.template.data key 'dsn': the template is plaintext in Git")
    assert "canary" not in str(caught.value)
    sealed["spec"]["template"]["data"] = {"dsn": "db://{{ password }}", "gone": None}
    assert make([sealed]).objects
    assert make([obj("sealops.dev/v1alpha1", "SealedSecret", "s", "team", spec={
        "encryptedData": {}, "template": {"data": {"x": "lit"}}})],
        allow_plaintext_secrets=True).objects


def test_vault_secret_templates_must_read_a_fetched_key() -> None:
    vault = obj("sealops.dev/v1alpha1", "VaultSecret", "v", "team", spec={
        "data": [{"secretKey": "password", "remoteRef": {"path": "db"}}],
        "target": {"template": {"data": {"dsn": "{{ pasword }}"}}}})
    with pytest.raises(errors.PolicyError, match=r"spec\.target\.template\.data key 'dsn'"):
        make([vault])
    vault["spec"]["dataFrom"] = [{"path": "db"}]  # keys not known in Git: any reference counts
    assert make([vault]).objects
