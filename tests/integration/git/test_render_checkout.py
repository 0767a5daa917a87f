"""Rendering real checkouts fetched with git (HOSTILE-INPUTS F28-F31, Y26)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from controller import render
from controller.render import errors
from controller.sources import git
from sealer import errors as sealer_errors
from tests.gitserver import repos

pytestmark = pytest.mark.integration


def cm(name: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n"


class Repo:
    """A bare repository fetched over file:// (local sources allowed for these tests)."""

    def __init__(self, tmp: Path) -> None:
        (tmp / "served").mkdir()
        self.work = repos.WorkTree(tmp / "work", repos.create_bare(tmp / "served", "r.git"))
        self.cache = tmp / "cache"

    def checkout(self, files: dict[str, str], links: dict[str, str] | None = None) -> Path:
        self.work.write(files)
        for link, target in (links or {}).items():
            self.work.symlink(link, target)
        self.work.commit()
        self.work.push()
        return git.fetch(f"file://{self.work.bare}", git.Ref(branch="main"),
                         cache_dir=self.cache, allow_local=True).root


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path)


@pytest.mark.parametrize(
    ("link", "target"),
    [
        ("app/x.yaml", "/etc/passwd"),
        ("app/x.yaml", "/var/run/secrets/kubernetes.io/serviceaccount/token"),
        ("app/x.yaml", "../../other-tenant/secret.yaml"),
        ("app/env.yaml", "/proc/self/environ"),
        ("app/etc", "/etc"),
        ("app/up", "../.."),
    ],
)
def test_out_of_bounds_symlinks_in_a_checkout_fail_naming_the_link(
    repo: Repo, link: str, target: str
) -> None:
    root = repo.checkout({"app/a.yaml": cm("a")}, {link: target})
    assert os.readlink(root / link) == target
    with pytest.raises(errors.PathEscapeError) as caught:
        render.render(root, path="app")
    assert str(caught.value) == f"out of bounds symlink: {link}"


def test_in_bounds_symlinks_in_a_checkout_are_followed(repo: Repo) -> None:
    root = repo.checkout({"shared/s.yaml": cm("shared"), "app/a.yaml": cm("a")},
                         {"app/s.yaml": "../shared/s.yaml", "app/lib": "../shared"})
    names = [o["metadata"]["name"] for o in render.render(root, path="app")]
    assert names == ["a", "shared", "shared"]


def test_a_symlink_loop_in_a_checkout_is_an_error(repo: Repo) -> None:
    root = repo.checkout({"app/a.yaml": cm("a")}, {"app/x.yaml": "y.yaml", "app/y.yaml": "x.yaml"})
    with pytest.raises(errors.RenderError, match="loop"):
        render.render(root, path="app")


def test_a_fifo_in_a_checkout_is_an_error_and_never_blocks(repo: Repo) -> None:
    root = repo.checkout({"app/a.yaml": cm("a")})
    os.mkfifo(root / "app" / "z.yaml")
    with pytest.raises(errors.RenderError, match="not a regular file"):
        render.render(root, path="app")


def test_a_directory_named_x_yaml_is_walked_as_a_directory(repo: Repo) -> None:
    root = repo.checkout({"app/x.yaml/inner.yaml": cm("inner"), "app/a.yaml": cm("a")})
    assert [o["metadata"]["name"] for o in render.render(root, path="app")] == ["a", "inner"]


def test_an_oversized_file_in_a_checkout_is_refused_before_reading(repo: Repo) -> None:
    root = repo.checkout({"app/big.yaml": cm("big") + "data:\n  k: " + "x" * 5000 + "\n"})
    with pytest.raises(errors.RenderError, match=r"big\.yaml: .* exceed the limit of 4096"):
        render.render(root, path="app", limits=render.Limits(max_file_bytes=4096))


def test_an_invalid_document_fails_the_whole_render(repo: Repo) -> None:
    root = repo.checkout({"app/a.yaml": cm("good"),
                          "app/b.yaml": cm("ok") + "---\napiVersion: v1\nmetadata: {name: x}\n"})
    with pytest.raises(errors.RenderError, match=r"^app/b\.yaml: document 2: missing .* kind"):
        render.render(root, path="app")


def test_a_kustomize_overlay_is_built_with_the_installed_binary(repo: Repo) -> None:
    if shutil.which("kustomize") is None and shutil.which("kubectl") is None:
        pytest.skip("neither kustomize nor kubectl is installed")
    root = repo.checkout({
        "base/kustomization.yaml": "resources: [cm.yaml, deploy.yaml]\n",
        "base/cm.yaml": cm("settings"),
        "base/deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n"
                            "spec: {template: {spec: {containers: [{name: c, image: x}]}}}\n",
        "overlays/prod/kustomization.yaml":
            "resources: [../../base]\nnamePrefix: prod-\nnamespace: shop\n"
            "commonLabels: {env: prod}\n",
    })
    objects = render.render(root, path="overlays/prod")
    assert sorted((o["kind"], o["metadata"]["name"]) for o in objects) == [
        ("ConfigMap", "prod-settings"), ("Deployment", "prod-web")]
    assert all(o["metadata"]["namespace"] == "shop" for o in objects)
    assert all(o["metadata"]["labels"]["env"] == "prod" for o in objects)


def test_kustomize_never_runs_when_any_symlink_in_the_checkout_escapes(repo: Repo) -> None:
    root = repo.checkout({"k/kustomization.yaml": "resources: [cm.yaml]\n", "k/cm.yaml": cm("a")},
                         {"unrelated/.secret": "/etc/shadow"})
    with pytest.raises(errors.PathEscapeError, match=r"symlink: unrelated/\.secret$"):
        render.render(root, path="k")


def test_kustomize_load_restrictions_keep_files_inside_the_kustomization(repo: Repo) -> None:
    if shutil.which("kustomize") is None and shutil.which("kubectl") is None:
        pytest.skip("neither kustomize nor kubectl is installed")
    root = repo.checkout({
        "secret.env": "password=hunter2-canary\n",
        "k/kustomization.yaml": "configMapGenerator:\n- name: c\n  envs: [../secret.env]\n",
    })
    with pytest.raises(errors.RenderError, match="kustomize build failed") as caught:
        render.render(root, path="k")
    assert "hunter2" not in str(caught.value)
    assert str(root) not in str(caught.value)


def test_a_kustomize_build_error_is_reported_relative_to_the_checkout(repo: Repo) -> None:
    if shutil.which("kustomize") is None and shutil.which("kubectl") is None:
        pytest.skip("neither kustomize nor kubectl is installed")
    root = repo.checkout({"k/kustomization.yaml": "resources: [cm.yaml]\n"
                                                  "patches: [{path: nope.yaml}]\n",
                          "k/cm.yaml": cm("a")})
    with pytest.raises(errors.RenderError, match=r"kustomize build failed: .*k/nope\.yaml") as e:
        render.render(root, path="k")
    assert str(root) not in str(e.value)


def test_a_missing_kustomize_resource_is_refused_before_kustomize_runs(repo: Repo) -> None:
    root = repo.checkout({"k/kustomization.yaml": "resources: [missing.yaml]\n"})
    with pytest.raises(sealer_errors.ManifestError, match=r"'missing\.yaml' in k/kustomization"):
        render.render(root, path="k")
