"""Resolve a ref to a commit and fetch that commit into an immutable checkout.

Cache layout (one directory per source, owned by the caller):

    <cache_dir>/repo.git/        bare repository, shallow fetches land here
    <cache_dir>/rev-<sha>/       the working tree of one revision, written once, then only read

A revision directory is built under a temporary name, checked against the size caps and
renamed into place, so its existence means it is complete. Only the newest `keep` revisions
stay. `resolve` is one `git ls-remote`, so an unchanged revision costs no fetch. Submodules
are never fetched: their gitlinks check out as empty directories.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from controller.sources import credentials, errors, gitcli, history, urls

__all__ = ["Checkout", "CheckoutLimits", "GitSource", "Ref", "fetch", "resolve"]

DEFAULT_TIMEOUT = 60.0
_COMMIT = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
_REF_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//")
_FETCHED = "refs/sealops/fetched"


@dataclass(frozen=True)
class Ref:
    """What to check out: a branch or a tag, or a commit (optionally with its branch).

    With `branch` and `commit`, the commit is fetched directly and, if the server refuses
    unadvertised objects, the whole branch is fetched instead.
    """

    branch: str | None = None
    tag: str | None = None
    commit: str | None = None

    def __post_init__(self) -> None:
        if self.branch is not None and self.tag is not None:
            raise errors.SourceRefusedError("ref: give a branch or a tag, not both")
        if self.branch is None and self.tag is None and self.commit is None:
            raise errors.SourceRefusedError("ref: give a branch, a tag or a commit")
        for name in (self.branch, self.tag):
            if name is not None:
                _check_ref_name(name)
        if self.commit is not None:
            if not isinstance(self.commit, str) or not _COMMIT.match(self.commit.lower()):
                raise errors.SourceRefusedError("ref: a commit is 40 or 64 hexadecimal digits")
            object.__setattr__(self, "commit", self.commit.lower())

    def __str__(self) -> str:
        parts = [f"{k} {v}" for k, v in vars(self).items() if v is not None]
        return ", ".join(parts)

    def remote_ref(self) -> str | None:
        if self.branch is not None:
            return f"refs/heads/{self.branch}"
        if self.tag is not None:
            return f"refs/tags/{self.tag}"
        return None


@dataclass(frozen=True)
class Checkout:
    """One fetched revision: its commit sha and the root of its (never modified) tree.

    `ancestry`: with a `previous` commit given to `fetch`, whether this one descends from it
    (`history.DESCENDANT`, `REWRITTEN` or `UNVERIFIED`); None when not asked.
    """

    revision: str
    root: Path
    ancestry: str | None = None


@dataclass(frozen=True)
class CheckoutLimits:
    max_bytes: int = 256 << 20
    max_files: int = 20_000
    keep: int = 2


def resolve(
    url: str,
    ref: Ref,
    *,
    creds: credentials.Credentials | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    allow_local: bool = False,
) -> str:
    """The commit sha `ref` points at now (a commit resolves to itself without network)."""
    urls.check_url(url, allow_local=allow_local)
    if ref.commit is not None:
        return ref.commit
    with gitcli.session(url, creds=creds, timeout=timeout, allow_local=allow_local) as git:
        return _ls_remote(git, url, ref)


def fetch(
    url: str,
    ref: Ref,
    *,
    cache_dir: Path,
    creds: credentials.Credentials | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    allow_local: bool = False,
    limits: CheckoutLimits = CheckoutLimits(),
    previous: str | None = None,
) -> Checkout:
    """Fetch `ref` shallowly and return the checkout of its revision (reused when cached).

    With `previous` (the commit applied last), also tell whether the history was rewritten
    (`history.ancestry`; costs at most two small fetches, only when the revision changed).
    """
    urls.check_url(url, allow_local=allow_local)
    cache = Path(cache_dir).resolve()
    cache.mkdir(mode=0o700, parents=True, exist_ok=True)
    with gitcli.session(url, creds=creds, timeout=timeout, allow_local=allow_local) as git:
        sha = ref.commit if ref.commit is not None else _ls_remote(git, url, ref)
        root = _cached(cache, sha)
        if root is None:
            repo = _ensure_repo(git, cache)
            sha = _fetch_commit(git, repo, url, ref, sha)
            root = _cached(cache, sha) or _materialize(git, repo, sha, cache, limits)
        ancestry = None
        if previous is not None and _COMMIT.match(previous.lower()):
            ancestry = history.ancestry(git, _ensure_repo(git, cache), url,
                                        wanted=ref.remote_ref() or sha, old=previous.lower(),
                                        new=sha)
    _keep_newest(cache, keep=limits.keep, current=root)
    return Checkout(revision=sha, root=root, ancestry=ancestry)


@dataclass(frozen=True)
class GitSource:
    """A source URL with its ref, credentials and settings, for handlers that hold one."""

    url: str
    ref: Ref
    creds: credentials.Credentials | None = None
    timeout: float = DEFAULT_TIMEOUT
    allow_local: bool = False
    limits: CheckoutLimits = CheckoutLimits()

    def resolve(self) -> str:
        return resolve(self.url, self.ref, creds=self.creds, timeout=self.timeout,
                       allow_local=self.allow_local)

    def fetch(self, cache_dir: Path) -> Checkout:
        return fetch(self.url, self.ref, cache_dir=cache_dir, creds=self.creds,
                     timeout=self.timeout, allow_local=self.allow_local, limits=self.limits)


def _check_ref_name(name: str) -> None:
    bad = (
        not isinstance(name, str)
        or not name
        or len(name) > 255
        or name.startswith(("-", "/", "refs/"))
        or name.endswith(("/", ".", ".lock"))
        or name == "@"
        or _REF_FORBIDDEN.search(name) is not None
        or any(part.startswith(".") or part.endswith(".lock") for part in name.split("/"))
    )
    if bad:
        shown = str(name)[:100]
        raise errors.SourceRefusedError(f"ref: {shown!r} is not a valid branch or tag name")


def _ls_remote(git: gitcli.Git, url: str, ref: Ref) -> str:
    wanted = ref.remote_ref()
    assert wanted is not None
    out = git.run(["ls-remote", "--end-of-options", url, wanted, wanted + "^{}"],
                  action="ls-remote", max_stdout=1 << 20)
    found: dict[str, str] = {}
    for line in out.decode("utf-8", "replace").splitlines():
        sha, _, name = line.partition("\t")
        if name in (wanted, wanted + "^{}") and _COMMIT.match(sha):
            found[name] = sha
    sha = found.get(wanted + "^{}", found.get(wanted, ""))
    if not sha:
        raise errors.FetchError(f"{ref} not found in {urls.redact_url(url)}")
    return sha


def _ensure_repo(git: gitcli.Git, cache: Path) -> Path:
    repo = cache / "repo.git"
    if not (repo / "HEAD").is_file():
        shutil.rmtree(repo, ignore_errors=True)
        git.run(["init", "--quiet", "--bare", str(repo)], action="git init")
    return repo


def _has_commit(git: gitcli.Git, repo: Path, sha: str) -> bool:
    try:
        git.run([f"--git-dir={repo}", "cat-file", "-e", f"{sha}^{{commit}}"], action="lookup")
    except errors.FetchError:
        return False
    return True


def _fetch_commit(git: gitcli.Git, repo: Path, url: str, ref: Ref, sha: str) -> str:
    """Fetch what `ref` names; return the commit actually fetched (a branch may have moved)."""
    base = [f"--git-dir={repo}", "fetch", "--quiet", "--no-tags", "--no-write-fetch-head"]
    wanted = ref.remote_ref()
    if ref.commit is None:
        assert wanted is not None
        git.run([*base, "--depth", "1", "--end-of-options", url, f"+{wanted}:{_FETCHED}"],
                action="fetch")
        return _rev_parse(git, repo, f"{_FETCHED}^{{commit}}")
    if _has_commit(git, repo, sha):
        return sha
    try:
        git.run([*base, "--depth", "1", "--end-of-options", url, f"+{sha}:{_FETCHED}"],
                action="fetch")
    except errors.FetchError:
        # The server refuses unadvertised objects (uploadpack.allowReachableSHA1InWant off):
        # fetch the branch, or every branch, with full history and look for the commit there.
        refspec = f"+{wanted}:{_FETCHED}" if wanted else "+refs/heads/*:refs/sealops/heads/*"
        unshallow = ["--unshallow"] if (repo / "shallow").exists() else []
        git.run([*base, *unshallow, "--end-of-options", url, refspec], action="fetch")
    if not _has_commit(git, repo, sha):
        raise errors.FetchError(f"commit {sha} not found in {urls.redact_url(url)}")
    return sha


def _rev_parse(git: gitcli.Git, repo: Path, name: str) -> str:
    out = git.run([f"--git-dir={repo}", "rev-parse", "--verify", "--end-of-options", name],
                  action="rev-parse")
    sha = out.decode("ascii", "replace").strip()
    if not _COMMIT.match(sha):
        raise errors.FetchError(f"git rev-parse printed no commit for {name}")
    return sha


def _cached(cache: Path, sha: str) -> Path | None:
    path = cache / f"rev-{sha}"
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return None
    return path if stat.S_ISDIR(mode) else None


def _materialize(
    git: gitcli.Git, repo: Path, sha: str, cache: Path, limits: CheckoutLimits
) -> Path:
    _check_tree(git, repo, sha, limits)
    staging = Path(tempfile.mkdtemp(prefix=f".rev-{sha[:12]}-", dir=cache))
    try:
        tree = staging / "tree"
        tree.mkdir()
        git.run(
            [f"--git-dir={repo}", f"--work-tree={tree}", "read-tree", "-u", "--reset", sha],
            action="checkout",
            extra_env={"GIT_INDEX_FILE": str(staging / "index")},
        )
        _check_disk(tree, limits)
        final = cache / f"rev-{sha}"
        try:
            tree.rename(final)
        except OSError:
            if _cached(cache, sha) is None:
                raise
        return final
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _check_tree(git: gitcli.Git, repo: Path, sha: str, limits: CheckoutLimits) -> None:
    """Refuse an oversized revision from its tree listing, before writing any file."""
    out = git.run([f"--git-dir={repo}", "ls-tree", "-r", "-l", "-z", "--full-tree", sha],
                  action="ls-tree", max_stdout=max(1 << 20, limits.max_files * 512))
    entries = [e for e in out.split(b"\0") if e]
    size = 0
    for entry in entries:
        fields = entry.split(b"\t", 1)[0].split()
        if len(fields) == 4 and fields[3].isdigit():
            size += int(fields[3])
    _check_counts(files=len(entries), size=size, limits=limits)


def _check_disk(tree: Path, limits: CheckoutLimits) -> None:
    """Walk the written tree without following symlinks; count entries and regular-file bytes."""
    files = size = 0
    pending = [tree]
    while pending:
        with os.scandir(pending.pop()) as entries:
            for entry in entries:
                st = entry.stat(follow_symlinks=False)
                if stat.S_ISDIR(st.st_mode):
                    pending.append(Path(entry.path))
                    continue
                files += 1
                if stat.S_ISREG(st.st_mode):
                    size += st.st_size
        _check_counts(files=files, size=size, limits=limits)


def _check_counts(*, files: int, size: int, limits: CheckoutLimits) -> None:
    if files > limits.max_files:
        raise errors.CheckoutTooLargeError(
            f"the revision has more than {limits.max_files} files"
        )
    if size > limits.max_bytes:
        raise errors.CheckoutTooLargeError(
            f"the revision holds more than {limits.max_bytes} bytes"
        )


def _keep_newest(cache: Path, *, keep: int, current: Path) -> None:
    with contextlib.suppress(OSError):
        os.utime(current)
    revisions = [p for p in cache.iterdir() if p.name.startswith("rev-") and p != current]
    revisions.sort(key=lambda p: p.lstat().st_mtime_ns, reverse=True)
    for old in revisions[max(0, keep - 1) :]:
        shutil.rmtree(old, ignore_errors=True)
