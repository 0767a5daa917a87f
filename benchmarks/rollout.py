"""Rolling on Secret change: 200 Deployments over 200 Secrets, every Secret changed at once.

Each Deployment (replicas 0, so no kubelet is needed) opts in with `sealops.dev/restart-on:
auto` and uses one Secret, the Secret of one SealedSecret. The run changes every SealedSecret
and times until every Deployment has its new ReplicaSet (the control plane's deployment
controller makes one per rollout), then, as the baseline in the same run, times
`kubectl rollout restart` of the same 200 Deployments until each has one more ReplicaSet.
Prints both, their ratio (goal: <= 1.5) and the number of rollouts the Secret change caused
(goal: exactly one per Deployment, counted after the controller has gone quiet). The last
line is JSON.

    .venv/bin/python benchmarks/rollout.py [--count 200]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from controller.rollout import refs  # noqa: E402
from sealer.crypto import keyring, keys, scope  # noqa: E402
from sealer.kube import client, config  # noqa: E402
from tests.harness import controlplane  # noqa: E402

SEALOPS = client.Resource("sealops.dev", "v1alpha1", "SealedSecret", "sealedsecrets", True)
REPLICASETS = client.Resource("apps", "v1", "ReplicaSet", "replicasets", True)
QUIET_S = 5.0  # no new ReplicaSet for this long: the controller is done


def _sealed(namespace: str, n: int, public: keys.PublicKeys, value: str) -> dict[str, Any]:
    name = f"s{n:03d}"
    label = scope.label(scope.Scope.STRICT, namespace=namespace, name=name)
    return {"apiVersion": "sealops.dev/v1alpha1", "kind": "SealedSecret",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"encryptedData": {"password": keyring.seal_value(
                f"{value}-{n}".encode(), public=public, label=label, item="password")}}}


def _deployment(namespace: str, n: int) -> dict[str, Any]:
    name = f"d{n:03d}"
    container = {"name": "app", "image": "registry.invalid/app:1",
                 "envFrom": [{"secretRef": {"name": f"s{n:03d}"}}]}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": namespace,
                         "annotations": {refs.RESTART_ON: "auto"}},
            "spec": {"replicas": 0, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [container]}}}}


def _replicasets(kube: client.KubeClient, namespace: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for rs in kube.list(REPLICASETS, namespace=namespace):
        for ref in rs["metadata"].get("ownerReferences") or []:
            if ref.get("kind") == "Deployment":
                counts[ref["name"]] += 1
    return counts


def _wait_all(kube: client.KubeClient, namespace: str, *, names: list[str], at_least: int,
              timeout: float = 900) -> float:
    """Seconds (monotonic clock) at which every Deployment had `at_least` ReplicaSets."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts = _replicasets(kube, namespace)
        if all(counts[name] >= at_least for name in names):
            return time.monotonic()
        time.sleep(0.2)
    raise RuntimeError(f"not every Deployment reached {at_least} ReplicaSets")


def _quiet_total(kube: client.KubeClient, namespace: str) -> int:
    """The ReplicaSet total once it has not changed for QUIET_S."""
    total, since = -1, time.monotonic()
    while True:
        now_total = sum(_replicasets(kube, namespace).values())
        if now_total != total:
            total, since = now_total, time.monotonic()
        elif time.monotonic() - since >= QUIET_S:
            return total
        time.sleep(0.5)


def _get(port: int, path: str) -> bytes:
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as resp:
                body: bytes = resp.read()
                return body
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _parallel(call: Any, items: list[Any]) -> None:
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(call, items))


def _run(kube: client.KubeClient, kubeconfig: Path, *, count: int) -> dict[str, Any]:
    tag = os.getpid() % 1000
    key_ns, ns = f"bench-roll-keys-{tag}", f"bench-roll-{tag}"
    for name in (key_ns, ns):
        kube.create(client.NAMESPACES, {"metadata": {"name": name}})
    port = controlplane.free_port()
    log = open(f"/tmp/sealops-bench-rollout-{tag}.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "controller.cli", "controller", "--namespace", key_ns,
         "--watch-namespace", ns, "--listen", f"127.0.0.1:{port}", "--key-renewal", "0"],
        env={**os.environ, "KUBECONFIG": str(kubeconfig)}, stdout=log,
        stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
    try:
        _get(port, "/healthz")
        public = keys.parse_public_pem(_get(port, "/v1/public.pem"))
        time.sleep(2.0)  # let kopf open its watches
        names = [f"d{n:03d}" for n in range(count)]
        _parallel(lambda n: kube.create(SEALOPS, _sealed(ns, n, public, "one"), namespace=ns),
                  list(range(count)))
        while sum(1 for s in kube.list(client.SECRETS, namespace=ns)
                  if s["metadata"]["name"].startswith("s")) < count:
            time.sleep(0.2)
        _parallel(lambda n: kube.create(refs.DEPLOYMENTS, _deployment(ns, n), namespace=ns),
                  list(range(count)))
        _wait_all(kube, ns, names=names, at_least=1)
        before = sum(_replicasets(kube, ns).values())
        changed = [_sealed(ns, n, public, "two") for n in range(count)]

        start = time.monotonic()
        _parallel(lambda b: kube.patch(SEALOPS, b["metadata"]["name"], {"spec": b["spec"]},
                                       namespace=ns), changed)
        ours = _wait_all(kube, ns, names=names, at_least=2) - start
        rollouts = _quiet_total(kube, ns) - before

        start = time.monotonic()
        subprocess.run(["kubectl", "--kubeconfig", str(kubeconfig), "-n", ns, "rollout",
                        "restart", "deployment", *names], check=True, capture_output=True)
        baseline = _wait_all(kube, ns, names=names, at_least=3) - start
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
        log.close()
        kube.delete(client.NAMESPACES, ns)
        kube.delete(client.NAMESPACES, key_ns)
    return {"benchmark": "rollout", "deployments": count, "secret_change_seconds": round(ours, 3),
            "rollout_restart_seconds": round(baseline, 3),
            "ratio_to_rollout_restart": round(ours / baseline, 3), "rollouts": rollouts,
            "goal_ratio": 1.5, "goal_rollouts": count}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=200)
    args = parser.parse_args()
    with controlplane.running() as cp:
        subprocess.run(["kubectl", "--kubeconfig", str(cp.kubeconfig), "apply", "-R", "-f",
                        str(ROOT / "crds")], check=True, capture_output=True)
        time.sleep(2)
        kube = config.connect(kubeconfig=str(cp.kubeconfig), pool_size=16)
        result = _run(kube, cp.kubeconfig, count=args.count)
    print(f"{args.count} Secrets changed -> every Deployment rolled in "
          f"{result['secret_change_seconds']:.2f} s | kubectl rollout restart "
          f"{result['rollout_restart_seconds']:.2f} s | ratio "
          f"{result['ratio_to_rollout_restart']:.2f} (goal <= 1.5) | rollouts "
          f"{result['rollouts']} (goal {args.count})", flush=True)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
