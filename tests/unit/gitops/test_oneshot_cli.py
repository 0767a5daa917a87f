"""`sealops build` needs no cluster; one-shot source and naming helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

from controller import cli
from controller.gitops import oneshot
from controller.sources import git

CANARY = "canary-9a8b7c"


def write_app(root: Path) -> None:
    (root / "app").mkdir()
    (root / "app" / "all.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 1}\n"
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {a: '1'}\n"
        "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n"
        "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n"
        "metadata: {name: reader, namespace: stray}\n")


def test_build_prints_labelled_ordered_objects_without_a_cluster(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_app(tmp_path)
    code = cli.main(["build", str(tmp_path), "--path", "app", "-n", "shop", "--name", "web"])
    out = capsys.readouterr().out
    assert code == 0
    kinds = [line.split(": ")[1] for line in out.splitlines() if line.startswith("kind: ")]
    assert kinds == ["Namespace", "ClusterRole", "ConfigMap", "Deployment"]
    assert out.count("sealops.dev/sync: shop.web") == 4
    assert "namespace: stray" not in out and "namespace: shop" in out


def test_build_refuses_a_plaintext_secret_without_echoing_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "s.yaml").write_text(
        f"apiVersion: v1\nkind: Secret\nmetadata: {{name: db}}\nstringData: {{pw: {CANARY}}}\n")
    code = cli.main(["build", str(tmp_path)])
    captured = capsys.readouterr()
    assert code == 6  # PolicyError, as for `seal check`
    assert "plaintext Secret in Git" in captured.err
    assert CANARY not in captured.out + captured.err


def test_a_render_error_exits_3_a_refused_url_6_and_bad_usage_2_as_in_seal(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "x.yaml").write_text("kind: ConfigMap\n")
    assert cli.main(["build", str(tmp_path)]) == 3
    assert "Error: x.yaml: document 1" in capsys.readouterr().err
    assert cli.main(["build", str(tmp_path), "--ref", "main"]) == 2
    assert cli.main(["build"]) == 2
    assert cli.main(["build", "ext::sh -c x"]) == 6
    capsys.readouterr()


@pytest.mark.parametrize(("text", "ref"), [
    (None, git.Ref(branch="main")),
    ("release", git.Ref(branch="release")),
    ("refs/heads/a/b", git.Ref(branch="a/b")),
    ("tag:v1.2", git.Ref(tag="v1.2")),
    ("refs/tags/v1.2", git.Ref(tag="v1.2")),
    ("A" * 40, git.Ref(commit="a" * 40)),
    ("commit:" + "b" * 40, git.Ref(commit="b" * 40)),
])
def test_refs_are_parsed_from_one_string(text: str | None, ref: git.Ref) -> None:
    assert oneshot.parse_ref(text) == ref


def test_default_names_are_dns_labels_from_the_source() -> None:
    assert oneshot.default_name("https://git.example/org/Shop_App.git") == "shop-app"
    assert oneshot.default_name("git@host:org/infra.git") == "infra"
    assert oneshot.default_name("/tmp/x/") == "x"
    assert oneshot.default_name("/") == "sync"


def test_git_credentials_come_from_the_environment_only() -> None:
    assert oneshot.credentials_from_env({}) is None
    creds = oneshot.credentials_from_env({"SEALOPS_GIT_TOKEN": CANARY})
    assert creds is not None and creds.password == CANARY and creds.username == "git"
    assert CANARY not in repr(creds)
