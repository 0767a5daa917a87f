"""A developer with nothing but the built-in `edit` role in one namespace seals, applies,
verifies and re-encrypts, with the real `seal` CLI and kubectl, as a ServiceAccount with a
TokenRequest token (no admin credentials anywhere in its kubeconfig).

What makes it work is deploy/user-rbac.yaml alone: `sealops-edit` is aggregated into `edit`
(create the SealedSecret), `sealops-public-keys-reader` lets `seal` fetch the public keys, and
`sealops-service-proxier` lets `seal verify`/`seal reencrypt` reach the controller through the
API server's service proxy.

The control plane has no kubelet, so the controller runs as a local process and its Service
is backed by a hand-made Pod + Endpoints whose IP is this machine's non-loopback address
(Endpoints refuse loopback addresses). Each test uses its own controller namespace, into which
the shipped controller-namespace Roles and RoleBindings are copied unchanged except for
`metadata.namespace`, so tests never share a controller.
"""

from __future__ import annotations

import copy
import json
import secrets
import socket
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from sealer.kube import client
from sealer.manifests import safeyaml
from tests.harness.controlplane import free_port
from tests.harness.waiting import wait_for
from tests.integration.controller_fixtures import SEALOPS, StartController, secret_data
from tests.integration.deploy.conftest import Installed, Kubectl
from tests.integration.sealcluster.helpers import seal, secret_yaml

PODS = client.Resource("", "v1", "Pod", "pods", True)
SERVICES = client.Resource("", "v1", "Service", "services", True)
ENDPOINTS = client.Resource("", "v1", "Endpoints", "endpoints", True)
SERVICE_ACCOUNTS = client.Resource("", "v1", "ServiceAccount", "serviceaccounts", True)
ROLE_BINDINGS = client.Resource("rbac.authorization.k8s.io", "v1", "RoleBinding",
                                "rolebindings", True)
# The controller-namespace objects a developer depends on.
DEVELOPER_FACING = ("sealops-public-keys-reader", "sealops-service-proxier")


def _host_address() -> str | None:
    """A non-loopback IPv4 address of this machine, or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))  # UDP connect sends no packet
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith(("127.", "0.", "169.254.")) else address


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=5) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


def _publish_service(kube: Any, *, namespace: str, address: str, port: int) -> None:
    """Service sealops-controller:8080 (port name `http`, as deploy/service.yaml) -> a Pod
    object whose IP is this host."""
    wait_for(lambda: kube.get(SERVICE_ACCOUNTS, "default", namespace=namespace),
             what="the default ServiceAccount")
    kube.create(PODS, {"metadata": {"name": "controller"},
                       "spec": {"containers": [{"name": "c", "image": "sealops.invalid/x"}]}},
                namespace=namespace)
    kube.patch(PODS, "controller", {"status": {"podIP": address, "podIPs": [{"ip": address}]}},
               namespace=namespace, subresource="status")
    kube.create(SERVICES, {"metadata": {"name": "sealops-controller"}, "spec": {
        "ports": [{"name": "http", "port": 8080, "targetPort": port}]}}, namespace=namespace)
    kube.create(ENDPOINTS, {"metadata": {"name": "sealops-controller"}, "subsets": [{
        "addresses": [{"ip": address, "targetRef": {
            "kind": "Pod", "name": "controller", "namespace": namespace}}],
        "ports": [{"name": "http", "port": port, "protocol": "TCP"}]}]}, namespace=namespace)


def _shipped_in(base: list[dict[str, Any]], namespace: str) -> list[dict[str, Any]]:
    """The shipped Roles/RoleBindings a developer needs, moved to `namespace`."""
    out = []
    for obj in base:
        if obj["kind"] in ("Role", "RoleBinding") and \
                obj["metadata"]["name"] in DEVELOPER_FACING:
            moved = copy.deepcopy(obj)
            moved["metadata"]["namespace"] = namespace
            out.append(moved)
    assert len(out) == 4
    return out


def _developer_kubeconfig(kubectl: Kubectl, *, namespace: str, account: str,
                          path: Path) -> Path:
    """A kubeconfig holding only a TokenRequest token of `account` (namespace as context)."""
    token = kubectl.run("create", "token", account, "-n", namespace,
                        "--duration=3600s").stdout.strip()
    config = json.loads(kubectl.kubeconfig.read_text())
    config["users"] = [{"name": account, "user": {"token": token}}]
    config["contexts"][0]["context"]["user"] = account
    config["contexts"][0]["context"]["namespace"] = namespace
    path.write_text(json.dumps(config))
    path.chmod(0o600)
    return path


def _developer(kube: Any, kubectl: Kubectl, *, namespace: str, name: str,
               role: str | None, tmp_path: Path) -> Path:
    kube.create(SERVICE_ACCOUNTS, {"metadata": {"name": name}}, namespace=namespace)
    if role is not None:
        kube.create(ROLE_BINDINGS, {
            "metadata": {"name": f"{name}-{role}"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": role},
            "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}]},
            namespace=namespace)
    return _developer_kubeconfig(kubectl, namespace=namespace, account=name,
                                 path=tmp_path / f"{name}.kubeconfig")


def _as(kubeconfig: Path, kubectl: Kubectl, *args: str,
        stdin: str | None = None) -> Any:
    """kubectl with the developer's kubeconfig (not the admin's)."""
    return Kubectl(kubeconfig, kubectl.cache_dir.parent / kubeconfig.stem).run(
        *args, stdin=stdin, check=False)


def test_a_developer_with_only_edit_seals_applies_verifies_and_reencrypts(
        installed: Installed, kube: Any, kubectl: Kubectl, namespace: str,
        start_controller: StartController, tmp_path: Path) -> None:
    address = _host_address()
    if address is None:
        pytest.skip("no non-loopback IPv4 address for an Endpoints object")
    ctl_ns = f"ctl-{secrets.token_hex(3)}"
    kube.create(client.NAMESPACES, {"metadata": {"name": ctl_ns}})
    try:
        _run_developer_flow(installed, kube, kubectl, namespace=namespace, ctl_ns=ctl_ns,
                            address=address, start_controller=start_controller,
                            tmp_path=tmp_path)
    finally:
        kube.delete(client.NAMESPACES, ctl_ns)


def _run_developer_flow(installed: Installed, kube: Any, kubectl: Kubectl, *, namespace: str,
                        ctl_ns: str, address: str, start_controller: StartController,
                        tmp_path: Path) -> None:
    kubectl.apply(_shipped_in(installed.objects, ctl_ns))
    port = free_port()
    ctl = start_controller(watch=namespace, key_namespace=ctl_ns,
                           args=("--listen", f"0.0.0.0:{port}"), wait_ready=False)
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: ctl.proc.poll() is not None or _healthy(url), timeout=60,
             what="the controller's /healthz")
    assert ctl.proc.poll() is None, ctl.log_text()[-3000:]
    _publish_service(kube, namespace=ctl_ns, address=address, port=port)

    dev = _developer(kube, kubectl, namespace=namespace, name="developer", role="edit",
                     tmp_path=tmp_path)
    wait_for(lambda: _as(dev, kubectl, "auth", "can-i", "create",
                         "sealedsecrets.sealops.dev").stdout.strip() == "yes",
             timeout=30, what="edit (with sealops-edit aggregated) to reach the authorizer")
    ns = ("--controller-namespace", ctl_ns)

    # 1. Seal, fetching the published public keys as the developer.
    canary = f"canary-{secrets.token_hex(8)}"
    (tmp_path / "secret.yaml").write_bytes(
        secret_yaml(namespace=namespace, name="db", data={"password": canary}))
    sealed = seal("secret", "secret.yaml", *ns, kubeconfig=dev, cwd=tmp_path)
    assert sealed.returncode == 0, sealed.stderr.decode()
    (tmp_path / "sealed.yaml").write_bytes(sealed.stdout)

    # 2. Apply it as the developer; the controller unseals it.
    applied = _as(dev, kubectl, "apply", "-f", str(tmp_path / "sealed.yaml"))
    assert applied.returncode == 0, applied.stderr
    assert "sealedsecret.sealops.dev/db" in applied.stdout
    secret = wait_for(lambda: kube.get(client.SECRETS, "db", namespace=namespace),
                      timeout=60, what="the unsealed Secret")
    assert secret_data(secret) == {"password": canary.encode()}

    # 3. Verify and 4. re-encrypt through the API server's service proxy, as the developer.
    verified = seal("verify", "sealed.yaml", *ns, kubeconfig=dev, cwd=tmp_path)
    assert (verified.returncode, verified.stdout) == (0, f"{namespace}/db: ok\n".encode()), \
        verified.stderr.decode()
    before = (tmp_path / "sealed.yaml").read_bytes()
    rotated = seal("reencrypt", "sealed.yaml", *ns, kubeconfig=dev, cwd=tmp_path)
    assert rotated.returncode == 0, rotated.stderr.decode()
    after = safeyaml.load_one((tmp_path / "sealed.yaml").read_bytes(), source="sealed.yaml")
    assert (tmp_path / "sealed.yaml").read_bytes() != before
    assert set(after["spec"]["encryptedData"]) == {"password"}
    # The plaintext appears nowhere but in the Secret: not in the files, not in any output.
    outputs = [sealed.stderr, verified.stdout, verified.stderr, rotated.stdout, rotated.stderr,
               applied.stdout.encode(), applied.stderr.encode(),
               (tmp_path / "sealed.yaml").read_bytes(), ctl.log.read_bytes()]
    assert [i for i, out in enumerate(outputs) if canary.encode() in out] == []

    # The same account without the shipped proxier binding is refused by the API server.
    kube.delete(ROLE_BINDINGS, "sealops-service-proxier", namespace=ctl_ns)
    wait_for(lambda: _as(dev, kubectl, "auth", "can-i", "create",
                         "services/http:sealops-controller:8080", "--subresource=proxy",
                         "-n", ctl_ns).stdout.strip() == "no",
             timeout=30, what="the proxier RoleBinding to be gone")
    refused = seal("verify", "sealed.yaml", *ns, kubeconfig=dev, cwd=tmp_path)
    assert refused.returncode != 0
    assert "forbidden" in refused.stderr.decode().lower(), refused.stderr.decode()


def test_without_edit_the_same_developer_may_not_create_sealed_secrets(
        installed: Installed, kube: Any, kubectl: Kubectl, namespace: str,
        tmp_path: Path) -> None:
    nobody = _developer(kube, kubectl, namespace=namespace, name="nobody", role=None,
                        tmp_path=tmp_path)
    doc = {"apiVersion": "sealops.dev/v1alpha1", "kind": "SealedSecret",
           "metadata": {"name": "x", "namespace": namespace},
           "spec": {"encryptedData": {"k": "AAAA"}}}
    refused = _as(nobody, kubectl, "apply", "-f", "-", stdin=json.dumps(doc))
    assert refused.returncode != 0 and "forbidden" in refused.stderr.lower(), refused.stderr
    assert kube.get(SEALOPS, "x", namespace=namespace) is None


VIEW = ("get", "list", "watch")
WRITE = ("create", "update", "patch", "delete")
NAMESPACED = ("sealedsecrets.sealops.dev", "vaultsecrets.sealops.dev",
              "vaultstores.sealops.dev", "gitsyncs.sealops.dev", "sealedsecrets.bitnami.com")


@pytest.mark.parametrize(("role", "allowed"), [
    ("view", VIEW), ("edit", VIEW + WRITE), ("admin", VIEW + WRITE)])
def test_the_built_in_roles_carry_the_aggregated_sealops_rights(
        installed: Installed, kubectl: Kubectl, role: str,
        allowed: tuple[str, ...]) -> None:
    """A RoleBinding to view/edit/admin in team-a: exactly these verbs on every sealops kind
    there, never on status, never elsewhere, never on ClusterVaultStores."""
    user = f"someone-with-{role}"
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"name": f"test-{role}", "namespace": "default"},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                           "name": role},
               "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User",
                             "name": user}]}
    kubectl.apply([binding])
    try:
        wait_for(lambda: kubectl.can_i("get", "sealedsecrets.sealops.dev", "-n", "default",
                                       user=user), timeout=30, what=f"{role} to take effect")
        answers = {(verb, kind): kubectl.can_i(verb, kind, "-n", "default", user=user)
                   for kind in NAMESPACED for verb in VIEW + WRITE}
        assert [k for k, v in answers.items() if v != (k[0] in allowed)] == []
        for kind in NAMESPACED:
            assert not kubectl.can_i("patch", kind, "--subresource=status", "-n", "default",
                                     user=user), kind
            assert not kubectl.can_i("get", kind, "-n", "kube-system", user=user), kind
        # Cluster-scoped: asked without a namespace (kubectl would add its current one, and a
        # RoleBinding answers for any resource name inside its namespace).
        for verb in VIEW + WRITE:
            assert not kubectl.review(verb, "clustervaultstores.sealops.dev", user=user,
                                      groups=()), verb
    finally:
        kubectl.run("delete", "rolebinding", f"test-{role}", "-n", "default")
