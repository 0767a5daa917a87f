"""Benchmark the GitOps sync: first sync and no-op re-sync of 1,000 objects, against kubectl.

On its own local control plane (`tests.harness.controlplane.start()`):

1. A generated Git repository (file://) of 1,000 objects in 5 namespaces: 5 Namespaces,
   345 ConfigMaps, 300 Services, 300 Deployments (replicas 0) and 50 SealedSecrets sealed to
   the controller's key.
2. Baseline: `kubectl apply --server-side -f` of the same rendered objects (labelled and
   placed by `sealops build`) retargeted to a fresh set of 5 namespaces, before the controller
   starts (so it never sees them).
3. The controller (`sealops controller --allow-local-sources`, watching the controller
   namespace and the 5 namespaces) gets an admin GitSync; first sync time = from creating it to
   Ready with the revision applied (secrets materialized by the same controller included).
   Goal: <= 1.0x kubectl. Ports name their protocol: kubectl's server-side apply on
   Kubernetes < 1.22 refuses ports without one (sealops fills it in, `apply.defaults`);
   Services are headless (the test control plane's service range has 254 addresses).
   Before each measurement the cluster settles (no writes for 1.5 s), so neither side pays
   for the other's aftermath (ReplicaSets for 300 new Deployments).
4. A no-op re-sync (reconcile-requested annotation until `lastHandledReconcileAt` shows it):
   its time (goal <= 0.3x first sync) and its write requests to the applied kinds, counted
   from the API server's `apiserver_request_total` (non-dry-run POST/PUT/PATCH/APPLY/DELETE on
   namespaces, configmaps, services, deployments, sealedsecrets, secrets; goal 0).
5. The controller's peak RSS (VmHWM from /proc/PID/status).

Usage: .venv/bin/python benchmarks/gitops.py   (or: .venv/bin/python -m benchmarks.gitops)
The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

# Run as a script, this directory comes first on sys.path, and a sibling script named like one
# of our packages (benchmarks/controller.py) would shadow it: put the repository first.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from controller.gitops import reconciler
from sealer.crypto import keyring, keys, scope
from sealer.kube import client, config
from tests.gitserver import repos
from tests.harness import controlplane

ROOT = Path(__file__).resolve().parents[1]
NAMESPACES = [f"bench-{i}" for i in range(5)]
KUBECTL_NAMESPACES = [f"kbench-{i}" for i in range(5)]
CONTROLLER_NS = "sealops-system"
COUNTS = {"ConfigMap": 345, "Service": 300, "Deployment": 300, "SealedSecret": 50}
WRITE_VERBS = {"POST", "PUT", "PATCH", "APPLY", "DELETE"}  # SSA counts as APPLY
PEERINGS = client.Resource("kopf.dev", "v1", "KopfPeering", "kopfpeerings", True)
CRDS = client.Resource("apiextensions.k8s.io", "v1", "CustomResourceDefinition",
                       "customresourcedefinitions", False)
APPLIED_RESOURCES = {"namespaces", "configmaps", "services", "deployments", "sealedsecrets",
                     "secrets"}


def objects(public: keys.PublicKeys) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = [{"apiVersion": "v1", "kind": "Namespace",
                                    "metadata": {"name": ns}} for ns in NAMESPACES]
    for kind, count in COUNTS.items():
        for i in range(count):
            ns = NAMESPACES[i % len(NAMESPACES)]
            found.append(_object(kind, f"{kind.lower()}-{i}", ns, public))
    return found


def _object(kind: str, name: str, ns: str, public: keys.PublicKeys) -> dict[str, Any]:
    meta = {"name": name, "namespace": ns, "labels": {"app": name}}
    if kind == "ConfigMap":
        return {"apiVersion": "v1", "kind": kind, "metadata": meta,
                "data": {"config.yaml": f"name: {name}\nreplicas: 3\n" * 5}}
    if kind == "Service":
        return {"apiVersion": "v1", "kind": kind, "metadata": meta,
                "spec": {"clusterIP": "None", "selector": {"app": name},
                         "ports": [{"port": 80, "targetPort": 8080,
                                                                "protocol": "TCP"}]}}
    if kind == "Deployment":
        return {"apiVersion": "apps/v1", "kind": kind, "metadata": meta, "spec": {
            "replicas": 0, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{
                "name": "app", "image": "registry.invalid/app:1",
                "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]}}}}
    label = scope.label(scope.Scope.STRICT, namespace=ns, name=name)
    encrypted = {item: keyring.seal_value(f"{item}-{name}".encode(), public=public,
                                          label=label, item=item)
                 for item in ("username", "password")}
    return {"apiVersion": "sealops.dev/v1alpha1", "kind": "SealedSecret", "metadata": meta,
            "spec": {"encryptedData": encrypted, "template": {"type": "Opaque"}}}


def timed(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def wait(predicate: Callable[[], Any], *, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.05)


def run(*argv: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, env=env, check=False,
                            timeout=900)
    if result.returncode != 0:
        raise SystemExit(f"{argv[0]} failed: {result.stderr[-2000:]}")
    return result.stdout


def request_counts(cp: controlplane.ControlPlane, *, dry_run: bool) -> dict[str, float]:
    """Write requests (POST/PUT/PATCH/DELETE, no subresource) per resource from the API
    server's `apiserver_request_total`; `dry_run` selects dry-run ones instead of real ones."""
    req = urllib.request.Request(f"{cp.server}/metrics",
                                 headers={"Authorization": f"Bearer {cp.token}"})
    ctx = ssl.create_default_context(cafile=str(cp.workdir / "certs" / "apiserver.crt"))
    ctx.check_hostname = False
    with urllib.request.urlopen(req, context=ctx, timeout=30) as resp:
        text = resp.read().decode()
    found: dict[str, float] = {}
    for line in text.splitlines():
        if not line.startswith("apiserver_request_total{"):
            continue
        labels = dict(re.findall(r'(\w+)="([^"]*)"', line))
        if labels.get("verb") in WRITE_VERBS and bool(labels.get("dry_run")) == dry_run and \
                not labels.get("subresource"):
            key = labels.get("resource", "")
            found[key] = found.get(key, 0.0) + float(line.rsplit(" ", 1)[1])
    return found


def settle(cp: controlplane.ControlPlane, *, quiet: float = 1.5) -> None:
    """Wait until the built-in controllers stop writing (e.g. ReplicaSets for new
    Deployments), so one measurement does not pay for the aftermath of the previous one."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        before = _busy(request_counts(cp, dry_run=False))
        time.sleep(quiet)
        if _busy(request_counts(cp, dry_run=False)) == before:
            return


def _busy(counts: dict[str, float]) -> float:
    return sum(v for k, v in counts.items() if k not in ("events", "leases", "kopfpeerings"))


def peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def kubectl_baseline(kubeconfig: Path, rendered: str, work: Path) -> float:
    text = rendered
    for ours, theirs in zip(NAMESPACES, KUBECTL_NAMESPACES, strict=True):
        text = re.sub(rf"\b{ours}\b", theirs, text)
    path = work / "kubectl.yaml"
    path.write_text(text)
    return timed(lambda: run("kubectl", "--kubeconfig", str(kubeconfig), "apply",
                             "--server-side", "--field-manager=bench", "-f", str(path)))


def main() -> int:
    cp = controlplane.start()
    work = Path(tempfile.mkdtemp(prefix="sealops-bench-gitops-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        return _bench(cp, work, procs)
    finally:
        for proc in procs:
            _stop(proc)
        cp.stop()
        shutil.rmtree(work, ignore_errors=True)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def _start_controller(work: Path, env: dict[str, str],
                      procs: list[subprocess.Popen[bytes]]) -> tuple[subprocess.Popen[bytes],
                                                                    keys.PublicKeys, Path]:
    log = work / "controller.log"
    port = controlplane.free_port()
    watch = [arg for ns in [CONTROLLER_NS, *NAMESPACES] for arg in ("--watch-namespace", ns)]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "controller.cli", "controller", "--namespace", CONTROLLER_NS,
             *watch, "--listen", f"127.0.0.1:{port}", "--allow-local-sources"],
            stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT, start_new_session=True)
    procs.append(proc)
    pem = wait(lambda: _get(f"http://127.0.0.1:{port}/v1/public.pem"), timeout=90,
               what="the controller's public key")
    return proc, keys.parse_public_pem(pem), log


def _push(work: Path, generated: list[dict[str, Any]]) -> tuple[Path, Path, str]:
    bare = repos.create_bare(work, "bench.git")
    tree = repos.WorkTree(work / "tree", bare)
    tree.write({f"{o['metadata'].get('namespace', '_')}/{o['kind']}-{o['metadata']['name']}"
                ".yaml": yaml.safe_dump(o) for o in generated})
    sha = tree.commit("bench")
    tree.push()
    return bare, tree.path, sha


def _peered(kube: client.KubeClient) -> bool:
    peering = kube.get(PEERINGS, "sealops", namespace=CONTROLLER_NS) or {}
    return bool(peering.get("status"))


def _bench(cp: controlplane.ControlPlane, work: Path,
           procs: list[subprocess.Popen[bytes]]) -> int:
    kubeconfig = cp.kubeconfig
    env = {**os.environ, "KUBECONFIG": str(kubeconfig), "PYTHONUNBUFFERED": "1"}
    run("kubectl", "--kubeconfig", str(kubeconfig), "apply", "-R", "-f", str(ROOT / "crds"))
    kube = config.connect(kubeconfig=str(kubeconfig), pool_size=8)
    for ns in [CONTROLLER_NS, *NAMESPACES]:
        kube.create(client.NAMESPACES, {"metadata": {"name": ns}})
    wait(lambda: _established(kube), timeout=60, what="CRDs established")

    proc, public, log = _start_controller(work, env, procs)
    generated = objects(public)
    bare, tree, sha = _push(work, generated)
    rendered = run(sys.executable, "-m", "controller.cli", "build", str(tree),
                   "-n", CONTROLLER_NS, "--name", "bench", env=env)
    wait(lambda: _peered(kube), timeout=60, what="kopf peering")
    settle(cp)
    kubectl_s = kubectl_baseline(kubeconfig, rendered, work)
    settle(cp)

    before = request_counts(cp, dry_run=False)
    gitsync = {"apiVersion": "sealops.dev/v1alpha1", "kind": "GitSync",
               "metadata": {"name": "bench", "namespace": CONTROLLER_NS},
               "spec": {"url": f"file://{bare}", "interval": "1h", "timeout": "10m"}}
    started = time.perf_counter()
    kube.create(reconciler.GITSYNCS, gitsync, namespace=CONTROLLER_NS)
    wait(lambda: _applied(kube, sha), timeout=900, what="the first sync")
    first_s = time.perf_counter() - started
    first_writes = _diff(request_counts(cp, dry_run=False), before)

    settle(cp)
    before = request_counts(cp, dry_run=False)
    before_dry = request_counts(cp, dry_run=True)
    stamp = datetime.datetime.now(datetime.UTC).isoformat()
    started = time.perf_counter()
    kube.patch(reconciler.GITSYNCS, "bench", {"metadata": {"annotations": {
        reconciler.REQUESTED_AT: stamp}}}, namespace=CONTROLLER_NS)
    wait(lambda: ((kube.get(reconciler.GITSYNCS, "bench", namespace=CONTROLLER_NS) or {})
                  .get("status") or {}).get("lastHandledReconcileAt") == stamp,
         timeout=600, what="the no-op re-sync")
    noop_s = time.perf_counter() - started
    noop_writes = _diff(request_counts(cp, dry_run=False), before)
    noop_dry = sum(_diff(request_counts(cp, dry_run=True), before_dry).values())
    rss_kib = peak_rss_kib(proc.pid)
    applied_writes = sum(v for k, v in noop_writes.items() if k in APPLIED_RESOURCES)
    tail = [line for line in log.read_text().splitlines() if "applied (" in line][-1]

    figures = {
        "objects": len(generated), "kubectl_server_side_s": round(kubectl_s, 2),
        "first_sync_s": round(first_s, 2), "first_sync_vs_kubectl": round(first_s / kubectl_s, 2),
        "first_sync_writes": first_writes,
        "noop_resync_s": round(noop_s, 2), "noop_vs_first": round(noop_s / first_s, 3),
        "noop_resync_writes_to_applied_kinds": applied_writes,
        "noop_resync_writes_all": noop_writes, "noop_resync_dry_run_requests": noop_dry,
        "controller_peak_rss_mib": round(rss_kib / 1024, 1),
    }
    print(f"objects                         {figures['objects']}")
    print(f"kubectl apply --server-side     {kubectl_s:8.2f} s")
    print(f"first sync (GitSync -> Ready)   {first_s:8.2f} s   "
          f"{figures['first_sync_vs_kubectl']:.2f}x kubectl (goal <= 1.0x)")
    print(f"no-op re-sync                   {noop_s:8.2f} s   "
          f"{figures['noop_vs_first']:.3f}x first sync (goal <= 0.3x)")
    print(f"no-op writes to applied kinds   {applied_writes:8.0f}     (goal 0); "
          f"all writes: {noop_writes}; dry runs: {noop_dry:.0f}")
    print(f"controller peak RSS             {figures['controller_peak_rss_mib']:8.1f} MiB")
    print(f"controller log: {tail.split(': ', 1)[-1]}")
    print(json.dumps(figures, sort_keys=True))
    return 0


def _established(kube: client.KubeClient) -> bool:
    crd = kube.get(CRDS, "gitsyncs.sealops.dev") or {}
    return any(c.get("type") == "Established" and c.get("status") == "True"
               for c in (crd.get("status") or {}).get("conditions") or [])


def _applied(kube: client.KubeClient, sha: str) -> bool:
    obj = kube.get(reconciler.GITSYNCS, "bench", namespace=CONTROLLER_NS) or {}
    status = obj.get("status") or {}
    ready = [c for c in status.get("conditions") or [] if c.get("type") == "Ready"]
    if ready and ready[0].get("status") == "False" and \
            ready[0].get("reason") != "Progressing" and \
            status.get("lastAttemptedRevision", "").endswith(sha):
        raise SystemExit(f"first sync failed: {ready[0].get('message')}")
    return bool(status.get("lastAppliedRevision", "").endswith(sha))


def _diff(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    keys_ = set(after) | set(before)
    return {k: after.get(k, 0) - before.get(k, 0) for k in sorted(keys_)
            if after.get(k, 0) - before.get(k, 0)}


def _get(url: str) -> bytes | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return bytes(resp.read())
    except OSError:
        return None


if __name__ == "__main__":
    sys.exit(main())
