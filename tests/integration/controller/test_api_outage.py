"""An API-server outage of several minutes: the controller must not die while looking healthy.

Runs on a control plane of its own (it stops that kube-apiserver). A controller runs, the
apiserver is stopped for three minutes and started again on the same port with the same data;
meanwhile /healthz is polled. Then a SealedSecret created after the outage must be unsealed:
by the same process if it recovered, or - when a loop died - by a restarted one, after the first
exited non-zero and answered 503 (naming the loop) rather than 200 while the loop was dead.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sealer.kube import client, config
from tests.harness import controlplane
from tests.harness.waiting import wait_for
from tests.integration import controller_fixtures as fixtures

OUTAGE_S = 180.0


@pytest.fixture
def own_plane() -> Iterator[controlplane.ControlPlane]:
    with controlplane.running() as cp:
        yield cp


class HealthLog:
    """Polls /healthz on a thread and keeps every (time, status, body) it saw."""

    def __init__(self, ctl: fixtures.RunningController) -> None:
        self.ctl = ctl
        self.seen: list[tuple[float, int, bytes]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.thread.start()

    def _poll(self) -> None:
        while not self.stop.wait(0.5) and self.ctl.proc.poll() is None:
            try:
                status, body = self.ctl.get("/healthz")
            except OSError:
                continue
            self.seen.append((time.monotonic(), status, body))

    def close(self) -> None:
        self.stop.set()
        self.thread.join()


def test_an_api_outage_of_minutes_ends_in_convergence_and_never_in_a_healthy_zombie(
    own_plane: controlplane.ControlPlane, tmp_path: Path
) -> None:
    kube = config.connect(kubeconfig=str(own_plane.kubeconfig))
    try:
        _run_outage(own_plane, kube, tmp_path)
    finally:
        kube.close()


def _run_outage(cp: controlplane.ControlPlane, kube: Any, tmp_path: Path) -> None:
    subprocess.run(["kubectl", "--kubeconfig", str(cp.kubeconfig), "apply", "-R", "-f",
                    str(fixtures.ROOT / "crds")], check=True, capture_output=True)
    namespace = f"t-{secrets.token_hex(4)}"
    kube.create(client.NAMESPACES, {"metadata": {"name": namespace}})
    start = _starter(cp.kubeconfig, kube, tmp_path)
    first = start(watch=namespace, key_namespace="keys-outage")
    started = [first]
    try:
        health = HealthLog(first)
        cp.stop_apiserver()
        died_at = _wait_outage(first)
        cp.start_apiserver()
        health.close()
        if first.proc.poll() is None:  # recovered in-process: it must converge by itself
            ctl, branch = first, "recovered in-process"
            assert ctl.get("/healthz")[0] == 200
        else:
            ctl, branch = _restarted(first, health, died_at, start, namespace)
            started.append(ctl)
        print(f"outage of {OUTAGE_S:.0f} s: {branch}")
        doc = fixtures.sealed_secret(namespace=namespace, name="after", public=ctl.public(),
                                     data={"k": b"after the outage"})
        kube.create(fixtures.SEALOPS, doc, namespace=namespace)
        secret = wait_for(lambda: kube.get(client.SECRETS, "after", namespace=namespace),
                          timeout=120, what="the Secret of a SealedSecret made after the outage")
        assert fixtures.secret_data(secret) == {"k": b"after the outage"}
    finally:
        for ctl in started:
            ctl.stop()


def _wait_outage(ctl: fixtures.RunningController) -> float | None:
    """Keep the API down for OUTAGE_S; the time the controller logged a dead loop, if it did."""
    deadline = time.monotonic() + OUTAGE_S
    died_at = None
    while time.monotonic() < deadline:
        if died_at is None and "a controller loop is dead" in ctl.log_text():
            died_at = time.monotonic()
        time.sleep(1)
    return died_at


def _restarted(first: fixtures.RunningController, health: HealthLog, died_at: float | None,
               start: fixtures.StartController, namespace: str
               ) -> tuple[fixtures.RunningController, str]:
    code = first.proc.wait(timeout=60)
    log = first.log_text()
    assert code != 0, log[-3000:]
    assert died_at is not None, log[-3000:]
    assert "kopf:" in log.split("a controller loop is dead", 1)[1][:400]
    after_death = [(status, body) for when, status, body in health.seen if when >= died_at]
    assert all(status != 200 for status, _ in after_death), after_death
    assert any(status == 503 and b"kopf" in body for status, body in after_death), \
        health.seen[-5:]
    # What the Deployment does: start the container again with the same key namespace.
    second = start(watch=namespace, key_namespace=first.key_namespace)
    return second, f"exited with status {code}; a restarted controller converged"


def _starter(kubeconfig: Path, kube: Any, tmp_path: Path) -> fixtures.StartController:
    """Like the `start_controller` fixture, on this test's own control plane."""

    def start(*, watch: str, key_namespace: str) -> fixtures.RunningController:
        if kube.get(client.NAMESPACES, key_namespace) is None:
            kube.create(client.NAMESPACES, {"metadata": {"name": key_namespace}})
        port = controlplane.free_port()
        log = tmp_path / f"controller-{port}.log"
        env = {**os.environ, "KUBECONFIG": str(kubeconfig), "PYTHONUNBUFFERED": "1"}
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "controller.cli", "-v", "controller", "--namespace",
                 key_namespace, "--watch-namespace", watch, "--listen", f"127.0.0.1:{port}"],
                stdout=out, stderr=subprocess.STDOUT, env=env, cwd=fixtures.ROOT,
                start_new_session=True)
        ctl = fixtures.RunningController(proc, log, f"http://127.0.0.1:{port}", key_namespace)
        wait_for(lambda: proc.poll() is not None or _healthy(ctl), timeout=60,
                 what="the controller's /healthz")
        assert proc.poll() is None, ctl.log_text()[-3000:]
        wait_for(lambda: "Handler 'key-secrets'" in ctl.log_text()
                 or "Resuming operations" in ctl.log_text(), timeout=75,
                 what="kopf to start watching")
        return ctl

    return start


def _healthy(ctl: fixtures.RunningController) -> bool:
    try:
        return ctl.get("/healthz")[0] == 200
    except OSError:
        return False
