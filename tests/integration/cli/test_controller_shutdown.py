"""SIGTERM while the API server is gone: the controller stops without retrying the API.

On a control plane of its own (the test stops that kube-apiserver, as test_api_outage does).
kopf used to retry its peering goodbye through its whole backoff schedule (~55 s, past a Pod's
termination grace period); now, once the stop is asked for, every request gets one attempt.
The test asserts that behaviour (no retried request after the signal, exit status 0), not a
duration: `benchmarks/controller_sigterm.py` measures the time. The controller logs JSON here
(`--log-format json`), so the same run checks that every log line is one JSON object.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from sealer.kube import config
from tests.harness import controlplane
from tests.integration.cli import controllerproc

pytestmark = pytest.mark.integration

SIGNALLED = "Signal SIGTERM is received"


@pytest.fixture
def own_plane() -> Iterator[controlplane.ControlPlane]:
    with controlplane.running() as cp:
        yield cp


def test_sigterm_with_the_api_server_gone_exits_0_without_retrying_the_api(
    own_plane: controlplane.ControlPlane, tmp_path: Path
) -> None:
    kube = config.connect(kubeconfig=str(own_plane.kubeconfig))
    watch, keys = f"t-{secrets.token_hex(4)}", f"keys-{secrets.token_hex(3)}"
    try:
        controllerproc.prepare(own_plane, kube, watch, keys)
    finally:
        kube.close()
    ctl = controllerproc.start(own_plane.kubeconfig, key_namespace=keys, watch=watch,
                               log=tmp_path / "controller.log", args=("--log-format", "json"))
    try:
        own_plane.stop_apiserver()
        os.killpg(ctl.proc.pid, signal.SIGTERM)
        code = ctl.proc.wait(timeout=180)  # a hang guard; the figure is the benchmark's
    finally:
        ctl.stop()
    lines = [json.loads(line) for line in ctl.log_text().splitlines() if line.strip()]
    messages = [entry["message"] for entry in lines]
    assert {"time", "level", "logger", "message"} <= set(lines[0])
    assert code == 0, messages[-20:]
    after = messages[next(i for i, m in enumerate(messages) if SIGNALLED in m):]
    # kopf logs "Request attempt #N failed; will retry" before each backoff sleep.
    retried = [m[:200] for m in after if "failed; will retry" in m]
    assert not retried, retried
