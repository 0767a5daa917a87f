"""A real local Kubernetes control plane: etcd, kube-apiserver and kube-controller-manager.

Owns starting the three processes on free loopback ports in a temporary directory, waiting for
`/readyz`, writing a kubeconfig, and tearing everything down (process groups, temporary
directories) even when the caller fails or is interrupted. Used by the session-scoped pytest
fixture, by `make cluster` / `make cluster-down` and by the demo.

The binaries come from `scripts/setup-control-plane.sh` (etcd from Debian, the two Kubernetes
binaries built once from Debian's source package and cached by version).

    python -m tests.harness.controlplane up [--state-dir .cluster]   # background, prints export
    python -m tests.harness.controlplane down [--state-dir .cluster]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import dataclasses
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

K8S_VERSION = "1.20.2"
READY_TIMEOUT_S = 60.0
APISERVER = 1  # index in ControlPlane.procs: etcd, kube-apiserver, kube-controller-manager


def binary_dir() -> Path:
    root = os.environ.get("SEALOPS_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "sealops"
    )
    return Path(root) / f"k8s-v{K8S_VERSION}"


def binaries_ready() -> bool:
    d = binary_dir()
    return (d / ".complete").is_file() and shutil.which("etcd") is not None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclasses.dataclass
class ControlPlane:
    """A running control plane. `kubeconfig` is the path to an admin kubeconfig."""

    workdir: Path
    kubeconfig: Path
    server: str
    token: str
    procs: list[subprocess.Popen[bytes]]
    owns_workdir: bool = True
    # How to start kube-apiserver again (argv, log, detached): see stop_/start_apiserver.
    apiserver: tuple[list[str], Path, bool] | None = None

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def stop_apiserver(self) -> None:
        """Stop kube-apiserver only (an API outage); etcd keeps the data, the port is kept."""
        _kill_group(self.procs[APISERVER].pid)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.procs[APISERVER].wait(timeout=5)

    def start_apiserver(self) -> None:
        """Start kube-apiserver again with the same flags, port, certificates and etcd data."""
        if self.apiserver is None:
            raise RuntimeError("this control plane was not started by start()")
        argv, log, detached = self.apiserver
        self.procs[APISERVER] = _spawn(argv, log=log, detached=detached)
        _wait_ready(self.server, self.token, procs=[self.procs[APISERVER]], logs=[log])

    def stop(self) -> None:
        # Reverse order: controller-manager, apiserver, etcd.
        for proc in reversed(self.procs):
            _kill_group(proc.pid)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
        if self.owns_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def to_state(self) -> dict[str, object]:
        return {"workdir": str(self.workdir), "kubeconfig": str(self.kubeconfig),
                "server": self.server, "pids": self.pids}


def _kill_group(pid: int, *, grace_s: float = 5.0) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except (ProcessLookupError, PermissionError):
            break
        _reap(pid)
        time.sleep(0.05)
    else:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
    _reap(pid)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _spawn(argv: list[str], *, log: Path, detached: bool) -> subprocess.Popen[bytes]:
    if not detached and shutil.which("setpriv"):
        # SIGKILL the process when the one that started it dies, so a killed test run never
        # leaves etcd or kube-apiserver behind (util-linux; PR_SET_PDEATHSIG).
        argv = ["setpriv", "--pdeathsig", "KILL", "--", *argv]
    with log.open("ab") as out:
        return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)


def _make_sa_key(path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.TraditionalOpenSSL,
                                       serialization.NoEncryption()))
    path.chmod(0o600)


def _write_kubeconfig(path: Path, *, server: str, token: str, ca: Path | None) -> None:
    # Until the apiserver has written its self-signed certificate, only the readiness probe
    # runs (unverified); afterwards every client verifies against that certificate.
    cluster: dict[str, object] = {"server": server}
    if ca is None:
        cluster["insecure-skip-tls-verify"] = True
    else:
        cluster["certificate-authority-data"] = base64.b64encode(ca.read_bytes()).decode()
    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": "sealops-local",
        "clusters": [{"name": "sealops-local", "cluster": cluster}],
        "users": [{"name": "admin", "user": {"token": token}}],
        "contexts": [{"name": "sealops-local",
                      "context": {"cluster": "sealops-local", "user": "admin"}}],
    }
    path.write_text(json.dumps(config, indent=2))  # JSON is YAML; no yaml import needed here
    path.chmod(0o600)


def _wait_ready(server: str, token: str, *, procs: list[subprocess.Popen[bytes]],
                logs: list[Path]) -> None:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    deadline = time.monotonic() + READY_TIMEOUT_S
    last = ""
    while time.monotonic() < deadline:
        for proc, log in zip(procs, logs, strict=True):
            if proc.poll() is not None:
                tail = log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{log.stem} exited during start-up; last log lines:\n{tail}")
        req = urllib.request.Request(f"{server}/readyz",
                                     headers={"Authorization": f"Bearer {token}"})
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError as exc:
            last = str(exc)
        time.sleep(0.1)
    raise RuntimeError(f"kube-apiserver not ready after {READY_TIMEOUT_S:.0f}s ({last})")


def _wait_controller_manager(proc: subprocess.Popen[bytes], log: Path) -> None:
    """Fail loudly if kube-controller-manager dies at start (it reports a bad flag at once)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"kube-controller-manager exited during start-up:\n{tail}")
        if "Started \"garbagecollector\"" in log.read_text(errors="replace"):
            return
        time.sleep(0.1)
    raise RuntimeError("kube-controller-manager did not start its garbage collector in 10 s")


def start(*, workdir: Path | None = None, detached: bool = False) -> ControlPlane:
    """Start etcd, kube-apiserver and kube-controller-manager; return once /readyz is ok.

    Unless `detached` (for `make cluster`), the processes die with the calling process.
    """
    if not binaries_ready():
        raise RuntimeError(
            "control plane binaries are missing: run `make cluster-binaries` "
            "(scripts/setup-control-plane.sh) first"
        )
    bins = binary_dir()
    owns = workdir is None
    wd = Path(tempfile.mkdtemp(prefix="sealops-cp-")) if workdir is None else workdir
    wd.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(16)
    (wd / "tokens.csv").write_text(f'{token},admin,admin,"system:masters"\n')
    sa_key = wd / "sa.key"
    _make_sa_key(sa_key)
    etcd_port, etcd_peer, api_port = free_port(), free_port(), free_port()
    server = f"https://127.0.0.1:{api_port}"
    kubeconfig = wd / "kubeconfig"
    _write_kubeconfig(kubeconfig, server=server, token=token, ca=None)
    logs = [wd / "etcd.log", wd / "kube-apiserver.log"]
    procs: list[subprocess.Popen[bytes]] = []
    cp = ControlPlane(workdir=wd, kubeconfig=kubeconfig, server=server, token=token,
                      procs=procs, owns_workdir=owns)
    try:
        procs.append(_spawn([
            "etcd", "--data-dir", str(wd / "etcd"), "--name", "sealops",
            "--listen-client-urls", f"http://127.0.0.1:{etcd_port}",
            "--advertise-client-urls", f"http://127.0.0.1:{etcd_port}",
            "--listen-peer-urls", f"http://127.0.0.1:{etcd_peer}",
            "--initial-advertise-peer-urls", f"http://127.0.0.1:{etcd_peer}",
            "--initial-cluster", f"sealops=http://127.0.0.1:{etcd_peer}",
            "--unsafe-no-fsync",
        ], log=logs[0], detached=detached))
        apiserver_argv = [
            str(bins / "kube-apiserver"),
            f"--etcd-servers=http://127.0.0.1:{etcd_port}",
            f"--secure-port={api_port}", "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1", f"--cert-dir={wd / 'certs'}",
            f"--token-auth-file={wd / 'tokens.csv'}", "--authorization-mode=RBAC",
            "--service-account-issuer=https://kubernetes.default.svc",
            f"--service-account-key-file={sa_key}",
            f"--service-account-signing-key-file={sa_key}",
            "--api-audiences=https://kubernetes.default.svc",
            "--service-cluster-ip-range=10.0.0.0/24", "--insecure-port=0",
            "--enable-priority-and-fairness=false",
        ]
        cp.apiserver = (apiserver_argv, logs[1], detached)
        procs.append(_spawn(apiserver_argv, log=logs[1], detached=detached))
        _wait_ready(server, token, procs=procs, logs=logs)
        _write_kubeconfig(kubeconfig, server=server, token=token,
                          ca=wd / "certs" / "apiserver.crt")
        logs.append(wd / "kube-controller-manager.log")
        procs.append(_spawn([
            str(bins / "kube-controller-manager"),
            f"--kubeconfig={kubeconfig}", f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}", "--leader-elect=false",
            "--controllers=garbagecollector,namespace,serviceaccount-token,serviceaccount,"
            "clusterrole-aggregation,"
            "deployment,replicaset",
            f"--service-account-private-key-file={sa_key}",
            f"--root-ca-file={wd / 'certs' / 'apiserver.crt'}", "--secure-port=0",
            "--port=0",  # no insecure listener on the fixed port 10252: runs may overlap
        ], log=logs[2], detached=detached))
        _wait_controller_manager(procs[2], logs[2])
    except BaseException:
        cp.stop()
        raise
    return cp


@contextlib.contextmanager
def running() -> Iterator[ControlPlane]:
    cp = start()
    try:
        yield cp
    finally:
        cp.stop()


# --- `make cluster` / `make cluster-down` -------------------------------------------------

def _cmd_up(state_dir: Path) -> int:
    state_file = state_dir / "state.json"
    if state_file.exists():
        _cmd_down(state_dir, quiet=True)
    state_dir.mkdir(parents=True, exist_ok=True)
    cp = start(workdir=Path(tempfile.mkdtemp(prefix="sealops-cluster-")), detached=True)
    shutil.copy(cp.kubeconfig, state_dir / "kubeconfig")
    (state_dir / "kubeconfig").chmod(0o600)
    state_file.write_text(json.dumps(cp.to_state()))
    print(f"control plane ready at {cp.server}")
    print(f"export KUBECONFIG={(state_dir / 'kubeconfig').resolve()}")
    return 0


def _cmd_down(state_dir: Path, *, quiet: bool = False) -> int:
    state_file = state_dir / "state.json"
    if not state_file.exists():
        if not quiet:
            print("no local control plane is running")
        return 0
    state = json.loads(state_file.read_text())
    for pid in reversed(state["pids"]):
        _kill_group(int(pid))
    shutil.rmtree(state["workdir"], ignore_errors=True)
    state_file.unlink()
    with contextlib.suppress(FileNotFoundError):
        (state_dir / "kubeconfig").unlink()
    if not quiet:
        print("control plane stopped")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.harness.controlplane")
    parser.add_argument("command", choices=["up", "down"])
    parser.add_argument("--state-dir", type=Path, default=Path(".cluster"))
    args = parser.parse_args(argv)
    if args.command == "up":
        return _cmd_up(args.state_dir)
    return _cmd_down(args.state_dir)


if __name__ == "__main__":
    sys.exit(main())
