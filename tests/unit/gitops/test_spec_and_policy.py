"""A GitSync's spec and the namespaces it may manage (controller.gitops.spec)."""

from __future__ import annotations

import pytest

from controller.apply import plan, scope
from controller.gitops import spec
from controller.sources import git
from sealer import errors

CONTROLLER_NS = "sealops-system"


def test_defaults_fill_ref_path_interval_and_timeout() -> None:
    parsed = spec.parse({"url": "https://git.example/app.git"})
    assert parsed.ref == git.Ref(branch="main")
    assert (parsed.path, parsed.interval, parsed.timeout) == (".", 300.0, 300.0)
    assert not (parsed.prune or parsed.suspend or parsed.allow_empty
                or parsed.allow_plaintext_secrets)


def test_every_field_is_read() -> None:
    parsed = spec.parse({
        "url": "https://git.example/app.git", "ref": {"tag": "v1"}, "path": "deploy/prod",
        "interval": "1m30s", "timeout": "45s", "prune": True, "targetNamespace": "shop",
        "secretRef": {"name": "git-creds"}, "suspend": True, "allowEmpty": True,
        "allowPlaintextSecrets": True})
    assert parsed == spec.GitSyncSpec(
        url="https://git.example/app.git", ref=git.Ref(tag="v1"), path="deploy/prod",
        interval=90.0, timeout=45.0, prune=True, target_namespace="shop",
        secret_ref="git-creds", suspend=True, allow_empty=True, allow_plaintext_secrets=True)


@pytest.mark.parametrize(("field", "value", "match"), [
    ("interval", "soon", "spec.interval"),
    ("interval", "10ms", "at least"),
    ("ref", {"branch": "a", "tag": "b"}, "branch or a tag"),
    ("ref", {"commit": "xyz"}, "hexadecimal"),
    ("prune", "yes", "spec.prune"),
    ("targetNamespace", "Not_A_Namespace", "targetNamespace"),
    ("secretRef", {"name": "../x"}, "secretRef"),
    ("path", 7, "spec.path"),
])
def test_malformed_fields_are_refused_naming_the_field(field: str, value: object,
                                                        match: str) -> None:
    with pytest.raises(errors.ManifestError, match=match):
        spec.parse({"url": "https://git.example/app.git", field: value})


def test_a_tenant_may_not_target_another_namespace() -> None:
    parsed = spec.parse({"url": "https://x.example/r.git", "targetNamespace": "shop-web"})
    with pytest.raises(errors.PolicyError, match="another namespace"):
        spec.policy_for(parsed, namespace="shop", name="app",
                        controller_namespace=CONTROLLER_NS)


def test_a_tenant_may_name_its_own_namespace_as_target() -> None:
    parsed = spec.parse({"url": "https://x.example/r.git", "targetNamespace": "shop"})
    policy = spec.policy_for(parsed, namespace="shop", name="app",
                             controller_namespace=CONTROLLER_NS)
    assert policy.allowed_namespaces == frozenset({"shop"})
    assert not policy.allow_cluster_scoped
    assert policy.target_namespace == "shop"


def test_a_tenant_without_target_puts_unplaced_objects_in_its_own_namespace() -> None:
    policy = spec.policy_for(spec.parse({"url": "https://x.example/r.git"}), namespace="shop",
                             name="app", controller_namespace=CONTROLLER_NS)
    assert policy.target_namespace == "shop"
    assert policy.allowed_namespaces == frozenset({"shop"})


def test_a_tenant_may_not_target_the_controller_namespace() -> None:
    parsed = spec.parse({"url": "https://x.example/r.git", "targetNamespace": CONTROLLER_NS})
    with pytest.raises(errors.PolicyError, match="controller's namespace"):
        spec.policy_for(parsed, namespace="shop", name="app",
                        controller_namespace=CONTROLLER_NS)


def test_the_admins_gitsync_may_write_anywhere_and_cluster_scoped_objects() -> None:
    policy = spec.policy_for(spec.parse({"url": "https://x.example/r.git"}),
                             namespace=CONTROLLER_NS, name="platform",
                             controller_namespace=CONTROLLER_NS)
    assert policy.allowed_namespaces is None and policy.allow_cluster_scoped


def test_a_tenant_object_in_another_namespace_is_a_policy_violation() -> None:
    policy = spec.policy_for(spec.parse({"url": "https://x.example/r.git"}), namespace="shop",
                             name="app", controller_namespace=CONTROLLER_NS)
    other = {"apiVersion": "v1", "kind": "ConfigMap",
             "metadata": {"name": "c", "namespace": "kube-system"}}
    with pytest.raises(errors.PolicyError, match="kube-system"):
        plan.plan([other], policy=policy, cluster=scope.Offline(lambda *_: True))
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "r"}}
    with pytest.raises(errors.PolicyError, match="cluster-scoped"):
        plan.plan([role], policy=policy, cluster=scope.Offline(lambda *_: False))
