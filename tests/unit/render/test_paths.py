"""secure_join and the symlink policy (HOSTILE-INPUTS F28-F31), on trees in tmp_path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from controller.render import errors, paths


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "app" / "sub").mkdir(parents=True)
    (root / "app" / "cm.yaml").write_text("x: 1\n")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "secret.yaml").write_text("stolen: true\n")
    return root


@pytest.mark.parametrize(
    "rel",
    [
        "../etc",
        "..",
        "/etc/passwd",
        "./a/../../b",
        "app/../app",
        "..\\x",
        "app\\..\\..",
        "%2e%2e/",
        "%2E%2e%2Fetc",
        "app%2fsub",
        "a%5cb",
        "a%00b",
        "a\x00b",
        "a" * 4097,
    ],
)
def test_secure_join_refuses_traversal_before_joining(repo: Path, rel: str) -> None:
    with pytest.raises(errors.PathEscapeError, match="refused"):
        paths.secure_join(repo, rel)


def test_secure_join_allows_4096_characters_but_not_more() -> None:
    assert paths.check_relative("a/" * 2048) == ["a"] * 2048
    with pytest.raises(errors.PathEscapeError, match="4096"):
        paths.check_relative("a" * 4097)


@pytest.mark.parametrize("rel", ["", ".", "app", "./app/", "app//sub", "app/./sub/"])
def test_secure_join_accepts_plain_relative_paths(repo: Path, rel: str) -> None:
    joined = paths.secure_join(repo, rel)
    assert joined.is_relative_to(repo.resolve())


def test_percent_signs_that_do_not_encode_traversal_are_literal(repo: Path) -> None:
    (repo / "100%").mkdir()
    assert paths.secure_join(repo, "100%").name == "100%"


def test_secure_join_follows_in_bounds_relative_symlinks(repo: Path) -> None:
    (repo / "link").symlink_to("app/sub/../cm.yaml")
    assert paths.secure_join(repo, "link") == (repo / "app" / "cm.yaml").resolve()
    (repo / "app" / "sub" / "up").symlink_to("..")
    assert paths.secure_join(repo, "app/sub/up/cm.yaml") == (repo / "app/cm.yaml").resolve()


@pytest.mark.parametrize(
    ("link", "target"),
    [
        ("app/x.yaml", "/etc/passwd"),
        ("app/x.yaml", "../../other/secret.yaml"),
        ("app/x.yaml", "sub/../../../other/secret.yaml"),
        ("app/dir", "/etc"),
        ("app/dir", "../.."),
    ],
)
def test_secure_join_refuses_out_of_bounds_symlinks_naming_the_link(
    repo: Path, link: str, target: str
) -> None:
    (repo / link).symlink_to(target)
    with pytest.raises(errors.PathEscapeError) as caught:
        paths.secure_join(repo, link + ("/passwd" if link.endswith("dir") else ""))
    assert str(caught.value) == f"out of bounds symlink: {link}"


def test_a_chain_escaping_on_its_second_link_names_the_second_link(repo: Path) -> None:
    (repo / "app" / "b").symlink_to("../../other")
    (repo / "a").symlink_to("app/b")
    with pytest.raises(errors.PathEscapeError, match=r"^out of bounds symlink: app/b$"):
        paths.secure_join(repo, "a/secret.yaml")


def test_symlink_loops_are_an_error_not_a_hang(repo: Path) -> None:
    (repo / "a").symlink_to("b")
    (repo / "b").symlink_to("a")
    with pytest.raises(errors.RenderError, match="loop"):
        paths.secure_join(repo, "a")


def test_missing_paths_are_named(repo: Path) -> None:
    with pytest.raises(errors.MissingPathError, match="app/nope"):
        paths.secure_join(repo, "app/nope/x.yaml")
    with pytest.raises(errors.MissingPathError, match="not a directory"):
        paths.secure_join(repo, "app/cm.yaml/x")


def test_read_regular_refuses_a_fifo_without_blocking(repo: Path) -> None:
    fifo = repo / "app" / "pipe.yaml"
    os.mkfifo(fifo)
    root = paths.real_root(repo)
    with pytest.raises(errors.RenderError, match="not a regular file \\(a FIFO\\)"):
        paths.read_regular(root, str(fifo), max_bytes=100)


def test_read_regular_refuses_a_directory_and_oversized_files(repo: Path) -> None:
    root = paths.real_root(repo)
    with pytest.raises(errors.RenderError, match="a directory"):
        paths.read_regular(root, str(repo / "app"), max_bytes=100)
    with pytest.raises(errors.RenderError, match="exceed the limit of 3 bytes"):
        paths.read_regular(root, str(repo / "app" / "cm.yaml"), max_bytes=3)
    assert paths.read_regular(root, str(repo / "app" / "cm.yaml"), max_bytes=5) == b"x: 1\n"


def test_scan_checkout_finds_escaping_links_even_in_hidden_directories(repo: Path) -> None:
    (repo / ".hidden").mkdir()
    (repo / ".hidden" / "l").symlink_to("/proc/self/environ")
    with pytest.raises(errors.PathEscapeError, match=r"symlink: \.hidden/l$"):
        paths.scan_checkout(paths.real_root(repo), max_entries=100)


def test_scan_checkout_ignores_dangling_in_bounds_links(repo: Path) -> None:
    (repo / "dangling").symlink_to("nowhere/at/all")
    paths.scan_checkout(paths.real_root(repo), max_entries=100)


def test_scan_checkout_refuses_fifos(repo: Path) -> None:
    os.mkfifo(repo / "app" / "patch.yaml")
    with pytest.raises(errors.RenderError, match="FIFO"):
        paths.scan_checkout(paths.real_root(repo), max_entries=100)


def test_scan_checkout_is_bounded(repo: Path) -> None:
    with pytest.raises(errors.RenderError, match="more than 2 entries"):
        paths.scan_checkout(paths.real_root(repo), max_entries=2)
