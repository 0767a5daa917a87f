"""controller.manifests: the Kustomize subset refuses what it does not render (instead of
rendering something else), paths stay inside the shipped tree, and install options that make
no sense are refused with the option's name."""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.manifests import kustomize, plan

IMAGE = "registry.example.com/sealops:0.1.0"


def _tree(root: Path, kustomization: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "kustomization.yaml").write_text(kustomization)
    return root


CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: a}\n"


def test_a_plain_kustomization_renders_its_resources_with_labels(tmp_path: Path) -> None:
    root = _tree(tmp_path / "k", "resources: [cm.yaml]\nnamespace: b\nlabels:\n"
                 "  - pairs: {x: y}\n    includeSelectors: false\n")
    (root / "cm.yaml").write_text(CM)
    assert kustomize.render(root) == [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
        "name": "c", "namespace": "b", "labels": {"x": "y"}}}]


@pytest.mark.parametrize("kustomization", [
    "resources: [cm.yaml]\nimages: [{name: a, newName: b}]\n",
    "resources: [cm.yaml]\nreplicas: [{name: a, count: 2}]\n",
    "resources: [cm.yaml]\nlabels:\n  - pairs: {x: y}\n    includeSelectors: true\n",
    "resources: [cm.yaml]\npatches:\n  - patch: '{}'\n    target: {kind: ConfigMap}\n",
    "kind: Component\nresources: [cm.yaml]\n",
])
def test_anything_outside_the_subset_is_refused(tmp_path: Path, kustomization: str) -> None:
    root = _tree(tmp_path / "k", kustomization)
    (root / "cm.yaml").write_text(CM)
    with pytest.raises(kustomize.UnsupportedError):
        kustomize.render(root)


@pytest.mark.parametrize("entry", ["../cm.yaml", "/etc/passwd", "a//b.yaml"])
def test_paths_may_not_leave_the_shipped_directory(tmp_path: Path, entry: str) -> None:
    root = _tree(tmp_path / "k", f"resources: ['{entry}']\n")
    (tmp_path / "cm.yaml").write_text(CM)
    with pytest.raises(kustomize.UnsupportedError, match="leaves the directory"):
        kustomize.render(root)


def test_a_patch_must_match_exactly_one_object_and_may_not_patch_lists(tmp_path: Path) -> None:
    root = _tree(tmp_path / "k", "resources: [cm.yaml]\npatches: [{path: p.yaml}]\n")
    (root / "cm.yaml").write_text(CM)
    (root / "p.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}\n")
    with pytest.raises(kustomize.UnsupportedError, match="matches 0 objects"):
        kustomize.render(root)
    (root / "p.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"
                                 "data: {k: v}\nbinaryData: {}\nimmutable: true\n")
    assert kustomize.render(root)[0]["data"] == {"k": "v"}
    (root / "p.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"
                                 "  finalizers: [x]\n")
    with pytest.raises(kustomize.UnsupportedError, match="lists"):
        kustomize.render(root)


def test_a_kind_of_unknown_scope_is_refused_when_a_namespace_is_set(tmp_path: Path) -> None:
    root = _tree(tmp_path / "k", "resources: [w.yaml]\nnamespace: b\n")
    (root / "w.yaml").write_text("apiVersion: x/v1\nkind: Widget\nmetadata: {name: w}\n")
    with pytest.raises(kustomize.UnsupportedError, match="unknown scope"):
        kustomize.render(root)


@pytest.mark.parametrize(("ref", "ok"), [
    (IMAGE, True),
    ("localhost:5000/sealops:dev", True),
    ("registry:5000/sealops:dev", True),
    ("registry.example.com/team/sealops@sha256:" + "a" * 64, True),
    ("sealops:0.1.0", False),           # a bare name resolves to a public registry
    ("library/sealops:0.1.0", False),   # so does a path without a host
    ("registry.example.com/sealops", False),  # no tag or digest
    ("registry.example.com/Sealops:1", False),
    ("registry.example.com/sealops:1 --privileged", False),
    ("registry.example.com/sealops:1\n", False),
])
def test_only_fully_qualified_images_are_accepted(ref: str, ok: bool) -> None:
    assert plan.valid_image(ref) is ok


@pytest.mark.parametrize(("options", "flag"), [
    (plan.Options(image="sealops:1"), "--image"),
    (plan.Options(image=IMAGE, namespace="-x"), "--namespace"),
    (plan.Options(image=IMAGE, namespace="ops\n"), "--namespace"),
    (plan.Options(image=IMAGE, replicas=0), "--replicas"),
    (plan.Options(image=IMAGE, components=("pdb",), replicas=1), "--component pdb"),
    (plan.Options(image=IMAGE, components=("istio",)), "--component"),
    (plan.Options(image=IMAGE, gitops="root"), "--gitops"),
    (plan.Options(image=IMAGE, gitops="tenant"), "--tenant-namespace"),
    (plan.Options(image=IMAGE, tenant_namespaces=("a",)), "--tenant-namespace"),
    (plan.Options(image=IMAGE, gitops="tenant", tenant_namespaces=("a", "B")),
     "--tenant-namespace"),
])
def test_options_are_checked_before_anything_is_rendered(options: plan.Options,
                                                         flag: str) -> None:
    with pytest.raises(plan.OptionsError, match=flag):
        plan.render(options)
