"""The GitSync side of rolling: the hash goes into planned workloads before they are applied.

`controller.gitops.pipeline` materializes Secrets first (stage 1, waited for), then calls
`Rollout.stamp` on the stage-2 workloads while it holds a `Rollout.claim` on them. A planned,
opted-in workload gets `sealops.dev/secret-hash` in its pod template, computed from the Secrets
as they are now, when

    it does not exist yet             (created with the stamp: no second ReplicaSet later)
    it already carries a stamp        (kept current: unchanged data gives the same value)
    one of its Secrets changed during this sync (seen through the claim)

and is otherwise left alone, so opting in alone never rolls anything. The Secrets and the live
workload are read through the sync's own client (a GitSync's ServiceAccount), never the
controller's: the sync learns nothing about a Secret its identity may not read (a 403 fails the
sync's apply stage, naming the workload and the Secret). The value equals what the patch path
(`patcher`, manager `sealops-rollout`) computes, so the two managers agree on the field and
never fight: at most one of them changes it per change of data.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol

from controller.rollout import patcher, refs
from sealer.kube import client


class Touched(Protocol):
    def touched(self, ref: refs.WorkloadRef) -> bool: ...


def opted_in(workloads: Sequence[Mapping[str, Any]]) -> Iterator[refs.WorkloadRef]:
    for obj in workloads:
        ref = refs.ref_of(obj)
        if ref is not None and refs.wanted(obj) is not None:
            yield ref


def stamp(workloads: Sequence[dict[str, Any]], *, kube: client.KubeClient, key: bytes,
          claim: Touched) -> None:
    for obj in workloads:
        ref, wanted = refs.ref_of(obj), refs.wanted(obj)
        if ref is None or wanted is None:
            continue
        live = kube.get(ref.resource, ref.name, namespace=ref.namespace)
        if live is not None and refs.current_hash(live) is None and not claim.touched(ref):
            continue
        value = patcher.hash_for(kube, namespace=ref.namespace, names=wanted, key=key)
        template = obj.setdefault("spec", {}).setdefault("template", {})
        meta = template.setdefault("metadata", {})
        annotations = meta.get("annotations")
        if not isinstance(annotations, dict):
            annotations = meta["annotations"] = {}
        annotations[refs.HASH_ANNOTATION] = value
