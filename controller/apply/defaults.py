"""Defaults the API server should fill but server-side apply needs up front (pure).

Kubernetes < 1.22 rejects an apply whose Service port or container port omits `protocol`
("associative list with keys has an element that omits key field protocol"), because
`protocol` is part of those lists' merge keys. Like Flux's `ssa.SetNativeKindsDefaults`, the
applier sets `protocol: TCP` where it is missing (the value the API server would default),
on a copy, before drift checks and applies. Nothing else is changed.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from controller.apply import ordering

__all__ = ["with_defaults"]

_POD_TEMPLATE_PATHS: dict[tuple[str, str], tuple[tuple[str, ...], ...]] = {
    ("", "Pod"): (("spec",),),
    ("", "ReplicationController"): (("spec", "template", "spec"),),
    ("apps", "Deployment"): (("spec", "template", "spec"),),
    ("apps", "StatefulSet"): (("spec", "template", "spec"),),
    ("apps", "DaemonSet"): (("spec", "template", "spec"),),
    ("apps", "ReplicaSet"): (("spec", "template", "spec"),),
    ("batch", "Job"): (("spec", "template", "spec"),),
    ("batch", "CronJob"): (("spec", "jobTemplate", "spec", "template", "spec"),),
}
_CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")


def with_defaults(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `obj` with missing port protocols set to TCP (the object itself if none)."""
    key = (ordering.group_of(str(obj.get("apiVersion", ""))), str(obj.get("kind", "")))
    if key == ("", "Service"):
        ports = [_at(obj, ("spec",)).get("ports")]
    elif key in _POD_TEMPLATE_PATHS:
        ports = [container.get("ports") for path in _POD_TEMPLATE_PATHS[key]
                 for container in _containers(_at(obj, path))]
    else:
        return dict(obj)
    if not any(_missing_protocol(p) for p in ports):
        return dict(obj)
    result = copy.deepcopy(dict(obj))
    _fill(result, key)
    return result


def _fill(obj: dict[str, Any], key: tuple[str, str]) -> None:
    if key == ("", "Service"):
        _set_tcp(_at(obj, ("spec",)).get("ports"))
        return
    for path in _POD_TEMPLATE_PATHS[key]:
        for container in _containers(_at(obj, path)):
            _set_tcp(container.get("ports"))


def _at(obj: Mapping[str, Any], path: tuple[str, ...]) -> Mapping[str, Any]:
    node: Any = obj
    for step in path:
        node = node.get(step) if isinstance(node, Mapping) else None
    return node if isinstance(node, Mapping) else {}


def _containers(pod_spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for field in _CONTAINER_LISTS:
        items = pod_spec.get(field)
        if isinstance(items, list):
            found.extend(item for item in items if isinstance(item, dict))
    return found


def _missing_protocol(ports: Any) -> bool:
    return isinstance(ports, list) and any(
        isinstance(port, dict) and "protocol" not in port for port in ports)


def _set_tcp(ports: Any) -> None:
    if isinstance(ports, list):
        for port in ports:
            if isinstance(port, dict):
                port.setdefault("protocol", "TCP")
