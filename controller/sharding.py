"""Sharding (issue 14 item 5; Flux's `sharding.fluxcd.io/key` model).

A controller started with `--shard NAME` reconciles only objects labelled
`sharding.sealops.dev/key: NAME`; one started without `--shard` reconciles only objects that
carry no such label, so every object has exactly one owner, and labelling an object moves it
to a shard. The filter applies to every kind the controller watches (SealedSecrets, VaultSecrets,
VaultStores, ClusterVaultStores, GitSyncs, Receivers, Alerts) as a kopf label filter; Secrets a
controller writes follow their owner.

Peering: replicas of one shard pause each other through their KopfPeering; replicas of
different shards must not, so each shard peers under its own name (`peering_name`).
Key generations are created and renewed only by the unsharded controller; a shard controller
loads them (and creates the first one only when there is none at all).
"""

from __future__ import annotations

import re

__all__ = ["SHARD_LABEL", "check_name", "label_selector", "owns", "peering_name"]

SHARD_LABEL = "sharding.sealops.dev/key"
_LABEL_VALUE = re.compile(r"^[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
MAX_PEERING_SUFFIX = 40


def check_name(shard: str) -> str:
    """`shard` when it is a valid label value short enough for a peering name; ValueError."""
    if not _LABEL_VALUE.match(shard) or len(shard) > MAX_PEERING_SUFFIX:
        raise ValueError(f"a shard name is a label value of at most {MAX_PEERING_SUFFIX} "
                         "characters (letters, digits, '-', '_', '.')")
    return shard


def owns(labels: object, shard: str | None) -> bool:
    """Is an object with these `metadata.labels` this controller's? (An object relabelled
    into another shard is dropped by the schedulers, which kopf's filter alone cannot do.)"""
    value = labels.get(SHARD_LABEL) if isinstance(labels, dict) else None
    return value == shard if shard else value is None


def label_selector(shard: str | None) -> str:
    """The Kubernetes label selector of the objects this controller owns."""
    return f"{SHARD_LABEL}={shard}" if shard else f"!{SHARD_LABEL}"


def peering_name(base: str, shard: str | None) -> str:
    """The KopfPeering of a shard: `<base>-shard-<name>` (lower-cased), `base` unsharded."""
    return f"{base}-shard-{shard.lower().replace('_', '-').replace('.', '-')}" if shard else base
