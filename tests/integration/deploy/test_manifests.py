"""What `kubectl kustomize deploy/` renders: the objects, the locked-down Deployment, and RBAC
without wildcards or escalation paths. No cluster needed; only kubectl's built-in kustomize."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.integration.deploy.conftest import CONTROLLER_NS, DEPLOY, ident, render

RBAC_KINDS = ("ClusterRole", "Role", "ClusterRoleBinding", "RoleBinding")
OPTIONAL = ("gitops-admin", "gitops-tenant")


def _one(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} rendered"
    return found[0]


def _container(base: list[dict[str, Any]]) -> dict[str, Any]:
    pod = _one(base, "Deployment", "sealops-controller")["spec"]["template"]["spec"]
    assert len(pod["containers"]) == 1
    container: dict[str, Any] = pod["containers"][0]
    return container


def _all_rendered(base: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    out = [("deploy", o) for o in base]
    for sub in OPTIONAL:
        out += [(f"deploy/{sub}", o) for o in render(DEPLOY / sub)]
    return out


def test_the_base_renders_exactly_the_controller_objects(base: list[dict[str, Any]]) -> None:
    assert sorted(ident(o) for o in base) == sorted([
        ("Namespace", "", CONTROLLER_NS),
        ("ServiceAccount", CONTROLLER_NS, "sealops-controller"),
        ("ClusterRole", "", "sealops-controller"),
        ("ClusterRole", "", "sealops-controller-cluster"),
        ("ClusterRoleBinding", "", "sealops-controller"),
        ("ClusterRoleBinding", "", "sealops-controller-cluster"),
        ("Role", CONTROLLER_NS, "sealops-controller-keys"),
        ("Role", CONTROLLER_NS, "sealops-public-keys-reader"),
        ("RoleBinding", CONTROLLER_NS, "sealops-controller-keys"),
        ("RoleBinding", CONTROLLER_NS, "sealops-public-keys-reader"),
        # RBAC for people (user-rbac.yaml).
        ("ClusterRole", "", "sealops-view"),
        ("ClusterRole", "", "sealops-edit"),
        ("Role", CONTROLLER_NS, "sealops-service-proxier"),
        ("RoleBinding", CONTROLLER_NS, "sealops-service-proxier"),
        ("Deployment", CONTROLLER_NS, "sealops-controller"),
        ("Service", CONTROLLER_NS, "sealops-controller"),
        ("ClusterKopfPeering", "", "sealops"),
    ])
    assert not [o for o in base if o["kind"] == "CustomResourceDefinition"], \
        "CRDs are installed from crds/, not from the base"


def test_no_rbac_rule_in_any_shipped_kustomization_uses_a_wildcard(
        base: list[dict[str, Any]]) -> None:
    offenders = []
    for where, obj in _all_rendered(base):
        if obj["kind"] not in ("ClusterRole", "Role"):
            continue
        assert "aggregationRule" not in obj, f"{where}: {obj['metadata']['name']} aggregates"
        for rule in obj.get("rules") or []:
            for field in ("verbs", "resources", "apiGroups", "resourceNames",
                          "nonResourceURLs"):
                if any("*" in value for value in rule.get(field) or []):
                    offenders.append(f"{where}: {obj['kind']}/{obj['metadata']['name']} "
                                     f"{field}={rule[field]}")
    assert offenders == []


def _controller_roles(base: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The roles bound to the controller's account."""
    bound = {(b["roleRef"]["kind"], b["roleRef"]["name"]) for b in base
             if b["kind"] in ("ClusterRoleBinding", "RoleBinding")
             and {"kind": "ServiceAccount", "name": "sealops-controller",
                  "namespace": CONTROLLER_NS} in b["subjects"]}
    return [o for o in base if (o["kind"], o["metadata"]["name"]) in bound]


def test_the_base_grants_the_controller_no_escalation_verbs_and_deletes_only_secrets(
        base: list[dict[str, Any]]) -> None:
    deletable = []
    roles = _controller_roles(base)
    assert len(roles) == 3
    for obj in roles:
        for rule in obj["rules"]:
            name = obj["metadata"]["name"]
            assert "rbac.authorization.k8s.io" not in rule["apiGroups"], name
            assert not {"escalate", "bind", "impersonate", "deletecollection"} \
                & set(rule["verbs"]), (name, rule)
            assert not {"pods", "pods/exec", "serviceaccounts",
                        "customresourcedefinitions/status"} & set(rule["resources"]), name
            if {"deployments", "statefulsets", "daemonsets"} & set(rule["resources"]):
                # Rolling opted-in workloads: read them and apply one annotation; never
                # create, replace or delete one (it could then run code as another identity).
                assert rule["apiGroups"] == ["apps"], name
                assert sorted(rule["verbs"]) == ["get", "list", "patch", "watch"], name
            if "delete" in rule["verbs"]:
                deletable += [(name, group, res) for group in rule["apiGroups"]
                              for res in rule["resources"]]
    # VaultSecrets with `deletionPolicy: Delete`; nothing else is ever deleted.
    assert deletable == [("sealops-controller", "", "secrets")]


def test_every_binding_names_the_controller_account_or_the_authenticated_group(
        base: list[dict[str, Any]]) -> None:
    subjects = []
    for where, obj in _all_rendered(base):
        if obj["kind"] in ("ClusterRoleBinding", "RoleBinding"):
            for subject in obj["subjects"]:
                subjects.append((where, obj["metadata"]["name"], subject["kind"],
                                 subject.get("namespace", ""), subject["name"]))
    allowed = {("ServiceAccount", CONTROLLER_NS, "sealops-controller"),
               ("Group", "", "system:authenticated"),
               # The GitOps accounts GitSyncs impersonate (optional components only).
               ("ServiceAccount", CONTROLLER_NS, "sealops-gitops-admin"),
               ("ServiceAccount", "sealops-tenant-placeholder", "sealops-gitops")}
    assert [s for s in subjects if s[2:] not in allowed] == []
    assert [s for s in subjects if s[0] == "deploy" and "gitops" in s[4]] == []
    authenticated = [s for s in subjects if s[2] == "Group"]
    assert sorted((s[0], s[1]) for s in authenticated) == [
        ("deploy", "sealops-public-keys-reader"), ("deploy", "sealops-service-proxier")]


def test_every_authenticated_user_may_read_only_the_public_keys_configmap(
        base: list[dict[str, Any]]) -> None:
    binding = _one(base, "RoleBinding", "sealops-public-keys-reader")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                  "name": "sealops-public-keys-reader"}
    role = _one(base, "Role", "sealops-public-keys-reader")
    assert role["rules"] == [{"apiGroups": [""], "resources": ["configmaps"],
                              "resourceNames": ["sealops-public-keys"], "verbs": ["get"]}]


def test_the_deployment_runs_two_locked_down_replicas(base: list[dict[str, Any]]) -> None:
    deployment = _one(base, "Deployment", "sealops-controller")
    pod = deployment["spec"]["template"]["spec"]
    container = _container(base)
    assert deployment["spec"]["replicas"] == 2
    assert pod["serviceAccountName"] == "sealops-controller"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] > 0
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    ctx = container["securityContext"]
    assert ctx["readOnlyRootFilesystem"] is True
    assert ctx["allowPrivilegeEscalation"] is False
    assert ctx["capabilities"] == {"drop": ["ALL"]}
    assert ctx["seccompProfile"] == {"type": "RuntimeDefault"}
    assert "add" not in ctx["capabilities"]
    assert container["args"] == ["controller", "--namespace", CONTROLLER_NS,
                                 "--default-service-account", "sealops-gitops"]
    for kind in ("requests", "limits"):
        assert set(container["resources"][kind]) == {"cpu", "memory"}


def test_the_probes_ask_healthz_on_the_http_port(base: list[dict[str, Any]]) -> None:
    container = _container(base)
    assert {"name": "http", "containerPort": 8080, "protocol": "TCP"} in container["ports"]
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "http"}, probe


def test_tmp_is_the_only_writable_path_and_kubeconfig_is_not_set(
        base: list[dict[str, Any]]) -> None:
    pod = _one(base, "Deployment", "sealops-controller")["spec"]["template"]["spec"]
    container = _container(base)
    assert container["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]
    assert [v["name"] for v in pod["volumes"] if "emptyDir" in v] == ["tmp"]
    env = {e["name"]: e for e in container["env"]}
    assert "KUBECONFIG" not in env
    assert env["HOME"]["value"] == "/tmp"
    assert env["POD_ID"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.uid"


def test_the_service_reaches_the_controller_pods_on_port_8080(
        base: list[dict[str, Any]]) -> None:
    service = _one(base, "Service", "sealops-controller")
    template = _one(base, "Deployment", "sealops-controller")["spec"]["template"]
    selector = service["spec"]["selector"]
    assert selector and selector.items() <= template["metadata"]["labels"].items()
    assert service["spec"]["ports"] == [{"name": "http", "port": 8080, "targetPort": "http",
                                         "protocol": "TCP"}]


def test_the_image_is_a_placeholder_an_overlay_can_replace(
        base: list[dict[str, Any]], tmp_path: Path) -> None:
    # `.invalid` never resolves: an install that forgot to set the image fails to pull
    # instead of fetching some `sealops` from a public registry.
    assert _container(base)["image"] == "registry.invalid/sealops:0.1.0"
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(
        f"resources: [{os.path.relpath(DEPLOY, overlay)}]\n"
        "images:\n  - name: registry.invalid/sealops\n    newName: registry.example/sealops\n"
        "    newTag: 9.9.9\n")
    assert _container(render(overlay))["image"] == "registry.example/sealops:9.9.9"


def test_the_tenant_gitops_bindings_land_in_the_overlay_namespace_only(
        tmp_path: Path) -> None:
    overlay = tmp_path / "team-a"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(
        f"resources: [{os.path.relpath(DEPLOY / 'gitops-tenant', overlay)}]\n"
        "namespace: team-a\n")
    objects = render(overlay)
    bindings = {b["roleRef"]["name"]: [(s["namespace"], s["name"]) for s in b["subjects"]]
                for b in objects if b["kind"] == "RoleBinding"}
    # The tenant's account gets the rights; the controller only impersonates it.
    assert bindings == {"admin": [("team-a", "sealops-gitops")],
                        "sealops-gitops-tenant": [("team-a", "sealops-gitops")],
                        "sealops-controller-impersonate": [(CONTROLLER_NS, "sealops-controller")]}
    assert {o["metadata"]["namespace"] for o in objects
            if o["kind"] in ("RoleBinding", "Role", "ServiceAccount")} == {"team-a"}
    role = _one(objects, "Role", "sealops-controller-impersonate")
    assert role["rules"] == [{"apiGroups": [""], "resources": ["serviceaccounts"],
                              "resourceNames": ["sealops-gitops"],
                              "verbs": ["get", "impersonate"]}]
    assert not [o for o in objects if o["kind"] == "ClusterRoleBinding"]


@pytest.mark.parametrize("sub", OPTIONAL)
def test_the_optional_gitops_rights_are_not_part_of_the_base(
        base: list[dict[str, Any]], sub: str) -> None:
    assert not {ident(o) for o in render(DEPLOY / sub)} & {ident(o) for o in base}
    assert all(o["roleRef"]["name"] not in ("admin", "cluster-admin", "edit")
               for o in base if o["kind"] in ("ClusterRoleBinding", "RoleBinding"))
