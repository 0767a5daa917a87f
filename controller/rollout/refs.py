"""Which workloads opt in, and which Secrets they use. Pure.

The opt-in is the annotation `sealops.dev/restart-on` on the workload's own metadata:

    auto            every Secret the pod template references: env[].valueFrom.secretKeyRef,
                    envFrom[].secretRef, volumes[].secret, volumes[].projected.sources[].secret
                    (in containers, initContainers and ephemeralContainers)
    a, b, c         exactly these Secrets (of the workload's own namespace), referenced or not

The annotation is tenant input: names that are not DNS-1123 subdomains are ignored, and at most
`MAX_NAMES` are used. A workload only ever names Secrets of its own namespace (tenancy: there
is no `namespace/name` form).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sealer.kube import client

RESTART_ON = "sealops.dev/restart-on"
HASH_ANNOTATION = "sealops.dev/secret-hash"
AUTO = "auto"
MAX_NAMES = 64
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")

DEPLOYMENTS = client.Resource("apps", "v1", "Deployment", "deployments", True)
STATEFULSETS = client.Resource("apps", "v1", "StatefulSet", "statefulsets", True)
DAEMONSETS = client.Resource("apps", "v1", "DaemonSet", "daemonsets", True)
KINDS = {res.kind: res for res in (DEPLOYMENTS, STATEFULSETS, DAEMONSETS)}


@dataclass(frozen=True, order=True)
class WorkloadRef:
    namespace: str
    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"

    @property
    def resource(self) -> client.Resource:
        return KINDS[self.kind]


def ref_of(obj: Mapping[str, Any]) -> WorkloadRef | None:
    """The workload's reference, or None for anything that is not an apps/v1 workload."""
    if obj.get("apiVersion") != "apps/v1" or obj.get("kind") not in KINDS:
        return None
    meta = obj.get("metadata") or {}
    return WorkloadRef(str(meta.get("namespace") or ""), str(obj["kind"]), str(meta.get("name")))


def valid_name(name: str) -> bool:
    return 0 < len(name) <= 253 and bool(_NAME.match(name))


def wanted(obj: Mapping[str, Any]) -> frozenset[str] | None:
    """The Secrets whose change rolls this workload; None when it has not opted in."""
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    value = annotations.get(RESTART_ON)
    if not isinstance(value, str) or not value.strip():
        return None
    if value.strip() == AUTO:
        names: frozenset[str] = frozenset(referenced(obj))
    else:
        names = frozenset(n.strip() for n in value.split(",") if valid_name(n.strip()))
    return frozenset(sorted(names)[:MAX_NAMES])


def current_hash(obj: Mapping[str, Any]) -> str | None:
    value = _template_annotations(obj).get(HASH_ANNOTATION)
    return value if isinstance(value, str) else None


def _template_annotations(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    template = _mapping(_mapping(obj.get("spec")).get("template"))
    annotations = _mapping(template.get("metadata")).get("annotations")
    return annotations if isinstance(annotations, Mapping) else {}


def referenced(obj: Mapping[str, Any]) -> set[str]:
    """Every Secret name the pod template of a workload references (valid names only)."""
    pod = _mapping(_mapping(_mapping(obj.get("spec")).get("template")).get("spec"))
    return {name for name in _pod_refs(pod) if valid_name(name)}


def _pod_refs(pod: Mapping[str, Any]) -> Iterator[str]:
    for field in ("containers", "initContainers", "ephemeralContainers"):
        for container in _list(pod.get(field)):
            for env in _list(container.get("env")):
                yield _name(_mapping(_mapping(env.get("valueFrom")).get("secretKeyRef")), "name")
            for source in _list(container.get("envFrom")):
                yield _name(_mapping(source.get("secretRef")), "name")
    for volume in _list(pod.get("volumes")):
        yield _name(_mapping(volume.get("secret")), "secretName")
        for source in _list(_mapping(volume.get("projected")).get("sources")):
            yield _name(_mapping(source.get("secret")), "name")


def _name(obj: Mapping[str, Any], key: str) -> str:
    value = obj.get(key)
    return value if isinstance(value, str) else ""


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []
