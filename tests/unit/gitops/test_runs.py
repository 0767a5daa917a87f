"""GitSync `status.history` (controller.gitops.runs): newest first, bounded, one entry per
change of outcome, and hostile entries dropped."""

from __future__ import annotations

from typing import Any

from controller.gitops import runs


def run(revision: str | None, reason: str, time: str = "2026-01-01T00:00:00Z") -> dict[str, Any]:
    return runs.entry(revision=revision, reason=reason, ready=reason == "Succeeded", time=time,
                      duration_s=1.23456, stages=[("fetch", 0.5), ("render", 0.0004)])


def test_an_entry_carries_revision_reason_time_duration_and_stages() -> None:
    entry = run("main@sha1:abc", "Succeeded")
    assert entry == {"revision": "main@sha1:abc", "reason": "Succeeded", "ready": True,
                     "time": "2026-01-01T00:00:00Z", "durationSeconds": 1.235,
                     "stages": [{"name": "fetch", "durationSeconds": 0.5},
                                {"name": "render", "durationSeconds": 0.0}]}
    assert "revision" not in run(None, "FetchFailed")


def test_history_is_newest_first_and_keeps_the_last_five_changes() -> None:
    history: list[dict[str, Any]] = []
    for i in range(7):
        history = runs.record(history, run(f"main@sha1:{i}", "Succeeded"))
    assert [e["revision"] for e in history] == [f"main@sha1:{i}" for i in (6, 5, 4, 3, 2)]


def test_a_repeat_of_the_newest_outcome_leaves_the_history_unchanged() -> None:
    first = runs.record([], run("main@sha1:a", "Succeeded", "2026-01-01T00:00:00Z"))
    again = runs.record(first, run("main@sha1:a", "Succeeded", "2026-01-01T00:05:00Z"))
    assert again == first
    failed = runs.record(again, run("main@sha1:a", "ApplyFailed"))
    assert [e["reason"] for e in failed] == ["ApplyFailed", "Succeeded"]


def test_malformed_entries_written_by_someone_else_are_dropped() -> None:
    hostile: list[object] = [
        "x", {"reason": 1, "ready": True, "time": "t", "durationSeconds": 1},
        {"reason": "Succeeded", "ready": "yes", "time": "t", "durationSeconds": 1},
        {"reason": "Succeeded", "ready": True, "time": "t", "durationSeconds": True},
        {"reason": "Succeeded", "ready": True, "time": "t", "durationSeconds": 1,
         "stages": [{"name": "fetch"}]},
        run("main@sha1:ok", "Succeeded"),
    ]
    history = runs.record(hostile, run("main@sha1:new", "FetchFailed"))
    assert [e.get("revision") for e in history] == ["main@sha1:new", "main@sha1:ok"]
    assert runs.record({"not": "a list"}, run(None, "FetchFailed"))[0]["reason"] == "FetchFailed"
