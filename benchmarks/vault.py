"""Vault sync at scale: 1,000 VaultSecrets (one path each, 30 s refresh) through one VaultStore.

Starts its own control plane, the Vault test server (in this process, wall clock) and the
controller process, then prints:

    first sync      seconds from the first VaultSecret created until every Secret exists
                    (goal <= 20 s), next to the baseline: the same number of Secrets created
                    directly through the API with the same client concurrency, in this run
    requests/cycle  Vault requests per VaultSecret per refresh interval, measured over two
                    steady-state intervals (goal <= 1.05); logins over the whole run (goal: one
                    per token lifetime, i.e. 1 here)
    writes/cycle    Secrets whose resourceVersion moved across those intervals with nothing
                    changed in Vault (goal 0); VaultSecret status writes likewise
    burst           the most Vault requests in any one second of the run (goal < count / 3)

The last line is JSON.

    .venv/bin/python benchmarks/vault.py [--count 1000] [--interval 30]
"""

from __future__ import annotations

import argparse
import base64
import collections
import concurrent.futures
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from controller.vaultsync import objects  # noqa: E402
from sealer.kube import client, config  # noqa: E402
from tests.harness import controlplane  # noqa: E402
from tests.vaultserver import VaultTestServer  # noqa: E402

THREADS = 8
LABEL = objects.OWNER_LABEL


def _secret(ns: str, name: str, data: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": name, "namespace": ns},
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}}


def _baseline(kube: client.KubeClient, count: int) -> float:
    """Seconds to create `count` small Secrets directly, THREADS at a time."""
    ns = f"bench-baseline-{os.getpid() % 1000}"
    kube.create(client.NAMESPACES, {"metadata": {"name": ns}})
    bodies = [_secret(ns, f"b{i:04d}", {"v": f"value-{i}"}) for i in range(count)]
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(lambda b: kube.create(client.SECRETS, b, namespace=ns), bodies))
    elapsed = time.perf_counter() - start
    kube.delete(client.NAMESPACES, ns)
    return elapsed


def _vault(count: int) -> tuple[VaultTestServer, str]:
    vault = VaultTestServer.start(root_token=f"root-{os.getpid()}", clock=time.time)
    vault.set_policy("bench", {"secret/data/bench/*": ["read"]})
    for i in range(count):
        vault.kv2_put(path=f"bench/s{i:04d}", data={"v": f"value-{i}"})
    return vault, vault.create_token(policies=["bench"], ttl=3600)


def _start_controller(kubeconfig: Path, *, key_ns: str, ns: str, tag: str) -> tuple[
        subprocess.Popen[bytes], Any]:
    port = controlplane.free_port()
    log = open(f"/tmp/sealops-bench-vault-{tag}.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "controller.cli", "controller", "--namespace", key_ns,
         "--watch-namespace", ns, "--listen", f"127.0.0.1:{port}", "--key-renewal", "0"],
        env={**os.environ, "KUBECONFIG": str(kubeconfig)}, stdout=log,
        stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                break
        except OSError:
            time.sleep(0.2)
    time.sleep(2.0)  # let kopf open its watches
    return proc, log


def _targets(kube: client.KubeClient, ns: str) -> dict[str, str]:
    return {s["metadata"]["name"]: s["metadata"]["resourceVersion"]
            for s in kube.list(client.SECRETS, namespace=ns, label_selector=LABEL)}


def _owners(kube: client.KubeClient, ns: str) -> dict[str, str]:
    return {v["metadata"]["name"]: v["metadata"]["resourceVersion"]
            for v in kube.list(objects.VAULT_SECRETS, namespace=ns)}


def _first_sync(kube: client.KubeClient, ns: str, count: int, interval: int) -> tuple[
        float, float]:
    bodies = [{"apiVersion": "sealops.dev/v1alpha1", "kind": "VaultSecret",
               "metadata": {"name": f"s{i:04d}", "namespace": ns},
               "spec": {"storeRef": {"name": "vault"}, "refreshInterval": f"{interval}s",
                        "dataFrom": [{"path": f"bench/s{i:04d}"}]}} for i in range(count)]
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(lambda b: kube.create(objects.VAULT_SECRETS, b, namespace=ns), bodies))
    created = time.perf_counter() - start
    while len(_targets(kube, ns)) < count:
        time.sleep(0.5)
    return time.perf_counter() - start, created


def _ready(kube: client.KubeClient, ns: str) -> int:
    return sum(1 for v in kube.list(objects.VAULT_SECRETS, namespace=ns)
               for c in (v.get("status") or {}).get("conditions") or []
               if c.get("type") == "Ready" and c.get("status") == "True")


def _steady(kube: client.KubeClient, vault: VaultTestServer, ns: str, *, count: int,
            interval: int) -> dict[str, float]:
    """Two refresh intervals with nothing changing in Vault."""
    while _ready(kube, ns) < count:
        time.sleep(1.0)
    time.sleep(interval * 0.5)  # let the first syncs' status writes settle
    secrets_before, owners_before = _targets(kube, ns), _owners(kube, ns)
    begin = time.time()
    time.sleep(2 * interval)
    end = time.time()
    secrets_after, owners_after = _targets(kube, ns), _owners(kube, ns)
    window = [r for r in vault.requests if begin <= r.time < end]
    return {
        "requests_per_cycle_per_object": len(window) / 2 / count,
        "reads_per_cycle_per_object": sum(1 for r in window if "/data/" in r.path) / 2 / count,
        "secret_writes_per_cycle": sum(1 for k, v in secrets_after.items()
                                       if secrets_before.get(k) != v) / 2,
        "status_writes_per_cycle": sum(1 for k, v in owners_after.items()
                                       if owners_before.get(k) != v) / 2,
    }


def _burst(vault: VaultTestServer) -> int:
    per_second = collections.Counter(int(r.time) for r in vault.requests)
    return max(per_second.values(), default=0)


def _logins(vault: VaultTestServer) -> int:
    return sum(1 for r in vault.requests
               if r.path.endswith("/login") or r.path == "/v1/auth/token/lookup-self")


def _run(cp: controlplane.ControlPlane, *, count: int, interval: int) -> dict[str, Any]:
    kube = config.connect(kubeconfig=str(cp.kubeconfig), pool_size=16)
    baseline = _baseline(kube, count)
    vault, token = _vault(count)
    tag = str(os.getpid() % 1000)
    key_ns, ns = f"bench-keys-{tag}", f"bench-vault-{tag}"
    for name in (key_ns, ns):
        kube.create(client.NAMESPACES, {"metadata": {"name": name}})
    kube.create(client.SECRETS, _secret(ns, "vault-token", {"token": token}), namespace=ns)
    kube.create(objects.VAULT_STORES, {
        "apiVersion": "sealops.dev/v1alpha1", "kind": "VaultStore",
        "metadata": {"name": "vault", "namespace": ns},
        "spec": {"server": vault.url, "kv": {"mount": "secret", "version": 2},
                 "auth": {"token": {"secretRef": {"name": "vault-token", "key": "token"}}}}},
        namespace=ns)
    proc, log = _start_controller(cp.kubeconfig, key_ns=key_ns, ns=ns, tag=tag)
    try:
        first, created = _first_sync(kube, ns, count, interval)
        steady = _steady(kube, vault, ns, count=count, interval=interval)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()
        vault.stop()
    return {"benchmark": "vault", "count": count, "interval_s": interval,
            "first_sync_seconds": round(first, 2), "create_vault_secrets_seconds":
            round(created, 2), "baseline_direct_create_seconds": round(baseline, 2),
            "first_sync_vs_baseline": round(first / baseline, 2),
            **{k: round(v, 3) for k, v in steady.items()},
            "logins": _logins(vault), "max_requests_in_one_second": _burst(vault),
            "burst_goal": count / 3}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--interval", type=int, default=30)
    args = parser.parse_args()
    with controlplane.running() as cp:
        subprocess.run(["kubectl", "--kubeconfig", str(cp.kubeconfig), "apply", "-R", "-f",
                        str(ROOT / "crds")], check=True, capture_output=True)
        time.sleep(2)
        result = _run(cp, count=args.count, interval=args.interval)
    print(f"first sync: all {result['count']} Secrets in {result['first_sync_seconds']} s "
          f"(VaultSecrets created in {result['create_vault_secrets_seconds']} s; baseline: "
          f"{result['count']} Secrets created directly in "
          f"{result['baseline_direct_create_seconds']} s; ratio "
          f"{result['first_sync_vs_baseline']}) [goal <= 20 s]")
    print(f"Vault requests per refresh cycle per VaultSecret: "
          f"{result['requests_per_cycle_per_object']} (reads "
          f"{result['reads_per_cycle_per_object']}) [goal <= 1.05]; logins in the run: "
          f"{result['logins']}")
    print(f"Secret writes per unchanged cycle: {result['secret_writes_per_cycle']} [goal 0]; "
          f"VaultSecret status writes: {result['status_writes_per_cycle']}")
    print(f"largest burst: {result['max_requests_in_one_second']} Vault requests in one second "
          f"[goal < {result['burst_goal']:.0f}]")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
