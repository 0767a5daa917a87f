"""Whether a newly fetched revision descends from the last applied one (a fast-forward) or the
history was rewritten (a force-push to an older or unrelated commit). Called by `git.fetch`.

Fetches are shallow, so the history between the two commits is usually not local. The check:

1. the previous commit, if it is not in the cache's repository any more, is fetched by sha
   (depth 1); if the server will not serve it, the answer is UNVERIFIED;
2. a new commit whose committer date is older than the previous one's cannot be its
   descendant in any history written by git with a sane clock: REWRITTEN, without a fetch;
3. otherwise the new commit's history is deepened back to the previous commit's date
   (`--shallow-since`, one fetch of only the commits in between) and
   `merge-base --is-ancestor` answers DESCENDANT or REWRITTEN.

UNVERIFIED is treated like REWRITTEN by the pipeline (prunes need confirmation), so a clock
skew or a server that refuses unadvertised objects errs on the safe side.
"""

from __future__ import annotations

from pathlib import Path

from controller.sources import errors, gitcli

__all__ = ["DESCENDANT", "REWRITTEN", "UNVERIFIED", "ancestry"]

DESCENDANT = "Descendant"
REWRITTEN = "Rewritten"
UNVERIFIED = "Unverified"
_PREVIOUS = "refs/sealops/previous"
_DEEPENED = "refs/sealops/deepened"


def ancestry(git: gitcli.Git, repo: Path, url: str, *, wanted: str, old: str, new: str) -> str:
    """DESCENDANT, REWRITTEN or UNVERIFIED for commit `new` (fetched through `wanted`, a remote
    ref or the sha itself) against the previously applied commit `old`."""
    if old == new:
        return DESCENDANT
    base = [f"--git-dir={repo}", "fetch", "--quiet", "--no-tags", "--no-write-fetch-head"]
    have_old = _has_commit(git, repo, old) or _try(
        git, [*base, "--depth", "1", "--end-of-options", url, f"+{old}:{_PREVIOUS}"])
    old_time = _committed_at(git, repo, old) if have_old else None
    new_time = _committed_at(git, repo, new)
    if old_time is None or new_time is None:
        return UNVERIFIED
    if new_time < old_time:
        return REWRITTEN
    if _is_ancestor(git, repo, old, new):
        return DESCENDANT
    if not _try(git, [*base, f"--shallow-since={max(0, old_time - 1)}", "--end-of-options",
                      url, f"+{wanted}:{_DEEPENED}"]):
        return UNVERIFIED
    return DESCENDANT if _is_ancestor(git, repo, old, new) else REWRITTEN


def _try(git: gitcli.Git, args: list[str]) -> bool:
    try:
        git.run(args, action="fetch for the ancestry check")
    except errors.FetchError:
        return False
    return True


def _has_commit(git: gitcli.Git, repo: Path, sha: str) -> bool:
    try:
        git.run([f"--git-dir={repo}", "cat-file", "-e", f"{sha}^{{commit}}"], action="lookup")
    except errors.FetchError:
        return False
    return True


def _committed_at(git: gitcli.Git, repo: Path, sha: str) -> int | None:
    try:
        out = git.run([f"--git-dir={repo}", "show", "-s", "--format=%ct", "--end-of-options",
                       sha], action="log")
    except errors.FetchError:
        return None
    text = out.decode("ascii", "replace").strip()
    return int(text) if text.isdigit() else None


def _is_ancestor(git: gitcli.Git, repo: Path, old: str, new: str) -> bool:
    try:
        git.run([f"--git-dir={repo}", "merge-base", "--is-ancestor", old, new],
                action="ancestry check")
    except errors.FetchError:
        return False
    return True
