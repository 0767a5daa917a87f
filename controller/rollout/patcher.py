"""One workload: read it, hash the Secrets it uses, and stamp its pod template when that changed.

    GET the workload -> gone, or no longer opted in, or none of the changed Secrets among those
    it uses -> nothing
    GET each Secret it uses (same namespace only) -> `digest.secret_hash`
    equal to the stamp on its pod template -> nothing (no rollout when nothing changed)
    else server-side apply of exactly `spec.template.metadata.annotations[secret-hash]`
    under the field manager `sealops-rollout` (force: that one field is ours)

Owning one field with a manager of its own is what keeps everyone else's writes apart: the
GitSync's apply (manager `sealops`) and a user's `kubectl apply` neither remove the stamp nor
conflict with it (client-side apply only deletes what its last-applied configuration listed;
server-side apply only what its own manager owned). Called by `controller.rollout.service`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from controller.rollout import digest, refs
from sealer.kube import client

FIELD_MANAGER = "sealops-rollout"
ROLLED, UNCHANGED, SKIPPED = "rolled", "unchanged", "skipped"


@dataclass(frozen=True)
class Result:
    """What `ensure` did; `workload` is the live object (for the Event), when there is one."""

    action: str
    workload: dict[str, Any] | None = None
    secrets: tuple[str, ...] = ()  # the changed Secrets this workload uses


def read_secrets(kube: client.KubeClient, *, namespace: str,
                 names: Collection[str]) -> dict[str, digest.SecretData]:
    """The data of each named Secret of `namespace` (None for a missing one), for hashing only."""
    found: dict[str, digest.SecretData] = {}
    for name in sorted(names):
        secret = kube.get(client.SECRETS, name, namespace=namespace)
        found[name] = None if secret is None else _decoded(secret.get("data") or {})
    return found


def _decoded(data: Mapping[str, Any]) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for key, value in data.items():
        raw = str(value).encode("ascii", "replace")
        try:
            out[str(key)] = base64.b64decode(raw, validate=True)
        except binascii.Error:
            out[str(key)] = raw
    return out


def hash_for(kube: client.KubeClient, *, namespace: str, names: Collection[str],
             key: bytes) -> str:
    return digest.secret_hash(read_secrets(kube, namespace=namespace, names=names), key=key)


def stamp_patch(ref: refs.WorkloadRef, value: str) -> dict[str, Any]:
    """The apply configuration that owns the stamp and nothing else."""
    return {"apiVersion": "apps/v1", "kind": ref.kind,
            "metadata": {"name": ref.name, "namespace": ref.namespace},
            "spec": {"template": {"metadata": {"annotations": {refs.HASH_ANNOTATION: value}}}}}


def ensure(kube: client.KubeClient, ref: refs.WorkloadRef, *, changed: Collection[str],
           key: bytes) -> Result:
    """Bring the stamp of one workload up to date after `changed` Secrets changed."""
    live = kube.get(ref.resource, ref.name, namespace=ref.namespace)
    wanted = None if live is None or live["metadata"].get("deletionTimestamp") else \
        refs.wanted(live)
    if live is None or wanted is None:
        return Result(SKIPPED)
    used = tuple(sorted(wanted & set(changed)))
    if not used:
        return Result(SKIPPED, live)
    value = hash_for(kube, namespace=ref.namespace, names=wanted, key=key)
    if value == refs.current_hash(live):
        return Result(UNCHANGED, live, used)
    applied = kube.apply(ref.resource, stamp_patch(ref, value), field_manager=FIELD_MANAGER,
                         force=True)
    return Result(ROLLED, applied, used)
