"""The suite itself is deterministic on a busy machine: no wall-clock budget on any test.

A 2 s per-test timeout once made a fresh `make test` fail under load (Hypothesis builds its
character tables on first use). These tests keep that class of failure from coming back.
"""

from __future__ import annotations

import pathlib
import re
import tomllib

from hypothesis import settings

ROOT = pathlib.Path(__file__).resolve().parents[3]
HANG_GUARD_MIN_S = 600


def test_hypothesis_runs_without_deadlines() -> None:
    assert settings().deadline is None


def test_the_pytest_timeout_is_only_a_generous_hang_guard() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert config["tool"]["pytest"]["ini_options"]["timeout"] >= HANG_GUARD_MIN_S


def test_no_test_sets_its_own_wall_clock_budget() -> None:
    budget = re.compile(r"mark\.timeout\(|settings\([^)]*deadline=(?!None)")
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "tests").rglob("*.py")
        if path.name != pathlib.Path(__file__).name and budget.search(path.read_text())
    ]
    assert offenders == []
