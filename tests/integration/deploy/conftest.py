"""Fixtures for the deploy/ tests: `kubectl` bound to the session's control plane, the rendered
base, and the base installed once per session (server-side dry run first, then for real).

The CRDs come from the shared `crds` fixture (`kubectl apply -R -f crds/`), exactly as
deploy/README.md tells an admin to install them.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.harness.waiting import wait_for

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
CONTROLLER_NS = "sealops-system"
ACCOUNT = f"system:serviceaccount:{CONTROLLER_NS}:sealops-controller"
FIELD_MANAGER = "sealops-deploy-tests"
ANONYMOUS = "system:anonymous"


def render(directory: Path) -> list[dict[str, Any]]:
    """`kubectl kustomize DIR` as a list of objects."""
    out = subprocess.run(["kubectl", "kustomize", str(directory)], check=True,
                         capture_output=True, text=True, timeout=60).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def ident(obj: dict[str, Any]) -> tuple[str, str, str]:
    meta = obj["metadata"]
    return obj["kind"], meta.get("namespace", ""), meta["name"]


@dataclasses.dataclass(frozen=True)
class Kubectl:
    """`kubectl` with the session's admin kubeconfig and a private discovery cache."""

    kubeconfig: Path
    cache_dir: Path

    def run(self, *args: str, stdin: str | None = None,
            check: bool = True) -> subprocess.CompletedProcess[str]:
        argv = ["kubectl", "--kubeconfig", str(self.kubeconfig), "--cache-dir",
                str(self.cache_dir), *args]
        result = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=60,
                                check=False)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed ({result.returncode}):\n"
                                 f"{result.stderr[-3000:]}")
        return result

    def apply(self, objects: list[dict[str, Any]], *, dry_run: bool = False) -> list[str]:
        """Server-side apply; returns what kubectl reports (`kind.group/name` per object)."""
        args = ["apply", "--server-side", "--field-manager", FIELD_MANAGER, "-o", "name",
                "-f", "-"]
        if dry_run:
            args.insert(1, "--dry-run=server")
        out = self.run(*args, stdin=yaml.safe_dump_all(objects)).stdout
        return [line.strip() for line in out.splitlines() if line.strip()]

    def can_i(self, *args: str, user: str = ACCOUNT, groups: tuple[str, ...] = ()) -> bool:
        """`kubectl auth can-i ARGS` as `user` (impersonated): True for "yes", False for "no".

        kubectl answers "no" for a resource type the server does not serve (yet: CRDs are still
        being added), and the anonymous user may not ask for itself; both questions go to the
        authorizer as a SubjectAccessReview instead.
        """
        if user == ANONYMOUS:
            return self.review(*args, user=user, groups=groups)
        extra = [f"--as-group={g}" for g in groups]
        result = self.run("auth", "can-i", *args, f"--as={user}", *extra, check=False)
        if "doesn't have a resource type" in result.stderr:
            return self.review(*args, user=user, groups=groups)
        answer = result.stdout.strip()
        if result.returncode not in (0, 1) or answer not in ("yes", "no"):
            raise AssertionError(f"can-i {' '.join(args)}: {result.stdout}{result.stderr}")
        return answer == "yes"

    def review(self, verb: str, target: str, *flags: str, user: str,
               groups: tuple[str, ...]) -> bool:
        """The same question as a SubjectAccessReview (`kubectl create`, as the admin)."""
        resource, _, name = target.partition("/")
        resource, _, group = resource.partition(".")
        attributes = {"verb": verb, "resource": resource, "group": group or "",
                      "name": name}
        if resource == "*":
            attributes["group"] = "*"
        for i, flag in enumerate(flags):
            if flag == "-n":
                attributes["namespace"] = flags[i + 1]
            elif flag.startswith("--subresource="):
                attributes["subresource"] = flag.partition("=")[2]
        if user.startswith("system:serviceaccount:") and not groups:
            # What impersonating a ServiceAccount adds (and what its real tokens carry).
            groups = ("system:serviceaccounts",
                      f"system:serviceaccounts:{user.split(':')[2]}", "system:authenticated")
        review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
                  "spec": {"user": user, "groups": list(groups),
                           "resourceAttributes": attributes}}
        out = self.run("create", "-o", "json", "-f", "-", stdin=json.dumps(review)).stdout
        return bool(json.loads(out)["status"].get("allowed"))


@dataclasses.dataclass(frozen=True)
class Installed:
    objects: list[dict[str, Any]]
    dry_run: list[str]
    applied: list[str]


@pytest.fixture(scope="session")
def kubectl(kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    return Kubectl(kubeconfig, tmp_path_factory.mktemp("kubectl-cache"))


@pytest.fixture(scope="session")
def base() -> list[dict[str, Any]]:
    return render(DEPLOY)


@pytest.fixture(scope="session")
def installed(kubectl: Kubectl, crds: None, base: list[dict[str, Any]]) -> Installed:
    """deploy/ applied as an admin would: dry run, then for real.

    The Namespace goes first: a server-side dry run cannot create it, so objects inside it
    would be refused by the NamespaceLifecycle admission otherwise.
    """
    namespaces = [o for o in base if o["kind"] == "Namespace"]
    kubectl.apply(namespaces, dry_run=True)
    kubectl.apply(namespaces)
    dry_run = kubectl.apply(base, dry_run=True)
    applied = kubectl.apply(base)
    # RBAC reaches the authorizer through an informer: wait until the bindings are in effect.
    wait_for(lambda: kubectl.can_i("list", "sealedsecrets.sealops.dev", "--all-namespaces"),
             timeout=30, what="the controller's ClusterRoleBinding to take effect")
    wait_for(lambda: kubectl.can_i("get", "configmaps/sealops-public-keys", "-n",
                                   CONTROLLER_NS, user="someone",
                                   groups=("system:authenticated",)),
             timeout=30, what="the public-keys RoleBinding to take effect")
    return Installed(objects=base, dry_run=dry_run, applied=applied)

