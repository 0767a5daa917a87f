"""Display helpers: hostile fields become bounded text, URLs lose their credentials."""

from __future__ import annotations

import datetime

import pytest

from controller.dashboard import common

NOW = datetime.datetime(2026, 12, 3, 12, 0, tzinfo=datetime.UTC)


@pytest.mark.parametrize(("url", "shown"), [
    ("https://alice:s3cr3t@git.example/org/app.git?token=t0k#frag",
     "https://git.example/org/app.git"),
    ("http://127.0.0.1:8080/app.git", "http://127.0.0.1:8080/app.git"),
    ("ssh://git:pw@[::1]:2222/app.git", "ssh://[::1]:2222/app.git"),
    ("https://u:p@ss/word@host.example/x.git", "https://host.example/x.git"),
    ("user:pa55@host.example:org/app.git", "host.example:org/app.git"),
    ("git@github.example:org/app.git", "github.example:org/app.git"),
    (None, ""), (42, "42"), ({"url": "x"}, ""),
])
def test_display_url_drops_user_info_query_and_fragment(url: object, shown: str) -> None:
    assert common.display_url(url) == shown


def test_text_keeps_one_bounded_line_of_strings_only() -> None:
    assert common.text("a\nb\x00c\x1b[31m") == "a b c [31m"
    assert common.text("x" * 500, limit=10) == "x" * 9 + "\u2026"
    assert common.text(["list"]) == "" and common.text(True) == "" and common.text(7) == "7"


@pytest.mark.parametrize(("seconds", "shown"), [
    (0, "0s"), (59, "59s"), (60, "1m"), (3599, "59m"), (7200, "2h"), (3 * 86400 + 5, "3d"),
    (-30, "0s"),
])
def test_age_reads_like_kubectl(seconds: int, shown: str) -> None:
    assert common.age(NOW - datetime.timedelta(seconds=seconds), NOW) == shown


def test_age_of_an_unknown_time_is_a_dash() -> None:
    assert common.age(None, NOW) == "-"


def test_parse_time_accepts_rfc3339_and_refuses_the_rest() -> None:
    assert common.parse_time("2026-12-03T11:00:00Z") == NOW - datetime.timedelta(hours=1)
    assert common.parse_time("yesterday") is None
    assert common.parse_time(1234) is None


def _obj(*conditions: dict[str, object]) -> dict[str, object]:
    return {"status": {"conditions": list(conditions)}}


def test_condition_is_read_from_hostile_status_shapes() -> None:
    assert common.condition({"status": "broken"}) is None
    assert common.condition({"status": {"conditions": "x"}}) is None
    assert common.condition(_obj("junk", {"type": "Ready", "status": "maybe"})) == \
        common.Condition(status="Unknown", reason="", message="", since=None)


@pytest.mark.parametrize(("ready", "reconciling", "suspended", "state"), [
    ("False", "True", True, common.State.FAILED),
    ("True", None, True, common.State.SUSPENDED),
    ("True", "True", False, common.State.PROGRESSING),
    ("True", "False", False, common.State.OK),
    (None, None, False, common.State.UNKNOWN),
    ("Unknown", None, False, common.State.UNKNOWN),
])
def test_a_failing_ready_condition_wins_over_every_other_state(
        ready: str | None, reconciling: str | None, suspended: bool,
        state: common.State) -> None:
    conditions = [{"type": "Ready", "status": ready}] if ready else []
    if reconciling:
        conditions.append({"type": "Reconciling", "status": reconciling})
    obj = _obj(*conditions)
    found = common.state_of(common.condition(obj),
                            reconciling=common.condition(obj, "Reconciling"),
                            suspended=suspended)
    assert found is state
    assert found.css == f"status-{state.value}"
