"""`sealops install` on a fresh control plane of its own (no CRDs, no compat CRD, nothing from
other tests): every object is applied and exists, the controller's account holds every right
it needs, `kubectl get sealedsecrets` and `kubectl get sealops` show sealops objects, a second
install is accepted, and what this API server (v1.20) cannot serve is refused before anything
is written.

The control plane has no kubelet, so no pod starts: the controller runs as a local process
with a TokenRequest token of the installed ServiceAccount (nothing else in its kubeconfig),
with the Deployment's own arguments, and must do its job with the installed rights alone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from sealer.kube import client, config
from tests.harness import controlplane
from tests.harness.controlplane import free_port
from tests.harness.waiting import wait_for
from tests.integration.controller_fixtures import (
    SEALOPS,
    RunningController,
    ready_condition,
    sealed_secret,
    secret_data,
)
from tests.integration.deploy.conftest import ROOT, Kubectl, ident
from tests.integration.deploy.test_rbac import CAN, CANNOT

IMAGE = "registry.example.com/sealops:0.1.0"
NS = "sealops-system"
ACCOUNT = f"system:serviceaccount:{NS}:sealops-controller"


@pytest.fixture(scope="module")
def plane() -> Iterator[controlplane.ControlPlane]:
    with controlplane.running() as cp:
        yield cp


@pytest.fixture(scope="module")
def kubectl(plane: controlplane.ControlPlane,
            tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    return Kubectl(plane.kubeconfig, tmp_path_factory.mktemp("own-kubectl-cache"))


def _install(plane: controlplane.ControlPlane, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SEALOPS_", "KUBECONFIG"))}
    return subprocess.run([sys.executable, "-m", "controller.cli", "--kubeconfig",
                           str(plane.kubeconfig), "install", "--image", IMAGE, *args],
                          capture_output=True, text=True, timeout=300, check=False, cwd=ROOT,
                          env=env, stdin=subprocess.DEVNULL)


def _export(plane: controlplane.ControlPlane, *args: str) -> list[dict[str, Any]]:
    result = _install(plane, "--export", *args)
    assert result.returncode == 0, result.stderr
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def _exists(kubectl: Kubectl, obj: dict[str, Any]) -> bool:
    kind, namespace, name = ident(obj)
    group = obj["apiVersion"].rpartition("/")[0]
    args = ["get", f"{kind}.{group}" if group else kind, name, "-o", "name",
            "--ignore-not-found"]
    if namespace:
        args += ["-n", namespace]
    return kubectl.run(*args).stdout.strip() != ""


INSTALL_ARGS = ("--component", "network-policy", "--component", "pod-security",
                "--gitops", "admin")


@pytest.fixture(scope="module")
def installed(plane: controlplane.ControlPlane, kubectl: Kubectl) -> list[dict[str, Any]]:
    result = _install(plane, *INSTALL_ARGS)
    assert result.returncode == 0, result.stderr
    objects = _export(plane, *INSTALL_ARGS)
    reported = result.stdout.splitlines()
    assert len(reported) == len(objects), result.stdout
    assert all(line.endswith(" serverside-applied") for line in reported)
    wait_for(lambda: kubectl.can_i("list", "sealedsecrets.sealops.dev", "--all-namespaces",
                                   user=ACCOUNT),
             timeout=30, what="the controller's ClusterRoleBinding to take effect")
    return objects


def test_every_object_of_the_install_exists(installed: list[dict[str, Any]],
                                            kubectl: Kubectl) -> None:
    assert [ident(o) for o in installed if not _exists(kubectl, o)] == []
    deployment = json.loads(kubectl.run("get", "deployment", "sealops-controller", "-n", NS,
                                        "-o", "json").stdout)
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == IMAGE
    labels = json.loads(kubectl.run("get", "namespace", NS, "-o", "json").stdout)[
        "metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


@pytest.mark.parametrize("question", CAN, ids=" ".join)
def test_the_installed_controller_account_may_do_its_job(
        installed: list[dict[str, Any]], kubectl: Kubectl, question: tuple[str, ...]) -> None:
    assert kubectl.can_i(*question, user=ACCOUNT), question


@pytest.mark.parametrize("question", CANNOT, ids=" ".join)
def test_the_installed_controller_account_may_not_do_more(
        installed: list[dict[str, Any]], kubectl: Kubectl, question: tuple[str, ...]) -> None:
    assert not kubectl.can_i(*question, user=ACCOUNT), question


def test_plain_sealedsecrets_and_the_sealops_category_show_sealops_objects(
        installed: list[dict[str, Any]], kubectl: Kubectl) -> None:
    assert not _exists(kubectl, {"apiVersion": "apiextensions.k8s.io/v1",
                                 "kind": "CustomResourceDefinition",
                                 "metadata": {"name": "sealedsecrets.bitnami.com"}})
    _a_sealops_object(kubectl)
    assert kubectl.run("get", "sealedsecrets", "-n", "default", "-o", "name").stdout \
        .split() == ["sealedsecret.sealops.dev/db"]
    everything = kubectl.run("get", "sealops", "-A", "-o", "name").stdout.split()
    assert "sealedsecret.sealops.dev/db" in everything


def _a_sealops_object(kubectl: Kubectl) -> None:
    doc = {"apiVersion": "sealops.dev/v1alpha1", "kind": "SealedSecret",
           "metadata": {"name": "db", "namespace": "default"},
           "spec": {"encryptedData": {"k": "AAAA"}}}
    kubectl.run("apply", "-f", "-", stdin=json.dumps(doc))


def test_installing_again_is_accepted_and_changes_nothing(
        installed: list[dict[str, Any]], plane: controlplane.ControlPlane,
        kubectl: Kubectl) -> None:
    before = kubectl.run("get", "deployment", "sealops-controller", "-n", NS, "-o",
                         "jsonpath={.metadata.generation}").stdout
    again = _install(plane, *INSTALL_ARGS)
    assert again.returncode == 0, again.stderr
    assert kubectl.run("get", "deployment", "sealops-controller", "-n", NS, "-o",
                       "jsonpath={.metadata.generation}").stdout == before


def test_a_component_this_api_server_cannot_serve_is_refused_before_anything_is_written(
        installed: list[dict[str, Any]], plane: controlplane.ControlPlane,
        kubectl: Kubectl) -> None:
    """PodDisruptionBudget policy/v1 arrived in Kubernetes 1.21; this control plane is 1.20."""
    result = _install(plane, "--component", "pdb", "--namespace", "sealops-other")
    assert result.returncode == 7, result.stderr
    assert "PodDisruptionBudget sealops-controller: policy/v1 is not served" in result.stderr
    assert "Kubernetes 1.21+" in result.stderr
    assert result.stdout == ""
    assert kubectl.run("get", "namespace", "sealops-other", "--ignore-not-found",
                       "-o", "name").stdout == ""


def test_a_missing_tenant_namespace_is_refused_before_anything_is_written(
        installed: list[dict[str, Any]], plane: controlplane.ControlPlane,
        kubectl: Kubectl) -> None:
    result = _install(plane, "--gitops", "tenant", "--tenant-namespace", "team-nowhere",
                      "--namespace", "sealops-other")
    assert result.returncode == 7, result.stderr
    assert "--tenant-namespace team-nowhere: namespace not found" in result.stderr
    assert kubectl.run("get", "namespace", "sealops-other", "--ignore-not-found",
                       "-o", "name").stdout == ""


@pytest.fixture
def no_compat_after(kubectl: Kubectl) -> Iterator[None]:
    """The bitnami.com CRD is gone again after the test (the other tests expect none)."""
    yield
    kubectl.run("delete", "crd", "sealedsecrets.bitnami.com", "--ignore-not-found",
                "--wait=true")


@pytest.mark.usefixtures("no_compat_after")
def test_bitnami_compat_adds_the_bitnami_crd_and_the_controller_flag(
        installed: list[dict[str, Any]], plane: controlplane.ControlPlane,
        kubectl: Kubectl, tmp_path: Path) -> None:
    kubectl.run("create", "namespace", "team-a")
    _a_sealops_object(kubectl)
    result = _install(plane, "--bitnami-compat", "--gitops", "tenant",
                      "--tenant-namespace", "team-a", *INSTALL_ARGS[:4])
    assert result.returncode == 0, result.stderr
    assert "customresourcedefinition.apiextensions.k8s.io/sealedsecrets.bitnami.com " \
           "serverside-applied" in result.stdout
    args = json.loads(kubectl.run("get", "deployment", "sealops-controller", "-n", NS,
                                  "-o", "json").stdout)["spec"]["template"]["spec"][
        "containers"][0]["args"]
    assert args[-1] == "--bitnami-compat"
    # With both CRDs served, kubectl resolves the bare plural to bitnami.com (equal group
    # priority, then by name): this is why the compat CRD is opt-in. (A fresh discovery cache:
    # the module's one predates the bitnami.com group.)
    fresh = Kubectl(plane.kubeconfig, tmp_path / "kubectl-cache")
    assert fresh.run("get", "sealedsecrets", "-n", "default", "-o", "name").stdout == ""
    everything = fresh.run("get", "sealops", "-A", "-o", "name").stdout.split()
    assert "sealedsecret.sealops.dev/db" in everything
    assert kubectl.can_i("impersonate", "serviceaccounts/sealops-gitops", "-n", "team-a",
                         user=ACCOUNT)


@pytest.mark.usefixtures("no_compat_after")
def test_an_existing_crd_someone_else_installed_is_kept(
        installed: list[dict[str, Any]], plane: controlplane.ControlPlane,
        kubectl: Kubectl) -> None:
    """Bitnami's own sealedsecrets.bitnami.com (here: ours without our label, applied by
    kubectl, with a marker) is not replaced by --bitnami-compat."""
    foreign = yaml.safe_load((ROOT / "crds" / "compat" / "sealedsecrets.bitnami.com.yaml")
                             .read_text())
    del foreign["metadata"]["labels"]
    foreign["metadata"]["annotations"] = {"example.com/installed-by": "bitnami"}
    foreign["spec"]["names"]["categories"] = ["bitnami"]
    kubectl.run("apply", "-f", "-", stdin=json.dumps(foreign))
    result = _install(plane, "--bitnami-compat")
    assert result.returncode == 0, result.stderr
    assert "kept CustomResourceDefinition sealedsecrets.bitnami.com" in result.stderr
    assert "sealedsecrets.bitnami.com serverside-applied" not in result.stdout
    stored = json.loads(kubectl.run("get", "crd", "sealedsecrets.bitnami.com", "-o",
                                    "json").stdout)
    assert stored["metadata"]["annotations"]["example.com/installed-by"] == "bitnami"
    assert "labels" not in stored["metadata"]
    assert stored["spec"]["names"]["categories"] == ["bitnami"]


def _account_kubeconfig(kubectl: Kubectl, path: Path) -> Path:
    token = kubectl.run("create", "token", "sealops-controller", "-n", NS,
                        "--duration=3600s").stdout.strip()
    kubeconfig = json.loads(kubectl.kubeconfig.read_text())
    kubeconfig["users"] = [{"name": "sealops-controller", "user": {"token": token}}]
    kubeconfig["contexts"][0]["context"]["user"] = "sealops-controller"
    path.write_text(json.dumps(kubeconfig))
    path.chmod(0o600)
    return path


def test_the_installed_account_runs_a_working_controller(
        installed: list[dict[str, Any]], plane: controlplane.ControlPlane, kubectl: Kubectl,
        tmp_path: Path) -> None:
    kubectl.run("create", "namespace", "team-run")
    account = _account_kubeconfig(kubectl, tmp_path / "account.kubeconfig")
    deployment = next(o for o in installed if o["kind"] == "Deployment")
    args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    port = free_port()
    log = tmp_path / "controller.log"
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "controller.cli", "-v", "--kubeconfig", str(account),
             *args, "--watch-namespace", "team-run", "--listen", f"127.0.0.1:{port}"],
            stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT, start_new_session=True)
    ctl = RunningController(proc, log, f"http://127.0.0.1:{port}", NS)
    kube = config.connect(kubeconfig=str(plane.kubeconfig))
    try:
        wait_for(lambda: proc.poll() is not None or _answers(ctl), timeout=90,
                 what="the controller's /healthz")
        assert proc.poll() is None, ctl.log_text()[-3000:]
        kube.create(SEALOPS, sealed_secret(namespace="team-run", name="db",
                                           public=ctl.public(), data={"k": b"v"}),
                    namespace="team-run")
        secret = wait_for(lambda: kube.get(client.SECRETS, "db", namespace="team-run"),
                          timeout=90, what="the unsealed Secret")
        assert secret_data(secret) == {"k": b"v"}
        cond = wait_for(lambda: ready_condition(kube.get(SEALOPS, "db",
                                                         namespace="team-run")),
                        timeout=60, what="the Ready condition")
        assert (cond["status"], cond["reason"]) == ("True", "Succeeded")
        assert kube.get(client.CONFIGMAPS, "sealops-public-keys", namespace=NS) is not None
        text = ctl.log_text()
        assert [w for w in ("Forbidden", "forbidden", "Not enough permissions")
                if w in text] == [], text[-3000:]
    finally:
        ctl.stop()
        kube.close()


def _answers(ctl: RunningController) -> bool:
    try:
        return ctl.get("/healthz")[0] == 200
    except OSError:
        return False
