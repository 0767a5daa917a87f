"""Fixtures for the GitOps tests: a git HTTP server with Basic auth, a repository to push to,
GitSync helpers and waits. The controller itself comes from `start_controller`."""

from __future__ import annotations

import base64
import contextlib
import datetime
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from controller.gitops import reconciler
from sealer.kube import client
from tests.gitserver import repos, server
from tests.harness.waiting import wait_for

USERNAME = "alice"
GITSYNCS = reconciler.GITSYNCS
EVENTS = client.EVENTS


def dump(*objects: dict[str, Any]) -> str:
    return yaml.safe_dump_all(list(objects), sort_keys=False)


def configmap(name: str, data: dict[str, str] | None = None, **meta: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, **meta},
            "data": data if data is not None else {"k": name}}


def deployment(name: str, *, secret: str | None = None) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "app", "image": "registry.invalid/app:1",
                                 "ports": [{"containerPort": 8080}]}
    if secret is not None:
        container["envFrom"] = [{"secretRef": {"name": secret}}]
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": 0, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [container]}}}}


@dataclass
class GitOpsEnv:
    kube: Any
    namespace: str
    server: server.GitHTTPServer
    work: repos.WorkTree
    password: str
    tmp: Path

    @property
    def url(self) -> str:
        return self.server.url("app.git")

    def push(self, files: dict[str, str], *, remove: tuple[str, ...] = ()) -> str:
        for rel in remove:
            self.work.remove(rel)
        self.work.write(files)
        sha = self.work.commit()
        self.work.push()
        return sha

    def credentials_secret(self, name: str = "git-creds", *, password: str | None = None) -> str:
        data = {"username": USERNAME, "password": password or self.password}
        self.kube.create(client.SECRETS, {
            "metadata": {"name": name, "namespace": self.namespace},
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}},
            namespace=self.namespace)
        return name

    def create_gitsync(self, name: str = "app", *, namespace: str | None = None,
                       **spec: Any) -> dict[str, Any]:
        ns = namespace or self.namespace
        body = {"apiVersion": "sealops.dev/v1alpha1", "kind": "GitSync",
                "metadata": {"name": name, "namespace": ns},
                "spec": {"url": self.url, "secretRef": {"name": "git-creds"}, **spec}}
        created: dict[str, Any] = self.kube.create(GITSYNCS, body, namespace=ns)
        return created

    def gitsync(self, name: str = "app") -> dict[str, Any]:
        found: dict[str, Any] = self.kube.get(GITSYNCS, name, namespace=self.namespace)
        return found

    def request_reconcile(self, name: str = "app") -> str:
        stamp = datetime.datetime.now(datetime.UTC).isoformat() + secrets.token_hex(2)
        self.kube.patch(GITSYNCS, name, {"metadata": {"annotations": {
            reconciler.REQUESTED_AT: stamp}}}, namespace=self.namespace)
        return stamp

    def wait_handled(self, stamp: str, name: str = "app", timeout: float = 60) -> dict[str, Any]:
        def handled() -> dict[str, Any] | None:
            obj = self.gitsync(name)
            status = obj.get("status") or {}
            return obj if status.get("lastHandledReconcileAt") == stamp else None
        result: dict[str, Any] = wait_for(handled, timeout=timeout, what=f"request {stamp}")
        return result

    def wait_ready(self, sha: str | None = None, name: str = "app",
                   timeout: float = 90) -> dict[str, Any]:
        def ready() -> dict[str, Any] | None:
            obj = self.gitsync(name)
            cond = ready_of(obj)
            if cond is None or cond["status"] != "True":
                return None
            applied = (obj.get("status") or {}).get("lastAppliedRevision", "")
            return obj if sha is None or applied.endswith(sha) else None
        result: dict[str, Any] = wait_for(ready, timeout=timeout, what=f"GitSync {name} ready")
        return result

    def wait_reason(self, reason: str, name: str = "app", timeout: float = 90,
                    revision: str | None = None) -> dict[str, Any]:
        def failed() -> dict[str, Any] | None:
            obj = self.gitsync(name)
            cond = ready_of(obj)
            attempted = (obj.get("status") or {}).get("lastAttemptedRevision", "")
            if cond is None or cond["reason"] != reason:
                return None
            return obj if revision is None or attempted.endswith(revision) else None
        result: dict[str, Any] = wait_for(failed, timeout=timeout, what=f"reason {reason}")
        return result

    def get_resource(self) -> client.Resource:
        return GITSYNCS

    def get(self, res: client.Resource, name: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self.kube.get(res, name, namespace=self.namespace)
        return found

    def events(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.kube.list(EVENTS, namespace=self.namespace)
        return items


class AddedRecorder:
    """Watches kinds in a namespace and records the resourceVersion each object had when it
    was created (its ADDED event); etcd revisions are global, so they order creations."""

    def __init__(self, kube: Any, namespace: str, resources: list[client.Resource]) -> None:
        self.added: dict[tuple[str, str], int] = {}
        self._threads = [threading.Thread(target=self._watch, args=(kube, namespace, res),
                                          daemon=True) for res in resources]
        for thread in self._threads:
            thread.start()

    def _watch(self, kube: Any, namespace: str, res: client.Resource) -> None:
        with contextlib.suppress(Exception):  # the stream ends when the test is torn down
            self._stream(kube, namespace, res)

    def _stream(self, kube: Any, namespace: str, res: client.Resource) -> None:
        listed = kube.request("GET", res.path(namespace=namespace))
        query = {"watch": "1", "timeoutSeconds": "120",
                 "resourceVersion": listed["metadata"]["resourceVersion"]}
        for event in kube.stream_lines(res.path(namespace=namespace), query=query, timeout=130):
            meta = event["object"]["metadata"]
            if event["type"] == "ADDED":
                self.added[(res.kind, meta["name"])] = int(meta["resourceVersion"])


def ready_of(obj: dict[str, Any] | None) -> dict[str, Any] | None:
    for cond in ((obj or {}).get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready" and \
                cond.get("observedGeneration") == obj["metadata"]["generation"]:  # type: ignore[index]
            return dict(cond)
    return None


@pytest.fixture
def gitops(kube: Any, namespace: str, tmp_path: Path) -> Iterator[GitOpsEnv]:
    served = tmp_path / "served"
    served.mkdir()
    password = f"canary-git-{secrets.token_hex(8)}"
    with server.GitHTTPServer(served, username=USERNAME, password=password) as srv:
        bare = repos.create_bare(served, "app.git")
        work = repos.WorkTree(tmp_path / "work", bare)
        yield GitOpsEnv(kube=kube, namespace=namespace, server=srv, work=work,
                        password=password, tmp=tmp_path)


CM = client.CONFIGMAPS
SECRETS = client.SECRETS
DEPLOYMENTS = client.Resource("apps", "v1", "Deployment", "deployments", True)
SERVICES = client.Resource("", "v1", "Service", "services", True)
