"""An opt-in policy refusing privileged Pods in a render (the controller's
`--refuse-privileged-pods`, applied to tenant GitSyncs; off by default).

`check(obj)` raises `PolicyError` naming the object and the field when the Pod template of a
workload asks for host access:

- a `hostPath` volume;
- `hostNetwork`, `hostPID` or `hostIPC`;
- a container (init and ephemeral ones too) with `securityContext.privileged: true`, or
  `allowPrivilegeEscalation: true`, or added capabilities beyond Kubernetes' "baseline" Pod
  Security Standard list.

Pod templates are found in Pod (`spec`), PodTemplate (`template.spec`), Deployment,
ReplicaSet, StatefulSet, DaemonSet, Job, ReplicationController (`spec.template.spec`) and
CronJob (`spec.jobTemplate.spec.template.spec`). This is a guard against the obvious cases
only; an admission policy (Pod Security Admission `restricted`) is the complete answer, and the
API server's own checks still apply to the impersonated account.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sealer import errors

__all__ = ["check"]

_TEMPLATE_PATHS: dict[tuple[str, str], tuple[str, ...]] = {
    ("", "Pod"): ("spec",),
    ("", "PodTemplate"): ("template", "spec"),
    ("", "ReplicationController"): ("spec", "template", "spec"),
    ("apps", "Deployment"): ("spec", "template", "spec"),
    ("apps", "ReplicaSet"): ("spec", "template", "spec"),
    ("apps", "StatefulSet"): ("spec", "template", "spec"),
    ("apps", "DaemonSet"): ("spec", "template", "spec"),
    ("batch", "Job"): ("spec", "template", "spec"),
    ("batch", "CronJob"): ("spec", "jobTemplate", "spec", "template", "spec"),
}
# Pod Security Standards "baseline": capabilities that may be added.
_BASELINE_CAPABILITIES = frozenset({
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
    "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
})
_HOST_NAMESPACES = ("hostNetwork", "hostPID", "hostIPC")
_CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


def check(obj: Mapping[str, Any], *, what: str) -> None:
    """Refuse `obj` (described as `what` in the error) if its Pod template is privileged."""
    api_version = str(obj.get("apiVersion", ""))
    path = _TEMPLATE_PATHS.get((api_version.rpartition("/")[0], str(obj.get("kind"))))
    if path is None:
        return
    spec: Any = obj
    for key in path:
        spec = spec.get(key) if isinstance(spec, Mapping) else None
    if not isinstance(spec, Mapping):
        return
    where = ".".join(path)
    for key in _HOST_NAMESPACES:
        if spec.get(key) is True:
            _refuse(what, f"{where}.{key}")
    for volume in _items(spec.get("volumes")):
        if "hostPath" in volume:
            _refuse(what, f"{where}.volumes[{str(volume.get('name'))[:63]}].hostPath")
    for field in _CONTAINER_LISTS:
        for container in _items(spec.get(field)):
            _check_container(container, what=what,
                             where=f"{where}.{field}[{str(container.get('name'))[:63]}]")


def _check_container(container: Mapping[str, Any], *, what: str, where: str) -> None:
    context = container.get("securityContext")
    if not isinstance(context, Mapping):
        return
    for key in ("privileged", "allowPrivilegeEscalation"):
        if context.get(key) is True:
            _refuse(what, f"{where}.securityContext.{key}")
    capabilities = context.get("capabilities")
    added = capabilities.get("add") if isinstance(capabilities, Mapping) else None
    for capability in added if isinstance(added, list) else []:
        name = str(capability).upper().removeprefix("CAP_")
        if name not in _BASELINE_CAPABILITIES:
            _refuse(what, f"{where}.securityContext.capabilities.add {name[:40]}")


def _items(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] \
        if isinstance(value, list) else []


def _refuse(what: str, field: str) -> None:
    raise errors.PolicyError(
        f"{what}: {field} is refused for this GitSync (privileged Pods are not allowed: "
        "the controller runs with --refuse-privileged-pods)")
