"""Refresh jitter and retry backoff: bounds, spread and Retry-After (seeded rng)."""

from __future__ import annotations

import random

import pytest

from controller.vault import sync


def test_refresh_stays_within_ten_percent_of_the_interval() -> None:
    rng = random.Random(1)
    delays = [sync.next_refresh(600.0, rng=rng) for _ in range(2000)]
    assert min(delays) >= 540.0 and max(delays) <= 660.0
    assert max(delays) - min(delays) > 100.0  # actually spread, not constant


def test_first_refresh_is_spread_over_a_short_window() -> None:
    rng = random.Random(2)
    delays = [sync.next_refresh(3600.0, rng=rng, first=True) for _ in range(2000)]
    assert min(delays) >= 0.0 and max(delays) <= 30.0
    assert max(delays) > 25.0 and min(delays) < 5.0
    short = [sync.next_refresh(60.0, rng=rng, first=True) for _ in range(200)]
    assert max(short) <= 6.0


def test_refresh_rejects_a_non_positive_interval() -> None:
    with pytest.raises(ValueError):
        sync.next_refresh(0.0, rng=random.Random(0))


def test_backoff_ceiling_doubles_per_attempt_up_to_the_cap() -> None:
    rng = random.Random(3)
    for attempt, ceiling in [(0, 1.0), (1, 2.0), (3, 8.0), (8, 256.0), (9, 300.0), (500, 300.0)]:
        delays = [sync.backoff(attempt, rng=rng) for _ in range(500)]
        assert min(delays) >= 0.0 and max(delays) <= ceiling
        assert max(delays) > ceiling * 0.8  # full jitter reaches near the ceiling


def test_backoff_is_full_jitter_not_a_fixed_schedule() -> None:
    rng = random.Random(4)
    delays = [sync.backoff(6, rng=rng) for _ in range(500)]
    assert min(delays) < 10.0 < 50.0 < max(delays)


def test_backoff_is_deterministic_for_a_seed() -> None:
    assert [sync.backoff(4, rng=random.Random(9)) for _ in range(3)] == \
        [sync.backoff(4, rng=random.Random(9)) for _ in range(3)]


def test_backoff_waits_at_least_retry_after_with_a_little_jitter() -> None:
    rng = random.Random(5)
    delays = [sync.backoff(0, rng=rng, retry_after=7.0) for _ in range(500)]
    assert min(delays) >= 7.0 and max(delays) <= 8.0
    assert len(set(delays)) > 400


def test_backoff_caps_a_huge_retry_after() -> None:
    rng = random.Random(6)
    assert sync.backoff(0, rng=rng, cap=300.0, retry_after=86400.0) <= 301.0


def test_backoff_rejects_negative_attempts() -> None:
    with pytest.raises(ValueError):
        sync.backoff(-1, rng=random.Random(0))
