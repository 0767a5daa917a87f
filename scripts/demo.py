"""The end-to-end demo behind `make demo`: the whole product on a local control plane.

Every step runs the real commands a user would run (`seal`, `sealops`, `kubectl`, `git`)
against a real kube-apiserver, a git smart-HTTP server with Basic auth on 127.0.0.1 and the
Vault test server. Output shows Secret keys, never values. Everything started is torn down,
even when a step fails; the total time is printed at the end.

    control plane -> CRDs -> Vault + controller (keys) -> seal cert -> re-seal examples/gitops-repo
    -> git push -> GitSync (dev) Ready -> drift repaired -> tampered seal kept out -> prune
    -> key backup and an offline restore -> teardown
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml

from tests.gitserver import repos
from tests.gitserver.server import GitHTTPServer
from tests.harness import controlplane
from tests.harness.controlplane import free_port
from tests.harness.waiting import wait_for
from tests.vaultserver import VaultTestServer

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
KEY_NAMESPACE = "sealops-system"
DEV = "shop-dev"
GIT_USER = "gitops"
DEMO_INTERVAL = "10s"  # the example says 1m; shorter so drift is repaired while you watch
REQUESTED_AT = "sealops.dev/reconcile-requested-at"
SEALED_DB = "apps/shop/overlays/dev/db.sealedsecret.yaml"
DEV_VAULTSTORE = "infrastructure/vault/overlays/dev/vaultstore.yaml"


def step(text: str) -> None:
    print(f"\n==> {text}", flush=True)


def say(text: str) -> None:
    print(f"    {text}", flush=True)


class Demo:
    def __init__(self, cp: controlplane.ControlPlane, work: Path) -> None:
        self.cp = cp
        self.work = work
        self.env = {**os.environ, "KUBECONFIG": str(cp.kubeconfig)}
        self.repo: repos.WorkTree | None = None
        self.kube: Any = None  # sealer.kube client, for the Vault TokenReview and the timeline

    def run(self, *argv: str, stdin: bytes | None = None, check: bool = True) -> str:
        result = subprocess.run(argv, input=stdin, capture_output=True, env=self.env,
                                cwd=self.work, check=False)
        if check and result.returncode != 0:
            raise RuntimeError(f"{' '.join(argv[:3])} failed:\n{result.stderr.decode()}")
        return result.stdout.decode()

    def kubectl(self, *args: str, stdin: bytes | None = None) -> str:
        return self.run("kubectl", *args, stdin=stdin)

    def show(self, *args: str, stdin: bytes | None = None) -> None:
        for line in self.kubectl(*args, stdin=stdin).rstrip().splitlines():
            say(line)

    def get(self, kind: str, name: str, namespace: str) -> dict[str, Any] | None:
        result = subprocess.run(["kubectl", "get", kind, name, "-n", namespace, "-o", "json"],
                                capture_output=True, env=self.env, check=False)
        found: dict[str, Any] | None = json.loads(result.stdout) if result.returncode == 0 \
            else None
        return found

    def wait(self, predicate: Callable[[], Any], what: str, timeout: float = 60) -> Any:
        return wait_for(predicate, timeout=timeout, interval=0.2, what=what)

    def publish(self, message: str) -> str:
        """Commit everything, push, and ask both GitSyncs to reconcile now."""
        assert self.repo is not None
        sha = self.repo.commit(message)
        self.repo.push()
        say(f"git commit -m {message!r} && git push    -> {sha[:12]}")
        stamp = datetime.datetime.now(datetime.UTC).isoformat()
        self.kubectl("annotate", "gitsync", "shop", "-n", DEV, "--overwrite",
                     f"{REQUESTED_AT}={stamp}")
        say(f"kubectl annotate gitsync shop -n {DEV} {REQUESTED_AT}=<now>   (sync at once)")
        return sha

    def wait_gitsync(self, name: str, *, sha: str | None = None, ok: bool = True,
                     timeout: float = 90) -> dict[str, Any]:
        """The GitSync's Ready condition once it speaks for its generation (and `sha`)."""
        def done() -> dict[str, Any] | None:
            obj = self.get("gitsync", name, DEV) or {"metadata": {}}
            status = obj.get("status") or {}
            revision = str(status.get("lastAttemptedRevision", ""))
            for cond in status.get("conditions") or []:
                if cond.get("type") == "Ready" and (sha or "") in revision and \
                        cond.get("observedGeneration") == obj["metadata"].get("generation") \
                        and (cond.get("status") == "True") is ok:
                    return {**cond, "revision": revision}
            return None

        found: dict[str, Any] = self.wait(done, f"GitSync {name} Ready={ok}", timeout)
        return found


def secret_keys(secret: dict[str, Any] | None) -> str:
    if not secret:
        return "(none)"
    return ", ".join(sorted((secret.get("data") or {}).keys()))


def digest(secret: dict[str, Any] | None) -> str:
    """A short digest of a Secret's data, to show it did not change without showing it."""
    data = json.dumps((secret or {}).get("data") or {}, sort_keys=True).encode()
    return hashlib.sha256(data).hexdigest()[:12]


@contextlib.contextmanager
def controller(demo: Demo) -> Iterator[str]:
    port = free_port()
    log = (demo.work / "controller.log").open("wb")
    proc = subprocess.Popen(
        [str(BIN / "sealops"), "controller", "--namespace", KEY_NAMESPACE,
         "--listen", f"127.0.0.1:{port}"],
        stdout=log, stderr=subprocess.STDOUT, env=demo.env, start_new_session=True)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        log.close()


@contextlib.contextmanager
def vault_server(demo: Demo) -> Iterator[VaultTestServer]:
    """The Vault test server, its kubernetes auth checking tokens with the TokenReview API."""
    server = VaultTestServer.start(root_token=secrets.token_hex(16))

    def review(jwt: str, audiences: Sequence[str]) -> dict[str, Any]:
        spec: dict[str, Any] = {"token": jwt, **({"audiences": list(audiences)}
                                                  if audiences else {})}
        answer = demo.kube.request("POST", "/apis/authentication.k8s.io/v1/tokenreviews", body={
            "apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": spec})
        return dict(answer.get("status") or {})

    server.set_tokenreview(review)
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def timeline(demo: Demo, names: Sequence[str]) -> Iterator[dict[str, float]]:
    """When each named Secret or Deployment of dev first exists (polled every 50 ms)."""
    from sealer.kube import client

    deployments = client.Resource("apps", "v1", "Deployment", "deployments", True)
    seen: dict[str, float] = {}
    stop = threading.Event()
    started = time.monotonic()

    def poll() -> None:
        while not stop.wait(0.05) and not all(n in seen for n in names):
            for res in (deployments, client.SECRETS):
                for obj in demo.kube.list(res, namespace=DEV):
                    seen.setdefault(f"{res.kind} {obj['metadata']['name']}",
                                    time.monotonic() - started)

    thread = threading.Thread(target=poll, name="demo-timeline", daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        stop.set()
        thread.join(timeout=10)


def install(demo: Demo) -> None:
    # Not recursive: crds/compat/ (the bitnami.com SealedSecret) is only for --bitnami-compat.
    step("Installing the CRDs: kubectl apply -f crds/")
    for line in demo.kubectl("apply", "-f", str(ROOT / "crds")).splitlines():
        say(line)
    demo.kubectl("create", "namespace", KEY_NAMESPACE)
    demo.kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd", "--all")


def prepare_vault(vault: VaultTestServer) -> None:
    step(f"Starting the Vault test server ({vault.url}) and storing the payment API key")
    vault.kv2_put(path="shop/payment", data={"apiKey": f"pk-{secrets.token_hex(12)}"})
    vault.set_policy("shop-dev", {"secret/data/shop/*": ["read"]})
    vault.add_kubernetes_role(role="shop-dev", bound_service_account_names=["vault-auth"],
                              bound_service_account_namespaces=[DEV], policies=["shop-dev"])
    say("vault kv put secret/shop/payment apiKey=<generated, not shown>")
    say("vault policy write shop-dev: read secret/data/shop/*")
    say(f"vault write auth/kubernetes/role/shop-dev bound_service_account_names=vault-auth "
        f"bound_service_account_namespaces={DEV} policies=shop-dev")


def fetch_cert(demo: Demo) -> None:
    step("The controller generated the cluster's first key generation; fetching its public "
         "keys: seal cert > pub.pem")
    demo.wait(lambda: demo.get("configmap", "sealops-public-keys", KEY_NAMESPACE),
              "the public keys to be published")
    (demo.work / "pub.pem").write_text(demo.run(str(BIN / "seal"), "cert",
                                                "--controller-namespace", KEY_NAMESPACE))
    public = demo.get("configmap", "sealops-public-keys", KEY_NAMESPACE) or {}
    say(f"key id {public['data']['key-id']} (RSA-4096 for kubeseal format, "
        "ML-KEM-768 + X25519 for v2)")


def prepare_repository(demo: Demo, *, vault_url: str, served: Path) -> None:
    step("Re-sealing examples/gitops-repo for this cluster, with fresh values: "
         "python examples/reseal.py --cert pub.pem --generate")
    repo_dir = demo.work / "gitops-repo"
    demo.repo = repos.WorkTree(repo_dir, repos.create_bare(served, "gitops.git"))
    shutil.copytree(ROOT / "examples" / "gitops-repo", repo_dir, dirs_exist_ok=True)
    out = demo.run(str(sys.executable), str(ROOT / "examples" / "reseal.py"), "--cert",
                   "pub.pem", "--generate", "--root", str(demo.work), "--only", "gitops-repo/")
    for line in out.splitlines():
        say(line)
    for line in (repo_dir / SEALED_DB).read_text().splitlines()[:12]:
        say(line[:96] + ("..." if len(line) > 96 else ""))
    say("(safe to commit: only this cluster's controller can open it, and only in shop-dev)")
    store = repo_dir / DEV_VAULTSTORE
    store.write_text(store.read_text().replace("http://127.0.0.1:8200", vault_url))
    say(f"{DEV_VAULTSTORE}: server -> {vault_url} (the Vault test server)")

    step("seal check: the pre-commit hook (.pre-commit-config.yaml, id seal-check)")
    demo.run(str(BIN / "seal"), "check", "gitops-repo")
    say("seal check gitops-repo/ -> exit 0 (no plaintext Secret, every sealed value well-formed)")
    leak = repo_dir / "apps/shop/overlays/dev/oops.yaml"
    leak.write_text("apiVersion: v1\nkind: Secret\nmetadata: {name: oops, namespace: shop-dev}"
                    f"\nstringData: {{token: {secrets.token_hex(8)}}}\n")
    result = subprocess.run([str(BIN / "seal"), "check", "gitops-repo"], capture_output=True,
                            env=demo.env, cwd=demo.work, check=False)
    say(f"with a plaintext Secret added: exit {result.returncode}: "
        f"{(result.stdout + result.stderr).decode().strip()}")
    leak.unlink()


def bootstrap(demo: Demo, git: GitHTTPServer) -> None:
    step(f"Committing the repository to the git server {git.url('gitops.git')} "
         "(smart HTTP, Basic auth)")
    assert demo.repo is not None
    demo.repo.commit("shop: GitOps repository (apps, infrastructure, clusters)")
    demo.repo.push()
    for line in demo.repo.run("log", "--oneline", "--stat=80").splitlines()[:6]:
        say(line)

    step("Bootstrapping dev: namespace, git credentials, then the GitSyncs of clusters/dev/")
    demo.show("apply", "-f", str(demo.repo.path / "clusters/dev/namespace.yaml"))
    password = demo.work / "git-password"
    password.write_text(git.password or "")
    demo.show("create", "secret", "generic", "git-credentials", "-n", DEV,
              f"--from-literal=username={GIT_USER}", f"--from-file=password={password}")
    password.unlink()
    watched = ("Secret dev-db", "Secret dev-payment-api", "Deployment dev-shop")
    with timeline(demo, watched) as seen:
        for name in ("infrastructure.yaml", "gitsync.yaml"):
            obj = yaml.safe_load((demo.repo.path / "clusters/dev" / name).read_text())
            obj["spec"].update(url=git.url("gitops.git"), interval=DEMO_INTERVAL)
            demo.show("apply", "-f", "-", stdin=json.dumps(obj).encode())
        say(f"(spec.url -> the local git server; interval {DEMO_INTERVAL} for the demo)")
        demo.wait_gitsync("infrastructure")
        cond = demo.wait_gitsync("shop")
        demo.wait(lambda: all(n in seen for n in watched), "the timeline")
    say(f"GitSync shop: Ready ({cond['reason']}): {cond.get('message', '')}")
    demo.show("get", "gitsyncs", "-n", DEV)
    say("first seen (polled every 50 ms): " + ", ".join(
        f"{n} +{seen[n]:.2f} s" for n in sorted(watched, key=lambda n: seen[n])))


def show_result(demo: Demo) -> None:
    step("What Git made of it: secrets first, then the workloads")
    demo.show("get", "sealedsecrets.sealops.dev,vaultsecrets", "-n", DEV)
    for name in ("dev-db", "dev-payment-api"):
        say(f"Secret {DEV}/{name} keys: {secret_keys(demo.get('secret', name, DEV))}")
    demo.show("get", "configmaps,deployments,services", "-n", DEV,
              "-l", f"sealops.dev/sync={DEV}.shop")


def drift(demo: Demo) -> None:
    step("Drift repair: kubectl scale deployment dev-shop --replicas=5 (a hand edit)")
    demo.kubectl("scale", "deployment", "dev-shop", "-n", DEV, "--replicas=5")
    started = time.monotonic()
    demo.wait(lambda: (demo.get("deployment", "dev-shop", DEV) or {})
              .get("spec", {}).get("replicas") == 1, "dev-shop back to 1 replica", 60)
    say(f"dev-shop is back to 1 replica (as in Git) after {time.monotonic() - started:.0f} s, "
        "on the next interval")

    step("A deleted Secret comes back at once: kubectl delete secret dev-db")
    before = demo.get("secret", "dev-db", DEV)
    started = time.monotonic()
    demo.kubectl("delete", "secret", "dev-db", "-n", DEV)
    after = demo.wait(lambda: demo.get("secret", "dev-db", DEV), "dev-db to be restored")
    say(f"restored after {time.monotonic() - started:.1f} s, keys: {secret_keys(after)}, "
        f"same data: {digest(before) == digest(after)}")


def tampered(demo: Demo) -> None:
    step("A tampered seal never reaches the cluster's Secret: one character of the sealed "
         "password changed in Git")
    assert demo.repo is not None
    good = demo.get("secret", "dev-db", DEV)
    path = demo.repo.path / SEALED_DB
    text = path.read_text()
    start = text.index("password: ") + len("password: ") + 60
    flipped = "B" if text[start] == "A" else "A"
    path.write_text(text[:start] + flipped + text[start + 1:])
    sha = demo.publish("dev: rotate the db password (tampered in transit)")
    cond = demo.wait_gitsync("shop", sha=sha, ok=False)
    say(f"GitSync shop: Ready=False, reason {cond['reason']}: {cond.get('message', '')}")
    demo.show("get", "sealedsecrets.sealops.dev", "dev-db", "-n", DEV)
    now = demo.get("secret", "dev-db", DEV)
    unchanged = digest(now) == digest(good) and (now or {})["metadata"]["resourceVersion"] \
        == (good or {})["metadata"]["resourceVersion"]
    say(f"Secret {DEV}/dev-db untouched: {unchanged} (same resourceVersion, same data digest "
        f"{digest(now)}); nothing after the secrets stage was applied")

    step("Fixing it the GitOps way: git revert")
    demo.repo.run("revert", "--no-edit", "HEAD")
    sha = demo.publish("Revert the tampered seal")
    cond = demo.wait_gitsync("shop", sha=sha)
    say(f"GitSync shop: Ready=True ({cond['reason']}) at {cond['revision']}")


def prune(demo: Demo) -> None:
    step("Pruning: the dev mail catcher leaves Git, so it leaves the cluster")
    assert demo.repo is not None
    demo.show("get", "deployments,services", "-n", DEV)
    kustomization = demo.repo.path / "apps/shop/overlays/dev/kustomization.yaml"
    kustomization.write_text(kustomization.read_text().replace("  - mailcatcher.yaml\n", ""))
    demo.repo.remove("apps/shop/overlays/dev/mailcatcher.yaml")
    say("git rm apps/shop/overlays/dev/mailcatcher.yaml (and its line in kustomization.yaml)")
    sha = demo.publish("dev: drop the mail catcher")
    demo.wait_gitsync("shop", sha=sha)
    demo.wait(lambda: demo.get("deployment", "dev-mailcatcher", DEV) is None
              and demo.get("service", "dev-mailcatcher", DEV) is None, "the prune")
    demo.show("get", "deployments,services", "-n", DEV)


def backup(demo: Demo) -> None:
    step("Disaster recovery kit: Git + an encrypted backup of the key generations")
    passphrase = demo.work / "passphrase"
    passphrase.write_text(secrets.token_urlsafe(24))
    passphrase.chmod(0o600)
    out = demo.run(str(BIN / "sealops"), "keys", "backup", "--namespace", KEY_NAMESPACE,
                   "--out", "keys.backup", "--passphrase-file", str(passphrase))
    for line in out.strip().splitlines():
        say(line)
    say(f"sealops keys backup --namespace {KEY_NAMESPACE} --out keys.backup "
        f"({(demo.work / 'keys.backup').stat().st_size} bytes, Argon2id + XSalsa20-Poly1305)")
    demo.run(str(BIN / "seal"), "keys", "restore", "keys.backup", "--out", "restored",
             "--passphrase-file", str(passphrase))
    assert demo.repo is not None
    opened = json.loads(demo.run(str(BIN / "seal"), "unseal", str(demo.repo.path / SEALED_DB),
                                 "--key", "restored/private.pem", "--format", "json"))
    say(f"seal keys restore keys.backup --out restored/ && seal unseal {SEALED_DB} "
        f"--key restored/private.pem -> opens offline, keys: {secret_keys(opened)}")


def show_failure(demo: Demo | None, exc: BaseException) -> None:
    print(f"\n!!  demo failed: {exc}", flush=True)
    traceback.print_exc()
    log = demo.work / "controller.log" if demo else None
    if log is not None and log.exists():
        print("--- last controller log lines ---")
        print("\n".join(log.read_text(errors="replace").splitlines()[-30:]))


def scenario(demo: Demo, stack: contextlib.ExitStack) -> None:
    from sealer.kube import config

    demo.kube = config.connect(kubeconfig=str(demo.cp.kubeconfig))
    stack.callback(demo.kube.close)
    install(demo)
    vault = stack.enter_context(vault_server(demo))
    prepare_vault(vault)
    step(f"Starting the controller: sealops controller --namespace {KEY_NAMESPACE}")
    stack.enter_context(controller(demo))
    fetch_cert(demo)
    served = demo.work / "served"
    served.mkdir()
    git = stack.enter_context(GitHTTPServer(served, username=GIT_USER,
                                            password=secrets.token_urlsafe(16)))
    prepare_repository(demo, vault_url=vault.url, served=served)
    bootstrap(demo, git)
    show_result(demo)
    drift(demo)
    tampered(demo)
    prune(demo)
    backup(demo)
    step("Tearing down: controller, git server, Vault, control plane")


def main() -> int:
    started = time.monotonic()
    demo: Demo | None = None
    code = 0
    step("Starting a local Kubernetes control plane (etcd, kube-apiserver, "
         "kube-controller-manager)")
    try:
        with contextlib.ExitStack() as stack:
            cp = stack.enter_context(controlplane.running())
            work = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            demo = Demo(cp, work)
            version = json.loads(demo.kubectl("version", "-o", "json"))["serverVersion"]
            say(f"server version: {version['gitVersion']} ({cp.server})")
            try:
                scenario(demo, stack)
            except Exception as exc:  # report, then let the stack tear everything down
                show_failure(demo, exc)
                code = 1
    except KeyboardInterrupt:
        code = 130
    except Exception as exc:  # the control plane itself did not start or stop
        show_failure(None, exc)
        code = 1
    say(f"{'done' if code == 0 else 'FAILED'} in {time.monotonic() - started:.0f} s "
        "(everything started has been stopped)")
    return code


if __name__ == "__main__":
    sys.exit(main())
