"""How long `sealops controller` takes to exit on SIGTERM, with the API server up and gone.

On a control plane of its own: a controller is started and sent SIGTERM (baseline: API up);
a second one is started, the kube-apiserver is stopped, and it is sent SIGTERM. Prints both
exit times and their ratio (gone / up); the last line is JSON. Before the fix the "gone" case
took about 55 s: kopf retried its peering goodbye through its whole error backoff schedule.

    .venv/bin/python benchmarks/controller_sigterm.py
"""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sealer.kube import config  # noqa: E402
from tests.harness import controlplane  # noqa: E402
from tests.integration.cli import controllerproc  # noqa: E402


def _exit_seconds(ctl: controllerproc.fixtures.RunningController) -> tuple[float, int]:
    started = time.monotonic()
    os.killpg(ctl.proc.pid, signal.SIGTERM)
    code = ctl.proc.wait(timeout=300)
    return time.monotonic() - started, code


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp, controlplane.running() as cp:
        kube = config.connect(kubeconfig=str(cp.kubeconfig))
        try:
            controllerproc.prepare(cp, kube, "bench-keys", "bench-watch")
        finally:
            kube.close()
        up_ctl = controllerproc.start(cp.kubeconfig, key_namespace="bench-keys",
                                      watch="bench-watch", log=Path(tmp) / "up.log")
        up, up_code = _exit_seconds(up_ctl)
        gone_ctl = controllerproc.start(cp.kubeconfig, key_namespace="bench-keys",
                                        watch="bench-watch", log=Path(tmp) / "gone.log")
        cp.stop_apiserver()
        gone, gone_code = _exit_seconds(gone_ctl)
    print(f"SIGTERM, API server up:   exit {up_code} after {up:.1f} s")
    print(f"SIGTERM, API server gone: exit {gone_code} after {gone:.1f} s")
    print(f"ratio gone/up: {gone / up:.2f}")
    print(json.dumps({"sigterm_api_up_s": round(up, 2), "sigterm_api_gone_s": round(gone, 2),
                      "ratio": round(gone / up, 2), "exit_codes": [up_code, gone_code]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
