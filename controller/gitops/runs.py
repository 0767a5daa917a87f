"""`status.history` of a GitSync: its last runs, newest first (like Flux's `status.history`).

Each entry is one run that changed the outcome (pure; `controller.gitops.report` writes it):

    revision         the revision fetched (absent when the run fetched none)
    reason           the Ready reason of the run (Succeeded, FetchFailed, ...)
    ready            whether the run left the GitSync Ready
    time             when the run finished (RFC 3339)
    durationSeconds  how long the run took
    stages           [{name, durationSeconds}] for each stage reached, in order

A run with the same revision and reason as the newest entry is not added: an interval re-sync
of an unchanged revision then writes no status at all (the Ready condition already says it
holds), so the entries are the last `MAX_RUNS` changes of outcome, each with the time and
stage timings of its first run. Entries written by anyone else are read leniently: a malformed
entry is dropped, never trusted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["MAX_RUNS", "entry", "record"]

MAX_RUNS = 5
_MAX_STAGES = 8


def entry(*, revision: str | None, reason: str, ready: bool, time: str, duration_s: float,
          stages: Iterable[tuple[str, float]]) -> dict[str, Any]:
    """One history entry (durations rounded to milliseconds)."""
    run: dict[str, Any] = {"reason": reason, "ready": ready, "time": time,
                           "durationSeconds": round(max(0.0, duration_s), 3),
                           "stages": [{"name": name, "durationSeconds": round(max(0.0, s), 3)}
                                      for name, s in stages]}
    if revision:
        run["revision"] = revision
    return run


def record(previous: object, run: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The history after `run`: it first, then the previous entries, at most MAX_RUNS."""
    kept = [e for e in previous if _valid(e)] if isinstance(previous, list) else []
    if kept and _same(kept[0], run):
        return kept[:MAX_RUNS]
    return [dict(run), *kept][:MAX_RUNS]


def _same(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return (a.get("revision"), a.get("reason")) == (b.get("revision"), b.get("reason"))


def _valid(value: object) -> bool:
    if not isinstance(value, Mapping):
        return False
    if not isinstance(value.get("reason"), str) or not isinstance(value.get("time"), str):
        return False
    if not isinstance(value.get("ready"), bool):
        return False
    if "revision" in value and not isinstance(value["revision"], str):
        return False
    duration = value.get("durationSeconds")
    if isinstance(duration, bool) or not isinstance(duration, int | float):
        return False
    stages = value.get("stages", [])
    return isinstance(stages, list) and len(stages) <= _MAX_STAGES and all(
        isinstance(s, Mapping) and isinstance(s.get("name"), str) and
        isinstance(s.get("durationSeconds"), int | float) for s in stages)
