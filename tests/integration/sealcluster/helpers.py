"""Running `seal` and `sealops` as the installed executables against the test cluster."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from sealer.crypto import envelope
from sealer.kube import client
from sealer.manifests import safeyaml

BIN = Path(sys.executable).parent
SEAL = [str(BIN / "seal")] if (BIN / "seal").exists() else [sys.executable, "-m", "sealer.cli"]
SEALOPS = ([str(BIN / "sealops")] if (BIN / "sealops").exists()
           else [sys.executable, "-m", "controller.cli"])
KEY_SELECTOR = "sealops.dev/sealing-key=active"


def _env(kubeconfig: Path | None, *, home: Path) -> dict[str, str]:
    """The test's environment without SEAL_*/SEALOPS_* settings; KUBECONFIG only if given."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SEAL_", "SEALOPS_", "KUBECONFIG"))}
    env["HOME"] = str(home)  # no ~/.kube/config of the machine's user
    if kubeconfig is not None:
        env["KUBECONFIG"] = str(kubeconfig)
    return env


def seal(*args: str, kubeconfig: Path | None, cwd: Path, stdin: bytes | None = None,
         timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*SEAL, *args], cwd=cwd, input=stdin, capture_output=True,
                          env=_env(kubeconfig, home=cwd), timeout=timeout, check=False)


def sealops(*args: str, kubeconfig: Path, cwd: Path,
            timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*SEALOPS, "--kubeconfig", str(kubeconfig), *args], cwd=cwd,
                          capture_output=True, env=_env(kubeconfig, home=cwd), timeout=timeout,
                          check=False, stdin=subprocess.DEVNULL)


def secret_yaml(*, namespace: str, name: str, data: dict[str, str],
                annotations: dict[str, str] | None = None) -> bytes:
    doc: dict[str, Any] = {"apiVersion": "v1", "kind": "Secret",
                           "metadata": {"name": name, "namespace": namespace},
                           "type": "Opaque", "stringData": data}
    if annotations:
        doc["metadata"]["annotations"] = annotations
    return safeyaml.dump([doc]).encode()


def load(path: Path) -> dict[str, Any]:
    return safeyaml.load_one(path.read_bytes(), source=str(path))


def key_ids_of(sealed: dict[str, Any]) -> set[str]:
    """The key ids named by the v2 envelopes of a SealedSecret."""
    found = set()
    for value in sealed["spec"]["encryptedData"].values():
        key_id = envelope.envelope_key_id(base64.b64decode(value))
        assert key_id is not None, "expected v2 envelopes"
        found.add(key_id.hex())
    return found


def active_key_ids(kube: Any, namespace: str) -> set[str]:
    secrets = kube.list(client.SECRETS, namespace=namespace, label_selector=KEY_SELECTOR)
    return {s["metadata"]["name"].removeprefix("sealops-key-") for s in secrets}
