"""A Receiver's spec, parsed and checked, and its webhook path.

    type        github | gitlab | generic-hmac (`auth`)
    events      the events that trigger (default per type, see `auth`)
    resources   [{kind: GitSync, name, namespace?}]: only GitSyncs in the Receiver's own
                namespace (a Receiver elsewhere would let whoever holds its token make the
                controller reconcile another tenant's objects at will)
    secretRef   a Secret in the Receiver's namespace whose key `token` is the shared secret

The path is Flux's: `/hook/` + hex sha256 of token + name + namespace, so it changes with the
token and tells nothing about it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from controller.receivers import auth
from sealer import errors

__all__ = ["PATH_PREFIX", "ReceiverSpec", "parse", "webhook_path"]

PATH_PREFIX = "/hook/"
MAX_RESOURCES = 64
MAX_EVENTS = 32
_NAME = re.compile(r"^[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?$")
_EVENT = re.compile(r"^[\x20-\x7e]{1,64}$")


@dataclass(frozen=True)
class ReceiverSpec:
    type: str
    secret_ref: str
    resources: tuple[str, ...]  # GitSync names in the Receiver's namespace
    events: tuple[str, ...] = ()


def webhook_path(token: bytes, *, name: str, namespace: str) -> str:
    digest = hashlib.sha256(token + name.encode() + namespace.encode()).hexdigest()
    return PATH_PREFIX + digest


def parse(spec: Any, *, namespace: str) -> ReceiverSpec:
    """The checked spec; `ManifestError` naming the field, `PolicyError` for a resource in
    another namespace or of another kind."""
    if not isinstance(spec, Mapping):
        raise errors.ManifestError("spec must be a mapping")
    kind = spec.get("type")
    if kind not in auth.TYPES:
        raise errors.ManifestError(f"spec.type must be one of {', '.join(auth.TYPES)}")
    ref = spec.get("secretRef")
    secret = ref.get("name") if isinstance(ref, Mapping) else None
    if not isinstance(secret, str) or not _NAME.match(secret):
        raise errors.ManifestError("spec.secretRef.name must be a valid Secret name")
    return ReceiverSpec(type=str(kind), secret_ref=secret,
                        resources=_resources(spec.get("resources"), namespace=namespace),
                        events=_events(spec.get("events")))


def _resources(value: Any, *, namespace: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or len(value) > MAX_RESOURCES:
        raise errors.ManifestError(f"spec.resources must list 1 to {MAX_RESOURCES} GitSyncs")
    names = []
    for i, item in enumerate(value):
        where = f"spec.resources[{i}]"
        if not isinstance(item, Mapping):
            raise errors.ManifestError(f"{where} must be a mapping")
        if item.get("kind") != "GitSync":
            raise errors.PolicyError(f"{where}.kind: only GitSync can be triggered")
        name = item.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            raise errors.ManifestError(f"{where}.name is missing or invalid")
        if item.get("namespace") not in (None, "", namespace):
            raise errors.PolicyError(f"{where} names another namespace; a Receiver may only "
                                     "trigger GitSyncs in its own namespace")
        names.append(name)
    return tuple(dict.fromkeys(names))


def _events(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > MAX_EVENTS or not all(
            isinstance(e, str) and _EVENT.match(e) for e in value):
        raise errors.ManifestError(f"spec.events must be a list of at most {MAX_EVENTS} names")
    return tuple(value)
