"""Pure parts of the HTTP layer: name checks, work counting, the rate limiter, loop liveness."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from controller.http import health, limits
from sealer import errors


def _sealed(*, namespace: Any = "prod", name: Any = "db",
            items: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"apiVersion": "sealops.dev/v1alpha1", "kind": "SealedSecret",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"encryptedData": items if items is not None else {"k": "U08Cabc="}}}


@pytest.mark.parametrize(("namespace", "name", "message"), [
    ("a/b", "db", "namespace 'a/b' is not a valid DNS-1123 label"),
    ("", "db", "metadata.namespace is missing or empty"),
    (None, "db", "metadata.namespace is missing or empty"),
    ("x" * 64, "db", "is not a valid DNS-1123 label"),
    ("prod", "a/b", "metadata.name 'a/b' is not a valid DNS-1123 subdomain"),
    ("prod", "", "metadata.name is missing or not a string"),
    ("prod", "n" * 254, "is not a valid DNS-1123 subdomain"),
    ("prod", "Upper", "is not a valid DNS-1123 subdomain"),
    ("prod", "db.", "is not a valid DNS-1123 subdomain"),
    ("prod", "d\x00b", "is not a valid DNS-1123 subdomain"),
    ("prod", 5, "metadata.name is missing or not a string"),
])
def test_check_sealed_refuses_hostile_names_with_a_message_naming_the_field(
    namespace: Any, name: Any, message: str
) -> None:
    with pytest.raises(errors.ManifestError, match=message.replace(".", r"\.")[:40]):
        limits.check_sealed(_sealed(namespace=namespace, name=name))


@pytest.mark.parametrize("items", [{}, {"a/b": "x"}, {"k": 5}, {"..": "x"}])
def test_check_sealed_refuses_empty_or_invalid_items(items: dict[str, Any]) -> None:
    with pytest.raises(errors.ManifestError):
        limits.check_sealed(_sealed(items=items))


def test_check_sealed_accepts_a_well_formed_sealed_secret() -> None:
    assert limits.check_sealed(_sealed(name="db.prod-1")) == ("prod", "db.prod-1")


def test_work_counts_v1_items_once_per_key_and_rotate_per_scope() -> None:
    v1 = {f"k{i}": "AQBvbmU=" for i in range(10)}
    v2 = {f"k{i}": "U08CAgAA" for i in range(10)}
    assert limits.work_of(_sealed(items=v2), keys=3, rotate=False) == 10
    assert limits.work_of(_sealed(items=v1), keys=3, rotate=False) == 30
    assert limits.work_of(_sealed(items=v1), keys=3, rotate=True) == 10 * (3 * 3 + 1)
    big = {"k": "U08C" + "A" * (2 * limits.BYTES_PER_OPENING)}
    assert limits.work_of(_sealed(items=big), keys=1, rotate=False) == 3


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_rate_limiter_charges_work_and_refuses_what_can_never_fit() -> None:
    clock = Clock()
    limiter = limits.RateLimiter(per_minute=60, now=clock)

    assert limiter.charge(work=1).allowed  # a small request costs one request
    heavy = limiter.charge(work=2900)  # 2,900 v1 items: 90 requests' worth, more than 60
    assert (heavy.allowed, heavy.too_big) == (False, True)
    assert limiter.charge(work=32 * 59).allowed  # the rest of the bucket
    refused = limiter.charge(work=32)
    assert (refused.allowed, refused.too_big, refused.retry_after_s) == (False, False, 1)
    clock.now += 1.0  # one request per second comes back
    assert limiter.charge(work=32).allowed
    assert not limiter.allow()


def test_rate_limiter_keeps_request_semantics_for_one_item_requests() -> None:
    limiter = limits.RateLimiter(per_minute=3, now=Clock())
    assert [limiter.charge(work=1).allowed for _ in range(4)] == [True, True, True, False]


def test_health_reports_starting_alive_stuck_and_dead_loops_by_name() -> None:
    clock = Clock()
    state = health.Health(clock=clock)
    pulse: list[float | None] = [None]
    state.watch("kopf", max_silence=60)
    state.watch("gitops-scheduler", max_silence=180, pulse=lambda: pulse[0])

    assert state.check().ok  # neither has started: the startup probe covers that
    state.beat("kopf")
    pulse[0] = 0.0
    clock.now = 61.0
    verdict = state.check()
    assert verdict.stuck == ("kopf: no heartbeat for 61 s (limit 60 s)",)
    assert verdict.fatal == ()
    state.beat("kopf")
    assert state.check().ok
    pulse[0] = None  # the scheduler's thread ended
    verdict = state.check()
    assert verdict.dead == ("gitops-scheduler: its thread has ended",)
    assert verdict.fatal == verdict.dead
    clock.now = 200.0
    assert "kopf: no heartbeat for 139 s (limit 60 s)" in state.check().fatal


def test_a_failed_loop_stays_dead_even_if_it_beats_again() -> None:
    state = health.Health(clock=Clock())
    state.watch("kopf", max_silence=60)
    state.fail("kopf", "kopf's 'multidimensional multitasker' task failed (APIError)")
    state.beat("kopf")
    assert state.check().dead == (
        "kopf: kopf's 'multidimensional multitasker' task failed (APIError)",)


def test_watchdog_exits_with_its_code_once_a_loop_is_dead() -> None:
    state = health.Health()
    state.watch("key-renewal", max_silence=60)
    state.fail("key-renewal", "its thread has ended")
    exited: list[int] = []
    done = threading.Event()

    def fake_exit(code: int) -> None:
        exited.append(code)
        done.set()

    dog = health.Watchdog(state, stop=threading.Event(), exit=fake_exit, grace_s=0)
    dog.start()
    assert done.wait(30)
    assert exited == [health.EXIT_CODE]
    dog.terminate(("again",))  # only once
    assert exited == [health.EXIT_CODE]
