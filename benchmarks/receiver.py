"""Benchmark push-to-applied latency through a Receiver, against a direct reconcile request.

On its own local control plane (`tests.harness.controlplane.start()`), with one controller
(`sealops controller`, watching one namespace) and the test git server on 127.0.0.1:

1. A GitSync with `interval: 1h` (so the interval never helps) and a github Receiver for it;
   the bare repository's post-receive hook POSTs a signed push event to the Receiver.
2. Receiver: `ROUNDS` pushes of one new ConfigMap each; latency = from `git push` starting
   to the GitSync Ready with the pushed commit applied. Goal: median <= 2 s.
3. Baseline: the same, with the hook removed and the benchmark itself setting
   `sealops.dev/reconcile-requested-at` right after the push returns (the fastest path without
   a webhook). The ratio receiver/baseline shows what the webhook hop costs.

Usage: .venv/bin/python benchmarks/receiver.py   (or: .venv/bin/python -m benchmarks.receiver)
The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from controller.gitops import reconciler
from controller.receivers import service
from sealer.kube import client, config
from tests.gitserver import repos, server
from tests.harness import controlplane

ROOT = Path(__file__).resolve().parents[1]
NS = "bench-receiver"
ROUNDS = 5
HOOK = """#!{python}
import hashlib, hmac, json, sys, urllib.request, uuid
token = {token!r}.encode()
for line in sys.stdin:
    old, new, ref = line.split()
    body = json.dumps({{"ref": ref, "after": new}}).encode()
    sig = "sha256=" + hmac.new(token, body, hashlib.sha256).hexdigest()
    urllib.request.urlopen(urllib.request.Request({url!r}, data=body, method="POST", headers={{
        "X-GitHub-Event": "push", "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": sig}}), timeout=30).read()
"""


def wait(predicate: Callable[[], Any], *, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.02)


def applied(kube: client.KubeClient, sha: str) -> bool:
    obj = kube.get(reconciler.GITSYNCS, "app", namespace=NS) or {}
    status = obj.get("status") or {}
    return str(status.get("lastAppliedRevision", "")).endswith(sha)


def rounds(kube: client.KubeClient, work: repos.WorkTree, label: str, *,
           after_push: Callable[[], None]) -> list[float]:
    figures = []
    for i in range(ROUNDS):
        work.write({f"{label}-{i}.yaml": yaml.safe_dump({
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"{label}-{i}"},
            "data": {"k": "v"}})})
        sha = work.commit()
        started = time.perf_counter()
        work.push()
        after_push()
        wait(lambda s=sha: applied(kube, s), timeout=120, what=f"{label} round {i}")
        figures.append(time.perf_counter() - started)
    return figures


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-receiver-") as tmp:
        cp = controlplane.start(workdir=Path(tmp) / "cp")
        ctl: subprocess.Popen[bytes] | None = None
        try:
            kube = config.connect(kubeconfig=str(cp.kubeconfig))
            subprocess.run(["kubectl", "--kubeconfig", str(cp.kubeconfig), "apply", "-R", "-f",
                            str(ROOT / "crds")], check=True, capture_output=True)
            for ns in (NS, "bench-keys"):
                kube.create(client.NAMESPACES, {"metadata": {"name": ns}})
            port = controlplane.free_port()
            env = {**os.environ, "KUBECONFIG": str(cp.kubeconfig)}
            log = (Path(tmp) / "controller.log").open("wb")
            ctl = subprocess.Popen(
                [sys.executable, "-m", "controller.cli", "controller", "--namespace",
                 "bench-keys", "--watch-namespace", NS, "--listen", f"127.0.0.1:{port}"],
                stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT,
                start_new_session=True)
            served = Path(tmp) / "served"
            served.mkdir()
            with server.GitHTTPServer(served) as git_server:
                bare = repos.create_bare(served, "app.git")
                work = repos.WorkTree(Path(tmp) / "work", bare)
                work.write({"seed.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: "
                                         "{name: seed}\n"})
                work.commit()
                work.push()
                figures = measure(kube, work, bare, url=git_server.url("app.git"),
                                  base=f"http://127.0.0.1:{port}")
        finally:
            if ctl is not None:
                os.killpg(ctl.pid, signal.SIGTERM)
                ctl.wait(timeout=30)
            cp.stop()
    print(json.dumps(figures))


def measure(kube: client.KubeClient, work: repos.WorkTree, bare: Path, *, url: str,
            base: str) -> dict[str, Any]:
    token = "bench-token"
    kube.create(client.SECRETS, {"metadata": {"name": "hook-token"}, "data": {
        "token": base64.b64encode(token.encode()).decode()}}, namespace=NS)
    kube.create(reconciler.GITSYNCS, {
        "apiVersion": "sealops.dev/v1alpha1", "kind": "GitSync", "metadata": {"name": "app"},
        "spec": {"url": url, "interval": "1h"}}, namespace=NS)
    kube.create(service.RECEIVERS, {
        "apiVersion": "sealops.dev/v1alpha1", "kind": "Receiver", "metadata": {"name": "hook"},
        "spec": {"type": "github", "secretRef": {"name": "hook-token"},
                 "resources": [{"kind": "GitSync", "name": "app"}]}}, namespace=NS)
    path = wait(lambda: ((kube.get(service.RECEIVERS, "hook", namespace=NS) or {})
                         .get("status") or {}).get("webhookPath"), timeout=120,
                what="the webhook path")
    wait(lambda: applied(kube, work.run("rev-parse", "HEAD").strip()), timeout=120,
         what="the first sync")
    hook = bare / "hooks" / "post-receive"
    hook.write_text(HOOK.format(python=sys.executable, token=token, url=base + path))
    hook.chmod(0o755)
    webhook = rounds(kube, work, "hook", after_push=lambda: None)
    hook.unlink()

    def request() -> None:
        stamp = datetime.datetime.now(datetime.UTC).isoformat()
        kube.patch(reconciler.GITSYNCS, "app", {"metadata": {"annotations": {
            reconciler.REQUESTED_AT: stamp}}}, namespace=NS)
    direct = rounds(kube, work, "direct", after_push=request)
    median_hook, median_direct = statistics.median(webhook), statistics.median(direct)
    print(f"receiver: median {median_hook:.2f} s (rounds {', '.join(f'{x:.2f}' for x in webhook)})")
    print(f"direct request: median {median_direct:.2f} s")
    print(f"ratio receiver/direct: {median_hook / median_direct:.2f}; goal median <= 2 s: "
          f"{'met' if median_hook <= 2.0 else 'missed'}")
    return {"receiver_median_s": round(median_hook, 3), "direct_median_s": round(median_direct, 3),
            "ratio": round(median_hook / median_direct, 3), "rounds": ROUNDS,
            "receiver_s": [round(x, 3) for x in webhook], "direct_s": [round(x, 3) for x in direct]}


if __name__ == "__main__":
    main()
