"""Durations as kubeseal takes them, and conditions written only when they change."""

from __future__ import annotations

import datetime

import pytest

from controller import settings, status


@pytest.mark.parametrize(("text", "seconds"), [
    ("720h", 720 * 3600), ("30m", 1800), ("1h30m", 5400), ("45s", 45), ("0", 0),
    ("1.5h", 5400), ("250ms", 0.25), ("2d", 172800),
])
def test_durations_parse_like_go(text: str, seconds: float) -> None:
    assert settings.parse_duration(text) == datetime.timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["10", "h", "5x", "-1h", "1h5"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        settings.parse_duration(text)


def test_a_condition_keeps_its_transition_time_while_its_status_holds() -> None:
    first = status.merge_conditions([], [status.Condition("Ready", True, "Succeeded", "ok")],
                                    now="2026-01-01T00:00:00Z", generation=1)
    again = status.merge_conditions(first, [status.Condition("Ready", True, "Succeeded", "ok")],
                                    now="2026-01-02T00:00:00Z", generation=1)
    assert again[0]["lastTransitionTime"] == "2026-01-01T00:00:00Z"
    assert not status.status_changed({"conditions": first}, {"conditions": again})
    flipped = status.merge_conditions(again, [status.Condition("Ready", False, "X", "bad")],
                                      now="2026-01-03T00:00:00Z", generation=2)
    assert flipped[0]["lastTransitionTime"] == "2026-01-03T00:00:00Z"
    assert status.status_changed({"conditions": again}, {"conditions": flipped})


def test_settings_are_frozen() -> None:
    s = settings.ControllerSettings(namespace="x")
    with pytest.raises(AttributeError):
        s.namespace = "y"  # type: ignore[misc]
    assert s.clusterwide
