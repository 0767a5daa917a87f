"""When GitSyncs run (controller.gitops.scheduler.State) and the peering gate."""

from __future__ import annotations

import datetime

from controller import peering
from controller.gitops import reconciler, scheduler

KEY = ("shop", "app")
OK = reconciler.Result(300.0, ok=True)
FAILED = reconciler.Result(300.0, ok=False)


def test_a_new_gitsync_runs_at_once_and_then_every_interval() -> None:
    state = scheduler.State()
    assert state.notify(KEY, (1, None), now=0.0)
    assert state.take_due(now=0.0) == [KEY]
    state.finished(KEY, OK, now=10.0)
    assert state.take_due(now=309.9) == []
    assert state.take_due(now=310.0) == [KEY]


def test_status_only_events_do_not_trigger_a_run() -> None:
    state = scheduler.State()
    state.notify(KEY, (1, None), now=0.0)
    state.take_due(now=0.0)
    state.finished(KEY, OK, now=1.0)
    assert not state.notify(KEY, (1, None), now=2.0)
    assert state.take_due(now=2.0) == []


def test_a_new_generation_or_reconcile_request_runs_now() -> None:
    state = scheduler.State()
    state.notify(KEY, (1, None), now=0.0)
    state.take_due(now=0.0)
    state.finished(KEY, OK, now=1.0)
    assert state.notify(KEY, (1, "2024-01-01T00:00:00Z"), now=5.0)
    assert state.take_due(now=5.0) == [KEY]
    state.finished(KEY, OK, now=6.0)
    assert state.notify(KEY, (2, "2024-01-01T00:00:00Z"), now=7.0)
    assert state.take_due(now=7.0) == [KEY]


def test_one_run_per_gitsync_at_a_time_and_a_trigger_during_a_run_queues_one_more() -> None:
    state = scheduler.State()
    state.notify(KEY, (1, None), now=0.0)
    assert state.take_due(now=0.0) == [KEY]
    assert not state.notify(KEY, (2, None), now=1.0)
    assert not state.notify(KEY, (3, None), now=1.5)
    assert state.take_due(now=2.0) == []
    state.finished(KEY, OK, now=3.0)
    assert state.take_due(now=3.0) == [KEY]
    state.finished(KEY, OK, now=4.0)
    assert state.take_due(now=5.0) == []


def test_failures_back_off_exponentially_up_to_the_interval() -> None:
    state = scheduler.State()
    state.notify(KEY, (1, None), now=0.0)
    delays = []
    now = 0.0
    for _ in range(8):
        assert state.take_due(now=now) == [KEY]
        state.finished(KEY, FAILED, now=now)
        due = state.next_due()
        assert due is not None
        delays.append(due - now)
        now = due
    assert delays == [5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 300.0, 300.0]
    state.take_due(now=now)
    state.finished(KEY, OK, now=now)
    assert state.next_due() == now + 300.0


def test_a_suspended_or_refused_gitsync_waits_for_a_new_trigger() -> None:
    state = scheduler.State()
    state.notify(KEY, (1, None), now=0.0)
    state.take_due(now=0.0)
    state.finished(KEY, reconciler.Result(None), now=1.0)
    assert state.next_due() is None
    assert state.notify(KEY, (2, None), now=9.0)


def test_a_forgotten_gitsync_is_never_run_again() -> None:
    state = scheduler.State()
    state.notify(KEY, (1, None), now=0.0)
    state.forget(KEY)
    assert state.take_due(now=1.0) == []
    state.notify(KEY, (1, None), now=2.0)
    state.take_due(now=2.0)
    state.forget(KEY)
    state.finished(KEY, OK, now=3.0)
    assert state.take_due(now=1000.0) == []


def test_retry_delay_never_exceeds_the_interval() -> None:
    assert scheduler.retry_delay(1, interval=2.0) == 2.0
    assert scheduler.retry_delay(50, interval=3600.0) == 300.0


NOW = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)


def peer(priority: int, *, seconds_ago: int, lifetime: int = 60) -> dict[str, object]:
    seen = NOW - datetime.timedelta(seconds=seconds_ago)
    return {"priority": priority, "lastseen": seen.isoformat(), "lifetime": lifetime}


def test_a_live_peer_with_a_higher_priority_closes_the_gate() -> None:
    peers = {"me": peer(10, seconds_ago=1), "other": peer(20, seconds_ago=5)}
    assert peering.blocked_by(peers, priority=10, now=NOW)


def test_dead_or_lower_peers_and_garbage_do_not_close_the_gate() -> None:
    peers = {"me": peer(10, seconds_ago=1), "dead": peer(99, seconds_ago=120),
             "low": peer(3, seconds_ago=1), "junk": "x",
             "bad": {"priority": "high", "lastseen": "never"}}
    assert not peering.blocked_by(peers, priority=10, now=NOW)
