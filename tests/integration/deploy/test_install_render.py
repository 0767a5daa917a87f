"""`sealops install --export` prints what crds/ and deploy/ hold, rendered without kubectl:
the Python renderer (controller.manifests.kustomize) must agree with `kubectl kustomize` on
every shipped kustomization, and the options change only what they say. No cluster needed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from controller import manifests
from controller.manifests import kustomize, plan
from tests.integration.deploy.conftest import CONTROLLER_NS, DEPLOY, ROOT, ident, render

IMAGE = "registry.example.com/sealops:0.1.0"
COMPONENTS = DEPLOY / "components"
OUR_CRDS = sorted(p.name for p in (ROOT / "crds").glob("*.yaml"))


def _sealops(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SEALOPS_", "KUBECONFIG"))}
    return subprocess.run([sys.executable, "-m", "controller.cli", "install", *args],
                          capture_output=True, text=True, timeout=120, check=False, cwd=cwd,
                          env=env, stdin=subprocess.DEVNULL)


def _export(*args: str) -> list[dict[str, Any]]:
    result = _sealops("--export", "--image", IMAGE, *args)
    assert result.returncode == 0, result.stderr
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def _overlay(tmp_path: Path, *, components: list[str] | None = None, resources: Path = DEPLOY,
             namespace: str | None = None) -> Path:
    overlay = tmp_path / "overlay"
    overlay.mkdir(exist_ok=True)
    lines = [f"resources: [{os.path.relpath(resources, overlay)}]"]
    if components:
        lines.append("components: [" + ", ".join(
            os.path.relpath(COMPONENTS / c, overlay) for c in components) + "]")
    if namespace:
        lines.append(f"namespace: {namespace}")
    (overlay / "kustomization.yaml").write_text("\n".join(lines) + "\n")
    return overlay


def _sorted(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(objects, key=ident)


@pytest.mark.parametrize("sub", ["", "gitops-admin", "gitops-tenant"])
def test_the_renderer_agrees_with_kubectl_kustomize(sub: str) -> None:
    shipped = manifests.deploy_dir().joinpath(sub) if sub else manifests.deploy_dir()
    assert _sorted(kustomize.render(shipped)) == _sorted(render(DEPLOY / sub))


@pytest.mark.parametrize("components", [["pdb"], ["network-policy"], ["pod-security"],
                                        ["pdb", "network-policy", "pod-security"]])
def test_the_components_render_as_kubectl_kustomize_renders_them(
        components: list[str], tmp_path: Path) -> None:
    expected = render(_overlay(tmp_path, components=components))
    objects = kustomize.render(manifests.deploy_dir())
    for name in components:
        objects = kustomize.apply_component(objects,
                                            manifests.deploy_dir().joinpath("components", name))
    assert _sorted(objects) == _sorted(expected)
    assert len(expected) > len(render(DEPLOY)) or components == ["pod-security"]


def test_the_tenant_overlay_renders_as_kubectl_kustomize_renders_it(tmp_path: Path) -> None:
    expected = render(_overlay(tmp_path, resources=DEPLOY / "gitops-tenant", namespace="team-a"))
    objects = kustomize.render(manifests.deploy_dir().joinpath("gitops-tenant"))
    kustomize.set_namespace(objects, "team-a")
    assert _sorted(objects) == _sorted(expected)


def test_the_shipped_package_directories_are_the_repository_ones() -> None:
    assert Path(str(manifests.crd_dir())).resolve() == (ROOT / "crds").resolve()
    assert Path(str(manifests.deploy_dir())).resolve() == DEPLOY.resolve()


def test_export_is_our_crds_then_the_base_with_the_image_given() -> None:
    objects = _export()
    crds = [o for o in objects if o["kind"] == "CustomResourceDefinition"]
    assert objects[:len(crds)] == crds, "CRDs come first"
    assert sorted(f"{c['metadata']['name']}.yaml" for c in crds) == OUR_CRDS
    assert "sealedsecrets.bitnami.com" not in {c["metadata"]["name"] for c in crds}
    assert objects[len(crds)]["kind"] == "Namespace"
    rest = objects[len(crds):]
    base = render(DEPLOY)
    assert sorted(ident(o) for o in rest) == sorted(ident(o) for o in base)
    deployment = next(o for o in rest if o["kind"] == "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == IMAGE
    assert "--bitnami-compat" not in container["args"]
    expected = next(o for o in base if o["kind"] == "Deployment")
    expected["spec"]["template"]["spec"]["containers"][0]["image"] = IMAGE
    assert deployment == expected


def test_export_with_options_changes_only_what_they_name() -> None:
    objects = _export("--namespace", "ops", "--replicas", "3", "--bitnami-compat",
                      "--component", "pdb", "--component", "network-policy",
                      "--component", "pod-security", "--gitops", "tenant",
                      "--tenant-namespace", "team-a", "--tenant-namespace", "team-b")
    text = yaml.safe_dump_all(objects)
    assert CONTROLLER_NS not in text
    assert "sealops-tenant-placeholder" not in text
    names = {ident(o) for o in objects}
    assert ("CustomResourceDefinition", "", "sealedsecrets.bitnami.com") in names
    assert {("Namespace", "", "ops"), ("PodDisruptionBudget", "ops", "sealops-controller"),
            ("NetworkPolicy", "ops", "sealops-controller"),
            ("RoleBinding", "team-a", "sealops-gitops-admin"),
            ("Role", "team-b", "sealops-controller-impersonate"),
            ("ClusterRole", "", "sealops-gitops-tenant")} <= names
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    assert deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["template"]["spec"]["containers"][0]["args"] == [
        "controller", "--namespace", "ops", "--default-service-account", "sealops-gitops",
        "--bitnami-compat"]
    namespace = next(o for o in objects if o["kind"] == "Namespace")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    subjects = {(s["kind"], s.get("namespace", ""), s["name"]) for o in objects
                if o["kind"].endswith("Binding") for s in o["subjects"]}
    assert ("ServiceAccount", "ops", "sealops-controller") in subjects
    assert ("ServiceAccount", "team-a", "sealops-gitops") in subjects
    assert not [s for s in subjects if s[0] == "ServiceAccount" and s[1] not in
                ("ops", "team-a", "team-b")]


def test_gitops_admin_adds_the_admin_account_in_the_controller_namespace() -> None:
    names = {ident(o) for o in _export("--gitops", "admin", "-n", "ops")}
    assert ("ServiceAccount", "ops", "sealops-gitops-admin") in names
    assert ("ClusterRoleBinding", "", "sealops-gitops-admin-cluster-admin") in names


@pytest.mark.parametrize(("args", "message"), [
    (["--image", "sealops:0.1.0"], "--image must name a registry host"),
    (["--image", "registry.example.com/sealops"], "a tag or digest"),
    (["--image", IMAGE, "--namespace", "Bad_NS"], "--namespace must be a namespace name"),
    (["--image", IMAGE, "--component", "pdb", "--replicas", "1"], "--replicas 2 or more"),
    (["--image", IMAGE, "--gitops", "tenant"], "--tenant-namespace"),
    (["--image", IMAGE, "--tenant-namespace", "a"], "--tenant-namespace"),
    (["--image", IMAGE, "--gitops", "tenant", "--tenant-namespace", CONTROLLER_NS],
     "may not be the controller namespace"),
])
def test_options_that_make_no_sensible_install_are_refused(args: list[str],
                                                           message: str) -> None:
    result = _sealops("--export", *args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert result.stdout == ""


def test_the_image_is_required_and_never_defaults_to_a_bare_tag() -> None:
    result = _sealops("--export")
    assert result.returncode == 2
    assert "--image" in result.stderr


@pytest.mark.parametrize("where", ["", "gitops-admin", "gitops-tenant"])
def test_no_shipped_manifest_names_an_image_without_a_registry_host(where: str) -> None:
    images = [c["image"] for o in render(DEPLOY / where) if o["kind"] == "Deployment"
              for c in o["spec"]["template"]["spec"]["containers"]]
    assert all(plan.valid_image(i) for i in images), images
    assert all(i.split("/")[0].endswith(".invalid") for i in images), images


def test_the_wheel_carries_the_crds_the_manifests_and_the_license(tmp_path: Path) -> None:
    """`pip wheel` (with build isolation, as `make venv` installs) and then `sealops install
    --export` from the unpacked wheel alone, outside the checkout."""
    import zipfile

    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w",
                    str(tmp_path / "dist"), str(ROOT)], check=True, timeout=600,
                   capture_output=True, cwd=tmp_path)
    (wheel,) = (tmp_path / "dist").glob("sealops-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path / "unpacked")
    shipped = {f"controller/manifests/{p.relative_to(ROOT)}"
               for top in ("crds", "deploy") for p in (ROOT / top).rglob("*.yaml")}
    assert shipped - names == set()
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "unpacked")}
    where = subprocess.run([sys.executable, "-c", "import controller.manifests as m; "
                            "print(m.crd_dir())"], capture_output=True, text=True,
                           timeout=60, cwd=tmp_path, env=env, check=True).stdout.strip()
    assert Path(where) == tmp_path / "unpacked" / "controller" / "manifests" / "crds"
    out = subprocess.run([sys.executable, "-m", "controller.cli", "install", "--export",
                          "--image", IMAGE], capture_output=True, text=True, timeout=120,
                         cwd=tmp_path, env=env, check=True).stdout
    assert out == _sealops("--export", "--image", IMAGE).stdout
