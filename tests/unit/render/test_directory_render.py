"""Plain-directory rendering and the kustomize pre-checks, on trees in tmp_path (no subprocess)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from controller import render
from controller.render import errors, kustomize, paths
from sealer import errors as sealer_errors


def cm(name: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n"


def names(objects: list[dict[str, object]]) -> list[str]:
    return [o["metadata"]["name"] for o in objects]  # type: ignore[index]


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_directory_render_reads_yaml_yml_and_json_in_a_fixed_order(tmp_path: Path) -> None:
    write(tmp_path, {
        "app/b.yaml": cm("b1") + "---\n" + cm("b2"),
        "app/a.yml": cm("a"),
        "app/c.json": '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}',
        "app/z/d.yaml": cm("d"),
        "app/README.md": "not yaml",
        "app/notes.txt": cm("ignored"),
        "elsewhere.yaml": cm("outside-the-path"),
    })
    assert names(render.render(tmp_path, path="app")) == ["a", "b1", "b2", "c", "d"]


def test_hidden_files_and_directories_are_skipped(tmp_path: Path) -> None:
    write(tmp_path, {"app/.hidden.yaml": cm("h"), "app/.git/x.yaml": cm("g"),
                     "app/ok.yaml": cm("ok")})
    assert names(render.render(tmp_path, path="app")) == ["ok"]


def test_empty_documents_are_not_objects_and_an_empty_tree_renders_nothing(
    tmp_path: Path,
) -> None:
    write(tmp_path, {"app/a.yaml": "---\n---\n" + cm("a") + "---\n"})
    assert names(render.render(tmp_path, path="app")) == ["a"]
    (tmp_path / "empty").mkdir()
    assert render.render(tmp_path, path="empty") == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("kind: ConfigMap\nmetadata: {name: a}\n", "apiVersion"),
        ("piVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n", "apiVersion"),
        ("apiVersion: v1\nmetadata: {name: a}\n", "kind"),
        ("apiVersion: v1\nkind: ConfigMap\n", "metadata"),
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {namespace: x}\n", "metadata.name"),
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: 5}\n", "metadata.name"),
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: 5}\n", "namespace"),
        ("apiVersion: v1\nkind: List\nmetadata: {name: a}\nitems: []\n", "List"),
        ("apiVersion: v1\nkind: ConfigMapList\nmetadata: {name: a}\nitems: []\n", "ConfigMapList"),
    ],
)
def test_an_invalid_document_fails_the_whole_render_naming_file_and_index(
    tmp_path: Path, text: str, problem: str
) -> None:
    write(tmp_path, {"app/a.yaml": cm("first"), "app/b.yaml": cm("ok") + "---\n" + text})
    with pytest.raises(errors.RenderError, match=problem) as caught:
        render.render(tmp_path, path="app")
    assert str(caught.value).startswith("app/b.yaml: document 2")
    assert caught.value.reason == "RenderFailed"


def test_unparsable_yaml_fails_with_the_file_named(tmp_path: Path) -> None:
    write(tmp_path, {"app/a.yaml": "a: [\n"})
    with pytest.raises(sealer_errors.ManifestError, match=r"app/a\.yaml"):
        render.render(tmp_path, path="app")


def test_a_directory_named_like_a_manifest_is_walked_as_a_directory(tmp_path: Path) -> None:
    write(tmp_path, {"app/x.yaml/inner.yaml": cm("inner")})
    assert names(render.render(tmp_path, path="app")) == ["inner"]


def test_a_fifo_named_like_a_manifest_is_an_error_and_never_opened(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    os.mkfifo(tmp_path / "app" / "x.yaml")
    with pytest.raises(errors.RenderError, match=r"app/x\.yaml: not a regular file"):
        render.render(tmp_path, path="app")


def test_in_bounds_symlinks_are_followed_and_loops_refused(tmp_path: Path) -> None:
    write(tmp_path, {"shared/s.yaml": cm("shared"), "app/a.yaml": cm("a")})
    (tmp_path / "app" / "s.yaml").symlink_to("../shared/s.yaml")
    assert names(render.render(tmp_path, path="app")) == ["a", "shared"]
    (tmp_path / "app" / "again").symlink_to("..")
    with pytest.raises(errors.RenderError, match="symlink loop: app/again/app leads back to app"):
        render.render(tmp_path, path="app")


@pytest.mark.parametrize("target", ["/etc/passwd", "../../other/s.yaml", "/etc"])
def test_out_of_bounds_symlinks_fail_the_render(tmp_path: Path, target: str) -> None:
    root = tmp_path / "repo"
    write(tmp_path, {"other/s.yaml": cm("stolen"), "repo/app/a.yaml": cm("a")})
    (root / "app" / "x.yaml").symlink_to(target)
    with pytest.raises(errors.PathEscapeError, match=r"^out of bounds symlink: app/x.yaml$"):
        render.render(root, path="app")


def test_dangling_links_are_skipped_unless_named_like_a_manifest(tmp_path: Path) -> None:
    write(tmp_path, {"app/a.yaml": cm("a")})
    (tmp_path / "app" / "notes").symlink_to("gone")
    assert names(render.render(tmp_path, path="app")) == ["a"]
    (tmp_path / "app" / "b.yaml").symlink_to("gone.yaml")
    with pytest.raises(errors.MissingPathError, match=r"app/gone\.yaml"):
        render.render(tmp_path, path="app")


def test_the_configured_path_must_be_a_directory_inside_the_checkout(tmp_path: Path) -> None:
    write(tmp_path, {"app/a.yaml": cm("a")})
    with pytest.raises(errors.RenderError, match="not a directory"):
        render.render(tmp_path, path="app/a.yaml")
    with pytest.raises(errors.MissingPathError):
        render.render(tmp_path, path="nope")
    with pytest.raises(errors.PathEscapeError):
        render.render(tmp_path, path="../")


def test_caps_on_file_size_files_bytes_and_documents(tmp_path: Path) -> None:
    write(tmp_path, {"app/a.yaml": cm("a") + "---\n" + cm("b"), "app/b.yaml": cm("c")})
    with pytest.raises(errors.RenderError, match="bytes per file"):
        render.render(tmp_path, path="app", limits=render.Limits(max_file_bytes=40))
    with pytest.raises(errors.RenderError, match="more than 1 manifest files"):
        render.render(tmp_path, path="app", limits=render.Limits(max_files=1))
    with pytest.raises(errors.RenderError, match="in total"):
        render.render(tmp_path, path="app", limits=render.Limits(max_total_bytes=100))
    with pytest.raises(sealer_errors.ManifestError, match="more than 2"):
        render.render(tmp_path, path="app", limits=render.Limits(max_documents=2))


def test_find_kustomization_ignores_a_directory_named_kustomization_yaml(tmp_path: Path) -> None:
    (tmp_path / "k" / "kustomization.yaml").mkdir(parents=True)
    root = paths.real_root(tmp_path)
    assert kustomize.find_kustomization(root, os.path.join(root, "k")) is None
    (tmp_path / "k" / "Kustomization").write_text("resources: []\n")
    assert kustomize.find_kustomization(root, os.path.join(root, "k")) is not None


@pytest.mark.parametrize(
    ("resource", "error", "message"),
    [
        ("https://github.com/org/repo//base?ref=v1", errors.RenderError, "remote"),
        ("git@github.com:org/repo.git", errors.RenderError, "remote"),
        ("github.com/org/repo/base", errors.RenderError, "not found in the checkout"),
        ("/etc", errors.PathEscapeError, "out of bounds"),
        ("../../../outside", errors.PathEscapeError, "out of bounds kustomize reference"),
        ("../escape", errors.PathEscapeError, "out of bounds symlink: escape"),
    ],
)
def test_kustomize_references_must_stay_inside_the_checkout(
    tmp_path: Path, resource: str, error: type[Exception], message: str
) -> None:
    root = tmp_path / "repo"
    write(root, {"overlay/kustomization.yaml": f"resources:\n- {resource!r}\n",
                 "base/kustomization.yaml": "resources: []\n"})
    (root / "escape").symlink_to("/etc")
    real = paths.real_root(root)
    with pytest.raises(error, match=message):
        kustomize.check_references(real, os.path.join(real, "overlay"), caps=render.Limits())


def test_kustomize_references_are_followed_through_bases(tmp_path: Path) -> None:
    write(tmp_path, {
        "overlay/kustomization.yaml": "resources: [../base, extra.yaml]\n",
        "overlay/extra.yaml": cm("extra"),
        "base/kustomization.yaml": "resources: [../../outside]\n",
    })
    real = paths.real_root(tmp_path)
    with pytest.raises(errors.PathEscapeError, match=r"in base/kustomization\.yaml"):
        kustomize.check_references(real, os.path.join(real, "overlay"), caps=render.Limits())
