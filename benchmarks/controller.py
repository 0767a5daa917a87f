"""Controller throughput: 1,000 SealedSecrets of 3 items applied at once.

For v2 and v1 envelopes, with 1 and with 12 key generations present, prints the seconds until
every Secret exists, next to the floor: the raw in-process opening time of the same values,
measured in the same run (v1 floor uses both cores, as the controller does). Also prints the
controller's peak RSS. The last line is JSON.

    .venv/bin/python benchmarks/controller.py [--count 1000]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
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

from controller.keys import stored  # noqa: E402
from sealer.crypto import keyring, keys, scope  # noqa: E402
from sealer.kube import client, config  # noqa: E402
from tests.harness import controlplane  # noqa: E402

SEALOPS = client.Resource("sealops.dev", "v1alpha1", "SealedSecret", "sealedsecrets", True)
ITEMS = ("username", "password", "url")


def _generations(count: int) -> list[keys.KeyGeneration]:
    base = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    return [keys.generate(now=base + datetime.timedelta(days=30 * i)) for i in range(count)]


def _sealed(namespace: str, n: int, public: keys.PublicKeys, version: int) -> dict[str, Any]:
    name = f"s{n:04d}"
    label = scope.label(scope.Scope.STRICT, namespace=namespace, name=name)
    return {"apiVersion": "sealops.dev/v1alpha1", "kind": "SealedSecret",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"encryptedData": {
                item: keyring.seal_value(f"{item}-{n}".encode(), public=public, label=label,
                                         item=item, version=version) for item in ITEMS}}}


def _floor(bodies: list[dict[str, Any]], ring: keyring.Keyring, *, threads: int) -> float:
    def open_one(body: dict[str, Any]) -> None:
        meta = body["metadata"]
        label = scope.label(scope.Scope.STRICT, namespace=meta["namespace"], name=meta["name"])
        for item, value in body["spec"]["encryptedData"].items():
            ring.decrypt(value, label=label, item=item, hint=ring.newest.key_id)

    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        list(pool.map(open_one, bodies))
    return time.perf_counter() - start


def _run_case(kube: client.KubeClient, kubeconfig: Path, *, label: str, count: int,
              version: int, generations: list[keys.KeyGeneration],
              sealed_with: keys.KeyGeneration) -> dict[str, Any]:
    tag = f"{label}-{os.getpid() % 1000}"
    key_ns, ns = f"bench-keys-{tag}", f"bench-{tag}"
    for name in (key_ns, ns):
        kube.create(client.NAMESPACES, {"metadata": {"name": name}})
    for gen in generations:
        kube.create(client.SECRETS, stored.to_secret(gen, namespace=key_ns), namespace=key_ns)
    ring = keyring.Keyring(generations)
    bodies = [_sealed(ns, n, sealed_with.public(), version) for n in range(count)]
    floor = _floor(bodies, ring, threads=2)

    port = controlplane.free_port()
    log = open(f"/tmp/sealops-bench-{tag}.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "controller.cli", "controller", "--namespace", key_ns,
         "--watch-namespace", ns, "--listen", f"127.0.0.1:{port}", "--key-renewal", "0",
         "--workers", "8"],
        env={**os.environ, "KUBECONFIG": str(kubeconfig)}, stdout=log,
        stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
    try:
        _wait_healthy(port)
        time.sleep(1.0)  # let kopf open its watches
        start = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda b: kube.create(SEALOPS, b, namespace=ns), bodies))
        while len(kube.list(client.SECRETS, namespace=ns,
                            label_selector=None)) < count + _sa_tokens(kube, ns):
            time.sleep(0.1)
        elapsed = time.perf_counter() - start
        rss = _peak_rss_mb(proc.pid)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
        log.close()
    print(f"{label:<16} all {count} Secrets in {elapsed:6.2f} s | floor {floor:6.2f} s "
          f"| ratio {elapsed / floor:5.2f} | peak RSS {rss:.0f} MB", flush=True)
    return {"case": label, "seconds": round(elapsed, 3), "floor_seconds": round(floor, 3),
            "ratio_to_floor": round(elapsed / floor, 3), "peak_rss_mb": round(rss, 1)}


def _sa_tokens(kube: client.KubeClient, ns: str) -> int:
    return sum(1 for s in kube.list(client.SECRETS, namespace=ns)
               if s.get("type") == "kubernetes.io/service-account-token")


def _wait_healthy(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("controller did not become healthy")


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1000)
    args = parser.parse_args()
    gens = _generations(12)
    results = []
    with controlplane.running() as cp:
        subprocess.run(["kubectl", "--kubeconfig", str(cp.kubeconfig), "apply", "-R", "-f",
                        str(ROOT / "crds")], check=True, capture_output=True)
        time.sleep(2)
        kube = config.connect(kubeconfig=str(cp.kubeconfig), pool_size=16)
        cases = [("v2-1gen", 2, gens[-1:], gens[-1]), ("v1-1gen", 1, gens[-1:], gens[-1]),
                 ("v2-12gen", 2, gens, gens[0]), ("v1-12gen", 1, gens, gens[0])]
        for label, version, generations, sealed_with in cases:
            results.append(_run_case(kube, cp.kubeconfig, label=label, count=args.count,
                                     version=version, generations=generations,
                                     sealed_with=sealed_with))
    by = {r["case"]: r for r in results}
    summary = {
        "benchmark": "controller", "count": args.count, "cases": results,
        "v2_seconds": by["v2-1gen"]["seconds"],
        "v1_ratio_to_floor": by["v1-1gen"]["ratio_to_floor"],
        "v2_12gen_vs_1gen": round(by["v2-12gen"]["seconds"] / by["v2-1gen"]["seconds"], 3),
        "v1_12gen_vs_1gen": round(by["v1-12gen"]["seconds"] / by["v1-1gen"]["seconds"], 3),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in results),
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
