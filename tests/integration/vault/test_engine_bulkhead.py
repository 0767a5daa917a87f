"""A hung Vault blocks only its own store: Bulkhead with two real test servers."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from controller.vault import bulkhead
from sealer import errors
from tests.integration.vault import engine
from tests.vaultserver import VaultTestServer

pytestmark = pytest.mark.integration


@pytest.fixture
def heads() -> Iterator[bulkhead.Bulkhead]:
    pool = bulkhead.Bulkhead(max_concurrent=1, max_waiting=1)
    try:
        yield pool
    finally:
        pool.close()


def test_hung_store_hits_its_deadline_while_another_store_keeps_syncing(
        vault: VaultTestServer, heads: bulkhead.Bulkhead) -> None:
    vault.faults.delay(3.0, "secret/*")
    with VaultTestServer.start() as healthy:
        healthy.kv2_put(path="shop/db", data={"k": "v"})
        with engine.session(engine.token_store(vault), engine.Credentials("root"),
                            timeout=2.0) as hung, \
                engine.session(engine.token_store(healthy), engine.Credentials("root")) as ok:
            started = time.monotonic()
            with pytest.raises(errors.VaultError) as info:
                heads.run("hung", lambda: hung.read("shop/db"), deadline_s=0.3)
            assert info.value.reason == "VaultUnavailable"
            assert time.monotonic() - started < 3.0  # never waited out the hung Vault
            assert heads.in_flight("hung") == 1  # the worker is still waiting on Vault
            result = heads.run("healthy", lambda: ok.read("shop/db"), deadline_s=2.0)
            assert result.data == {"k": "v"}
            assert time.monotonic() - started < 3.0


def test_a_full_lane_refuses_new_work_at_once(heads: bulkhead.Bulkhead) -> None:
    release = threading.Event()
    waiter = threading.Thread(
        target=lambda: heads.run("store", release.wait, deadline_s=10.0), daemon=True)
    try:
        with pytest.raises(errors.VaultError):  # one running past its deadline...
            heads.run("store", release.wait, deadline_s=0.05)
        waiter.start()  # ...and one queued behind it: the lane is full
        deadline = time.monotonic() + 5.0
        while heads.in_flight("store") < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert heads.in_flight("store") == 2
        started = time.monotonic()
        with pytest.raises(errors.VaultError) as info:
            heads.run("store", lambda: True, deadline_s=5.0)
        assert info.value.reason == "VaultBusy" and info.value.retryable
        assert time.monotonic() - started < 5.0  # refused, not queued behind the lane
        assert heads.run("other", lambda: "fine", deadline_s=1.0) == "fine"
    finally:
        release.set()
        waiter.join(timeout=5.0)
    assert heads.in_flight("store") == 0


def test_queued_work_abandoned_at_its_deadline_frees_its_slot(
        heads: bulkhead.Bulkhead) -> None:
    release = threading.Event()
    try:
        for _ in range(2):
            with pytest.raises(errors.VaultError):
                heads.run("store", release.wait, deadline_s=0.05)
        assert heads.in_flight("store") == 1  # the running one; the queued one was cancelled
    finally:
        release.set()


def test_slots_are_released_when_work_finishes_or_fails(heads: bulkhead.Bulkhead) -> None:
    assert heads.run("s", lambda: 1, deadline_s=1.0) == 1

    def boom() -> None:
        raise errors.VaultError("x", reason="NotFound", retryable=False)

    with pytest.raises(errors.VaultError):
        heads.run("s", boom, deadline_s=1.0)
    assert heads.in_flight("s") == 0
