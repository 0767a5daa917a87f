"""Fetching from a real git HTTP server (HOSTILE-INPUTS F32, F33)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from controller.sources import credentials, errors, git
from tests.gitserver import repos
from tests.integration.git.conftest import USERNAME, GitEnv

pytestmark = pytest.mark.integration

MAIN = git.Ref(branch="main")


def cm(name: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n"


def upload_packs(env: GitEnv) -> int:
    """How many pack fetches the server answered (ls-remote is not one)."""
    return sum(1 for r in env.server.requests if r.command == "fetch" and r.status == 200)


def test_fetch_with_the_right_credentials_checks_out_the_pushed_revision(git_env: GitEnv) -> None:
    work = git_env.repo()
    work.write({"app/cm.yaml": cm("a")})
    sha = work.commit()
    work.push()
    checkout = git.fetch(git_env.url(), MAIN, cache_dir=git_env.cache, creds=git_env.creds)
    assert checkout.revision == sha
    assert (checkout.root / "app" / "cm.yaml").read_text() == cm("a")
    assert checkout.root == git_env.cache / f"rev-{sha}"
    assert not (checkout.root / ".git").exists()
    assert {r.user for r in git_env.server.requests if r.status == 200} == {USERNAME}


@pytest.mark.parametrize("password", ["wrong-password", None])
def test_wrong_or_missing_credentials_fail_without_leaking_them(
    git_env: GitEnv, password: str | None
) -> None:
    work = git_env.repo()
    work.commit()
    work.push()
    creds = credentials.Credentials(username=USERNAME, password=password) if password else None
    with pytest.raises(errors.FetchError) as caught:
        git.fetch(git_env.url(), MAIN, cache_dir=git_env.cache, creds=creds)
    text = f"{caught.value} {caught.value!r}"
    assert caught.value.reason == "FetchFailed" and caught.value.retryable
    assert git_env.url() in text
    for forbidden in ("wrong-password", git_env.password, f"{USERNAME}:", "@127.0.0.1"):
        assert forbidden not in text
    assert not list(git_env.cache.glob("rev-*"))


def test_server_side_password_never_reaches_the_request_log_or_the_error(
    git_env: GitEnv,
) -> None:
    work = git_env.repo()
    work.commit()
    work.push()
    with pytest.raises(errors.FetchError) as caught:
        git.fetch(git_env.url("missing.git"), MAIN, cache_dir=git_env.cache,
                  creds=git_env.creds)
    assert git_env.password not in str(caught.value)
    assert git_env.password not in repr(git_env.server.requests)


def test_file_urls_are_fetched_only_when_local_sources_are_allowed(git_env: GitEnv) -> None:
    work = git_env.repo()
    work.write({"a.yaml": cm("a")})
    sha = work.commit()
    work.push()
    url = f"file://{work.bare}"
    with pytest.raises(errors.SourceRefusedError, match="file://"):
        git.fetch(url, MAIN, cache_dir=git_env.cache)
    with pytest.raises(errors.SourceRefusedError):
        git.resolve(url, MAIN)
    assert git.fetch(url, MAIN, cache_dir=git_env.cache, allow_local=True).revision == sha


def test_an_unchanged_revision_is_resolved_without_fetching_again(git_env: GitEnv) -> None:
    work = git_env.repo()
    first = work.commit("one")
    work.push()
    url, creds = git_env.url(), git_env.creds
    assert git.resolve(url, MAIN, creds=creds) == first
    git.fetch(url, MAIN, cache_dir=git_env.cache, creds=creds)
    fetched = upload_packs(git_env)
    assert git.resolve(url, MAIN, creds=creds) == first
    again = git.fetch(url, MAIN, cache_dir=git_env.cache, creds=creds)
    assert again.revision == first and upload_packs(git_env) == fetched
    second = work.commit("two")
    work.push()
    assert git.resolve(url, MAIN, creds=creds) == second
    assert git.fetch(url, MAIN, cache_dir=git_env.cache, creds=creds).revision == second
    assert upload_packs(git_env) > fetched


def test_only_the_newest_revisions_are_kept(git_env: GitEnv) -> None:
    work = git_env.repo()
    shas = []
    for n in range(3):
        shas.append(work.commit(f"c{n}"))
        work.push()
        git.fetch(git_env.url(), MAIN, cache_dir=git_env.cache, creds=git_env.creds)
    kept = sorted(p.name for p in git_env.cache.glob("rev-*"))
    assert kept == sorted(f"rev-{sha}" for sha in shas[1:])


def test_branch_tag_and_commit_refs(git_env: GitEnv) -> None:
    work = git_env.repo()
    work.write({"v.yaml": cm("one")})
    first = work.commit("one")
    work.tag("v1")
    work.tag("v1-annotated", annotated=True)
    work.write({"v.yaml": cm("two")})
    second = work.commit("two")
    work.push()
    work.branch("release")
    work.write({"v.yaml": cm("release")})
    release = work.commit("release")
    work.push("release")
    url, creds, cache = git_env.url(), git_env.creds, git_env.cache
    cases = {
        git.Ref(branch="main"): second,
        git.Ref(branch="release"): release,
        git.Ref(tag="v1"): first,
        git.Ref(tag="v1-annotated"): first,
        git.Ref(commit=first): first,
        git.Ref(branch="main", commit=first): first,
    }
    for ref, expected in cases.items():
        assert git.resolve(url, ref, creds=creds) == expected, ref
        checkout = git.fetch(url, ref, cache_dir=cache, creds=creds)
        assert checkout.revision == expected, ref
    with pytest.raises(errors.FetchError, match="branch nope not found"):
        git.fetch(url, git.Ref(branch="nope"), cache_dir=cache, creds=creds)


@pytest.mark.parametrize("branch", ["main", None])
def test_a_commit_the_server_will_not_serve_directly_is_fetched_through_its_branch(
    git_env: GitEnv, branch: str | None
) -> None:
    git_env.server.protocol_v2 = False
    work = git_env.repo(allow_reachable_sha1=False)
    work.write({"v.yaml": cm("old")})
    old = work.commit("old")
    work.write({"v.yaml": cm("new")})
    work.commit("new")
    work.push()
    git.fetch(git_env.url(), MAIN, cache_dir=git_env.cache, creds=git_env.creds)
    checkout = git.fetch(git_env.url(), git.Ref(branch=branch, commit=old),
                         cache_dir=git_env.cache, creds=git_env.creds)
    assert checkout.revision == old
    assert (checkout.root / "v.yaml").read_text() == cm("old")


def test_an_unknown_commit_is_a_fetch_error(git_env: GitEnv) -> None:
    work = git_env.repo()
    work.commit()
    work.push()
    with pytest.raises(errors.FetchError):
        git.fetch(git_env.url(), git.Ref(commit="f" * 40), cache_dir=git_env.cache,
                  creds=git_env.creds)


def test_a_force_pushed_branch_is_followed_to_its_new_history(git_env: GitEnv) -> None:
    work = git_env.repo()
    work.write({"v.yaml": cm("before")})
    before = work.commit("before")
    work.push()
    git.fetch(git_env.url(), MAIN, cache_dir=git_env.cache, creds=git_env.creds)
    work.run("checkout", "--quiet", "--orphan", "rewritten")
    work.write({"v.yaml": cm("after")})
    after = work.commit("rewritten history")
    work.run("push", "--quiet", "--force", "origin", "rewritten:main")
    checkout = git.fetch(git_env.url(), MAIN, cache_dir=git_env.cache, creds=git_env.creds)
    assert checkout.revision == after != before
    assert (checkout.root / "v.yaml").read_text() == cm("after")


def test_submodules_are_never_fetched(git_env: GitEnv) -> None:
    sub = git_env.repo("sub.git")
    sub.write({"stolen.yaml": cm("from-submodule")})
    sub.commit()
    sub.push()
    work = git_env.repo()
    work.write({"a.yaml": cm("a")})
    work.run("submodule", "--quiet", "add", str(sub.bare), "vendor")
    work.run("config", "--file", ".gitmodules", "submodule.vendor.url", git_env.url("sub.git"))
    work.commit("with submodule")
    work.push()
    before = len(git_env.server.requests)
    checkout = git.fetch(git_env.url(), MAIN, cache_dir=git_env.cache, creds=git_env.creds)
    assert (checkout.root / ".gitmodules").exists()
    assert list((checkout.root / "vendor").iterdir()) == []
    assert not any("sub.git" in r.path for r in git_env.server.requests[before:])


def test_lfs_and_other_attribute_filters_are_not_run(git_env: GitEnv) -> None:
    pointer = "version https://git-lfs.github.com/spec/v1\noid sha256:" + "0" * 64 + "\nsize 1\n"
    work = git_env.repo()
    work.write({".gitattributes": "*.bin filter=lfs diff=lfs merge=lfs -text\n"
                                  "*.yaml filter=evil\n",
                "big.bin": pointer, "a.yaml": cm("a")})
    work.commit()
    work.push()
    checkout = git.fetch(git_env.url(), MAIN, cache_dir=git_env.cache, creds=git_env.creds)
    assert (checkout.root / "big.bin").read_text() == pointer
    assert (checkout.root / "a.yaml").read_text() == cm("a")


@pytest.mark.parametrize("refuse", [True, False])
def test_a_server_that_is_down_is_a_fetch_error(git_env: GitEnv, refuse: bool) -> None:
    work = git_env.repo()
    work.commit()
    work.push()
    git_env.server.down(refuse=refuse)
    with pytest.raises(errors.FetchError, match=r"ls-remote of http://127\.0\.0\.1"):
        git.fetch(git_env.url(), MAIN, cache_dir=git_env.cache, creds=git_env.creds)
    git_env.server.up()
    assert git.fetch(git_env.url(), MAIN, cache_dir=git_env.cache, creds=git_env.creds)


def test_a_slow_server_times_out_within_the_budget(git_env: GitEnv) -> None:
    work = git_env.repo()
    work.commit()
    work.push()
    git_env.server.delay = 30.0
    started = time.monotonic()
    with pytest.raises(errors.FetchError, match="timed out after 2s"):
        git.fetch(git_env.url(), MAIN, cache_dir=git_env.cache, creds=git_env.creds, timeout=2)
    assert time.monotonic() - started < 30  # killed at its timeout, not after the 30 s stall


def test_a_revision_over_the_caps_is_refused_before_it_is_kept(git_env: GitEnv) -> None:
    work = git_env.repo()
    work.write({f"f{n}.yaml": cm(f"f{n}") for n in range(5)})
    work.write({"big.txt": "x" * 5000})
    work.commit()
    work.push()
    url, creds, cache = git_env.url(), git_env.creds, git_env.cache
    with pytest.raises(errors.CheckoutTooLargeError, match="more than 4 files"):
        git.fetch(url, MAIN, cache_dir=cache, creds=creds,
                  limits=git.CheckoutLimits(max_files=4))
    with pytest.raises(errors.CheckoutTooLargeError, match="more than 1000 bytes"):
        git.fetch(url, MAIN, cache_dir=cache, creds=creds,
                  limits=git.CheckoutLimits(max_bytes=1000))
    assert not [p for p in cache.iterdir() if p.name != "repo.git"]


def test_git_source_bundles_url_ref_and_credentials(git_env: GitEnv, tmp_path: Path) -> None:
    work = git_env.repo()
    sha = work.commit()
    work.push()
    source = git.GitSource(url=git_env.url(), ref=MAIN, creds=git_env.creds, timeout=30)
    assert source.resolve() == sha
    assert source.fetch(tmp_path / "c").revision == sha
    assert "canary" not in repr(source)


def test_repos_helper_refuses_to_hide_git_failures(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="git rev-parse"):
        repos.git("rev-parse", "HEAD", cwd=tmp_path)
