"""A `sealops controller` process on any control plane (the fixtures bind the session's).

For tests and benchmarks that run their own control plane because they stop its API server
(`controlplane.ControlPlane.stop_apiserver`), so that other tests are not affected.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from sealer.kube import client
from tests.harness import controlplane
from tests.harness.waiting import wait_for
from tests.integration import controller_fixtures as fixtures


def prepare(cp: controlplane.ControlPlane, kube: Any, *namespaces: str) -> None:
    """CRDs applied and `namespaces` created on `cp`."""
    subprocess.run(["kubectl", "--kubeconfig", str(cp.kubeconfig), "apply", "-R", "-f",
                    str(fixtures.ROOT / "crds")], check=True, capture_output=True)
    for name in namespaces:
        if kube.get(client.NAMESPACES, name) is None:
            kube.create(client.NAMESPACES, {"metadata": {"name": name}})


def start(kubeconfig: Path, *, key_namespace: str, watch: str, log: Path,
          args: tuple[str, ...] = ()) -> fixtures.RunningController:
    """A controller that is healthy and watching (kopf has started its handlers)."""
    port = controlplane.free_port()
    env = {**os.environ, "KUBECONFIG": str(kubeconfig), "PYTHONUNBUFFERED": "1"}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "controller.cli", "-v", *args, "controller", "--namespace",
             key_namespace, "--watch-namespace", watch, "--listen", f"127.0.0.1:{port}"],
            stdout=out, stderr=subprocess.STDOUT, env=env, cwd=fixtures.ROOT,
            start_new_session=True)
    ctl = fixtures.RunningController(proc, log, f"http://127.0.0.1:{port}", key_namespace)
    try:
        wait_for(lambda: proc.poll() is not None or _healthy(ctl), timeout=90,
                 what="the controller's /healthz")
        assert proc.poll() is None, ctl.log_text()[-3000:]
        wait_for(lambda: "Handler 'key-secrets'" in ctl.log_text()
                 or "Resuming operations" in ctl.log_text(), timeout=90,
                 what="kopf to start watching")
    except BaseException:
        ctl.stop()
        raise
    return ctl


def _healthy(ctl: fixtures.RunningController) -> bool:
    try:
        return ctl.get("/healthz")[0] == 200
    except OSError:
        return False
