"""The end-to-end demo behind `make demo`: the whole product on a local control plane.

Every step runs the real commands a user would run (`seal`, `sealops`, `kubectl`) against a
real kube-apiserver; output shows Secret keys, never values.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.harness import controlplane
from tests.harness.controlplane import free_port
from tests.harness.waiting import wait_for

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
KEY_NAMESPACE = "sealops-system"


def step(text: str) -> None:
    print(f"\n==> {text}", flush=True)


def say(text: str) -> None:
    print(f"    {text}", flush=True)


class Demo:
    def __init__(self, cp: controlplane.ControlPlane, work: Path) -> None:
        self.cp = cp
        self.work = work
        self.env = {**os.environ, "KUBECONFIG": str(cp.kubeconfig)}

    def run(self, *argv: str, stdin: bytes | None = None, check: bool = True) -> str:
        result = subprocess.run(argv, input=stdin, capture_output=True, env=self.env,
                                cwd=self.work, check=False)
        if check and result.returncode != 0:
            raise RuntimeError(f"{' '.join(argv[:3])} failed:\n{result.stderr.decode()}")
        return result.stdout.decode()

    def kubectl(self, *args: str, stdin: bytes | None = None) -> str:
        return self.run("kubectl", *args, stdin=stdin)

    def get(self, kind: str, name: str, namespace: str) -> dict[str, Any] | None:
        result = subprocess.run(["kubectl", "get", kind, name, "-n", namespace, "-o", "json"],
                                capture_output=True, env=self.env, check=False)
        return json.loads(result.stdout) if result.returncode == 0 else None

    def wait(self, predicate: Callable[[], Any], what: str, timeout: float = 60) -> Any:
        return wait_for(predicate, timeout=timeout, what=what)


@contextmanager
def controller(demo: Demo) -> Iterator[str]:
    port = free_port()
    log = (demo.work / "controller.log").open("wb")
    proc = subprocess.Popen(
        [str(BIN / "sealops"), "controller", "--namespace", KEY_NAMESPACE,
         "--listen", f"127.0.0.1:{port}", "--allow-local-sources"],
        stdout=log, stderr=subprocess.STDOUT, env=demo.env, start_new_session=True)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
        log.close()


def secret_keys(secret: dict[str, Any] | None) -> str:
    if not secret:
        return "(none)"
    return ", ".join(sorted((secret.get("data") or {}).keys()))


def install(demo: Demo) -> None:
    step("Installing the CRDs: kubectl apply -R -f crds/")
    for line in demo.kubectl("apply", "-R", "-f", str(ROOT / "crds")).splitlines():
        say(line)
    demo.kubectl("create", "namespace", KEY_NAMESPACE)
    demo.kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd", "--all")


def seal_one_secret(demo: Demo, url: str) -> None:
    step("The controller generated the cluster's first key generation; fetching its public "
         "keys: seal cert > pub.pem")
    demo.wait(lambda: demo.get("configmap", "sealops-public-keys", KEY_NAMESPACE),
              "the public keys to be published")
    (demo.work / "pub.pem").write_text(demo.run(str(BIN / "seal"), "cert",
                                                "--controller-namespace", KEY_NAMESPACE))
    key_id = demo.get("configmap", "sealops-public-keys", KEY_NAMESPACE)["data"]["key-id"]
    say(f"key id {key_id} (RSA-4096 for kubeseal format, ML-KEM-768 + X25519 for v2)")

    step("Sealing a Secret on the 'laptop': seal secret db.yaml --cert pub.pem")
    demo.kubectl("create", "namespace", "shop")
    secret = {"apiVersion": "v1", "kind": "Secret",
              "metadata": {"name": "db", "namespace": "shop"},
              "stringData": {"username": "shop", "password": "demo-password-not-for-git"}}
    (demo.work / "db.yaml").write_text(json.dumps(secret))
    sealed = demo.run(str(BIN / "seal"), "secret", "db.yaml", "--cert", "pub.pem")
    (demo.work / "db-sealed.yaml").write_text(sealed)
    for line in sealed.splitlines()[:12]:
        say(line[:96] + ("..." if len(line) > 96 else ""))
    say("(safe to commit: only the controller can open it, and only as shop/db)")

    step("kubectl apply -f db-sealed.yaml, and the controller unseals it")
    demo.kubectl("apply", "-f", "db-sealed.yaml")
    got = demo.wait(lambda: demo.get("secret", "db", "shop"), "the Secret shop/db")
    say(f"Secret shop/db exists with keys: {secret_keys(got)}")
    say(demo.kubectl("get", "sealedsecrets.sealops.dev", "-n", "shop").rstrip())

    step("seal check: the pre-commit guard refuses a plaintext Secret")
    result = subprocess.run([str(BIN / "seal"), "check", "db.yaml"], capture_output=True,
                            env=demo.env, cwd=demo.work, check=False)
    say(f"exit {result.returncode}: {result.stdout.decode().strip() or result.stderr.decode()}")


def main() -> int:
    started = time.monotonic()
    step("Starting a local Kubernetes control plane (etcd, kube-apiserver, "
         "kube-controller-manager)")
    with controlplane.running() as cp, tempfile.TemporaryDirectory() as tmp:
        demo = Demo(cp, Path(tmp))
        version = json.loads(demo.kubectl("version", "-o", "json"))["serverVersion"]
        say(f"server version: {version['gitVersion']} ({cp.server})")
        say("namespaces: " + demo.kubectl("get", "ns", "-o",
                                          "jsonpath={.items[*].metadata.name}"))
        install(demo)
        step("Starting the controller: sealops controller --namespace sealops-system")
        with controller(demo) as url:
            seal_one_secret(demo, url)
            step("Stopping the controller")
        step("Stopping the control plane")
    say(f"done in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
