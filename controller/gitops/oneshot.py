"""The one-shot side of GitOps (`sealops sync|diff|build`): sources, names and the inventory
ConfigMap. The pipeline itself is `pipeline.run`, the same one the controller runs.

Source: a local directory is rendered as it is (revision `dir:<absolute path>`); anything else
is a Git URL (https, ssh, loopback http, file://) fetched into a temporary cache that is removed
afterwards. Git credentials come from the environment, never from argv:
`SEALOPS_GIT_USERNAME`, `SEALOPS_GIT_PASSWORD` (or `SEALOPS_GIT_TOKEN`),
`SEALOPS_GIT_IDENTITY_FILE`, `SEALOPS_GIT_KNOWN_HOSTS_FILE`.

Inventory of a one-shot `sync`: the ConfigMap `sealops-inventory-<name>` in the target namespace,
key `entries` (the JSON inventory, as in a GitSync's status) and key `revision`; written with
server-side apply after a sync that changed it, read before the next one. Objects applied by
`sealops sync --name N --namespace NS` carry the label `sealops.dev/sync: NS.N`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from controller.apply import applier, inventory, plan
from controller.gitops import pipeline, reconciler
from controller.sources import credentials, git, urls
from sealer import errors
from sealer.kube import client

__all__ = ["CLUSTER_SCOPED", "configmap_name", "default_name", "load_inventory", "parse_ref",
           "save_inventory", "source", "static_scope"]

CLUSTER_SCOPED = frozenset({
    ("", "Namespace"), ("", "Node"), ("", "PersistentVolume"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"), ("storage.k8s.io", "StorageClass"),
    ("storage.k8s.io", "CSIDriver"), ("storage.k8s.io", "VolumeAttachment"),
    ("scheduling.k8s.io", "PriorityClass"), ("networking.k8s.io", "IngressClass"),
    ("node.k8s.io", "RuntimeClass"), ("apiregistration.k8s.io", "APIService"),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
    ("certificates.k8s.io", "CertificateSigningRequest"), ("policy", "PodSecurityPolicy"),
    ("kopf.dev", "ClusterKopfPeering"), ("sealops.dev", "ClusterVaultStore"),
})
_HEX = re.compile(r"^(?:[0-9a-fA-F]{40}|[0-9a-fA-F]{64})$")
_NOT_NAME = re.compile(r"[^a-z0-9-]+")
INVENTORY_KEY = "entries"


def parse_ref(text: str | None) -> git.Ref:
    """`main`, `refs/heads/main`, `tag:v1`, `refs/tags/v1`, `commit:<sha>` or a bare sha."""
    if text is None:
        return git.Ref(branch="main")
    for prefix, field in (("refs/heads/", "branch"), ("refs/tags/", "tag"), ("tag:", "tag"),
                          ("commit:", "commit"), ("branch:", "branch")):
        if text.startswith(prefix):
            return git.Ref(**{field: text[len(prefix):]})
    if _HEX.match(text):
        return git.Ref(commit=text)
    return git.Ref(branch=text)


def default_name(path_or_url: str) -> str:
    """A DNS label from the last component of the directory or repository."""
    tail = path_or_url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    tail = tail.removesuffix(".git").lower()
    name = _NOT_NAME.sub("-", tail).strip("-")[:40].strip("-")
    return name or "sync"


def configmap_name(name: str) -> str:
    return f"sealops-inventory-{name}"


@contextlib.contextmanager
def source(path_or_url: str, *, ref: str | None, timeout: float) -> Iterator[pipeline.Fetch]:
    """A `fetch()` for the pipeline; a Git cache lives until the block ends."""
    local = Path(path_or_url)
    if "://" not in path_or_url and local.is_dir():
        if ref is not None:
            raise errors.UsageError("--ref applies to Git URLs, not to a local directory")
        root = local.resolve()
        yield lambda: git.Checkout(revision=f"dir:{root}", root=root)
        return
    urls.check_url(path_or_url, allow_local=True)
    parsed = parse_ref(ref)
    creds = credentials_from_env(os.environ)
    with tempfile.TemporaryDirectory(prefix="sealops-sync-") as cache:
        def fetch() -> git.Checkout:
            checkout = git.fetch(path_or_url, parsed, cache_dir=Path(cache), creds=creds,
                                 timeout=timeout, allow_local=True)
            return git.Checkout(revision=reconciler.revision_name(parsed, checkout.revision),
                                root=checkout.root)
        yield fetch


def credentials_from_env(env: Mapping[str, str]) -> credentials.Credentials | None:
    password = env.get("SEALOPS_GIT_PASSWORD") or env.get("SEALOPS_GIT_TOKEN")
    identity = _read(env.get("SEALOPS_GIT_IDENTITY_FILE"))
    known_hosts = _read(env.get("SEALOPS_GIT_KNOWN_HOSTS_FILE"))
    if password is None and identity is None and known_hosts is None:
        return None
    return credentials.Credentials(username=env.get("SEALOPS_GIT_USERNAME"), password=password,
                                   ssh_private_key=identity, ssh_known_hosts=known_hosts)


def _read(path: str | None) -> bytes | None:
    if not path:
        return None
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise errors.UsageError(f"cannot read {path}: {exc.strerror}") from None


def static_scope(api_version: str, kind: str) -> bool:
    """Offline scope for `build`: known cluster-scoped kinds, everything else namespaced."""
    group = api_version.rpartition("/")[0]
    return (group, kind) not in CLUSTER_SCOPED


def load_inventory(kube: client.KubeClient, *, namespace: str, name: str) -> inventory.Inventory:
    found = kube.get(client.CONFIGMAPS, configmap_name(name), namespace=namespace)
    if found is None:
        return inventory.Inventory()
    raw = (found.get("data") or {}).get(INVENTORY_KEY, "[]")
    try:
        entries = json.loads(raw)
    except ValueError:
        raise errors.ManifestError(
            f"ConfigMap {namespace}/{configmap_name(name)}: unreadable inventory") from None
    return inventory.Inventory.from_status(entries)


def save_inventory(kube: client.KubeClient, outcome: pipeline.Outcome, *, namespace: str,
                   name: str, label: str) -> None:
    body: dict[str, Any] = {
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": configmap_name(name), "namespace": namespace,
                     "labels": {"app.kubernetes.io/managed-by": "sealops",
                                "sealops.dev/inventory-of": label}},
        "data": {INVENTORY_KEY: json.dumps(outcome.inventory.to_status()),
                 "revision": outcome.revision or ""},
    }
    kube.apply(client.CONFIGMAPS, body, field_manager=applier.FIELD_MANAGER, force=True)


def label_for(namespace: str, name: str) -> str:
    return plan.sync_label_value(namespace, name)
