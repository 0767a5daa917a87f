"""Helpers and fixtures that run the real controller (`sealops controller`) as a process.

Each controller gets its own key namespace and watches only the test's namespace, so tests
never see each other's controllers. Logs go to a file that the canary sweeps read.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import secrets
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sealer.crypto import keyring, keys, scope
from sealer.kube import client
from tests.harness.controlplane import free_port
from tests.harness.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
SEALOPS = client.Resource("sealops.dev", "v1alpha1", "SealedSecret", "sealedsecrets", True)
BITNAMI = client.Resource("bitnami.com", "v1alpha1", "SealedSecret", "sealedsecrets", True)
CRDS = client.Resource("apiextensions.k8s.io", "v1", "CustomResourceDefinition",
                       "customresourcedefinitions", False)


@pytest.fixture(scope="session")
def crds(kubeconfig: Path, kube: Any) -> None:
    """Every CRD, crds/compat/ included (recursive): the --bitnami-compat tests need the
    bitnami.com kind. A user's install takes crds/ alone (README.md, `sealops install`)."""
    subprocess.run(["kubectl", "--kubeconfig", str(kubeconfig), "apply", "-R", "-f",
                    str(ROOT / "crds")], check=True, capture_output=True)
    for crd in kube.list(CRDS):
        if crd["spec"]["group"] in ("sealops.dev", "bitnami.com", "kopf.dev"):
            name = crd["metadata"]["name"]
            wait_for(lambda n=name: any(
                c["type"] == "Established" and c["status"] == "True"
                for c in ((kube.get(CRDS, n) or {}).get("status") or {}).get("conditions") or []),
                what=f"CRD {name} established")
    kube.forget_discovery()


@dataclasses.dataclass
class RunningController:
    proc: subprocess.Popen[bytes]
    log: Path
    url: str
    key_namespace: str

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=10) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        req = urllib.request.Request(self.url + path, data=body, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)

    def public(self) -> keys.PublicKeys:
        status, body = self.get("/v1/public.pem")
        assert status == 200
        return keys.parse_public_pem(body)


StartController = Callable[..., RunningController]


@pytest.fixture
def start_controller(kubeconfig: Path, kube: Any, crds: None,
                     tmp_path: Path) -> Iterator[StartController]:
    started: list[RunningController] = []

    def start(*, watch: str, key_namespace: str | None = None, args: tuple[str, ...] = (),
              wait_ready: bool = True, env: dict[str, str] | None = None) -> RunningController:
        key_ns = key_namespace or f"keys-{secrets.token_hex(3)}"
        if kube.get(client.NAMESPACES, key_ns) is None:
            kube.create(client.NAMESPACES, {"metadata": {"name": key_ns}})
        port = free_port()
        log = tmp_path / f"controller-{len(started)}.log"
        env = {**os.environ, "KUBECONFIG": str(kubeconfig), "PYTHONUNBUFFERED": "1",
               **(env or {})}
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "controller.cli", "-v", "controller",
                 "--namespace", key_ns, "--watch-namespace", watch,
                 "--listen", f"127.0.0.1:{port}", *args],
                stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT,
                start_new_session=True)
        running = RunningController(proc, log, f"http://127.0.0.1:{port}", key_ns)
        started.append(running)
        if wait_ready:
            wait_for(lambda: proc.poll() is not None or _healthy(running), timeout=60,
                     what="the controller's /healthz")
            assert proc.poll() is None, running.log_text()[-3000:]
            wait_for(lambda: "Handler 'key-secrets'" in running.log_text()
                     or "Resuming operations" in running.log_text()
                     or "Pausing operations" in running.log_text(),
                     # A killed predecessor with a higher priority holds the peering entry
                     # until it expires (30 s): only then does this replica act.
                     timeout=75, what="kopf to start watching")
        return running

    yield start
    for running in started:
        running.stop()


def _healthy(running: RunningController) -> bool:
    try:
        return running.get("/healthz")[0] == 200
    except OSError:
        return False


def sealed_secret(*, namespace: str, name: str, data: dict[str, bytes],
                  public: keys.PublicKeys, sealed_scope: scope.Scope = scope.Scope.STRICT,
                  version: int | None = None, group: str = "sealops.dev",
                  template: dict[str, Any] | None = None) -> dict[str, Any]:
    """A SealedSecret built with the library directly (the CLI is tested on its own)."""
    label = scope.label(sealed_scope, namespace=namespace, name=name)
    annotations = {}
    if sealed_scope is scope.Scope.CLUSTER_WIDE:
        annotations["sealedsecrets.bitnami.com/cluster-wide"] = "true"
    if sealed_scope is scope.Scope.NAMESPACE_WIDE:
        annotations["sealedsecrets.bitnami.com/namespace-wide"] = "true"
    return {
        "apiVersion": f"{group}/v1alpha1", "kind": "SealedSecret",
        "metadata": {"name": name, "namespace": namespace, "annotations": annotations},
        "spec": {
            "encryptedData": {k: keyring.seal_value(v, public=public, label=label, item=k,
                                                    version=version)
                              for k, v in data.items()},
            "template": template or {"type": "Opaque"},
        },
    }


def secret_data(secret: dict[str, Any]) -> dict[str, bytes]:
    return {k: base64.b64decode(v) for k, v in (secret.get("data") or {}).items()}


def ready_condition(obj: dict[str, Any] | None) -> dict[str, Any] | None:
    for cond in ((obj or {}).get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready" and \
                cond.get("observedGeneration") == obj["metadata"].get("generation"):  # type: ignore[index]
            return dict(cond)
    return None
