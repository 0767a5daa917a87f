"""An Alert's spec, parsed and checked, and where it may send.

    type            generic | slack (a Slack-compatible incoming webhook: `{"text": ...}`)
    secretRef       a Secret in the Alert's namespace; key `address` is the webhook URL (a
                    Slack webhook URL is itself a credential, so it never sits in the spec)
    eventSources    [{kind, name}]: objects of the Alert's own namespace; `name: "*"` for all
                    of a kind (GitSync, Receiver, SealedSecret, VaultSecret)
    eventSeverity   info (everything, the default) | error (failures only)
    suspend         send nothing

Address policy: `https://`, or `http://` only to loopback (127.0.0.0/8, ::1, localhost); no
credentials in the URL's userinfo. The controller never follows a redirect.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from controller.loopback import is_loopback
from sealer import errors

__all__ = ["GENERIC", "KINDS", "SLACK", "AlertSpec", "Source", "check_address", "parse"]

GENERIC, SLACK = "generic", "slack"
KINDS = ("GitSync", "Receiver", "SealedSecret", "VaultSecret")
MAX_SOURCES = 64
_NAME = re.compile(r"^(?:\*|[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?)$")


@dataclass(frozen=True)
class Source:
    kind: str
    name: str  # "*": every object of the kind

    def matches(self, kind: str, name: str) -> bool:
        return self.kind == kind and self.name in ("*", name)


@dataclass(frozen=True)
class AlertSpec:
    type: str
    secret_ref: str
    sources: tuple[Source, ...]
    errors_only: bool = False
    suspend: bool = False


def parse(spec: Any) -> AlertSpec:
    if not isinstance(spec, Mapping):
        raise errors.ManifestError("spec must be a mapping")
    kind = spec.get("type")
    if kind not in (GENERIC, SLACK):
        raise errors.ManifestError("spec.type must be generic or slack")
    ref = spec.get("secretRef")
    secret = ref.get("name") if isinstance(ref, Mapping) else None
    if not isinstance(secret, str) or not _NAME.match(secret) or "*" in secret:
        raise errors.ManifestError("spec.secretRef.name must be a valid Secret name")
    severity = spec.get("eventSeverity", "info")
    if severity not in ("info", "error"):
        raise errors.ManifestError("spec.eventSeverity must be info or error")
    suspend = spec.get("suspend", False)
    if not isinstance(suspend, bool):
        raise errors.ManifestError("spec.suspend must be true or false")
    return AlertSpec(type=str(kind), secret_ref=secret, sources=_sources(spec.get("eventSources")),
                     errors_only=severity == "error", suspend=suspend)


def _sources(value: Any) -> tuple[Source, ...]:
    if not isinstance(value, list) or not value or len(value) > MAX_SOURCES:
        raise errors.ManifestError(f"spec.eventSources must list 1 to {MAX_SOURCES} sources")
    found = []
    for i, item in enumerate(value):
        where = f"spec.eventSources[{i}]"
        if not isinstance(item, Mapping) or item.get("kind") not in KINDS:
            raise errors.ManifestError(f"{where}.kind must be one of {', '.join(KINDS)}")
        name = item.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            raise errors.ManifestError(f"{where}.name is missing or invalid")
        if item.get("namespace") not in (None, ""):
            raise errors.PolicyError(f"{where}: an Alert only watches its own namespace")
        found.append(Source(kind=str(item["kind"]), name=name))
    return tuple(dict.fromkeys(found))


def check_address(address: str) -> str:
    """The address when the policy allows it; `PolicyError` naming why (never the URL: a
    Slack webhook URL is a credential)."""
    parts = urllib.parse.urlsplit(address.strip())
    host = (parts.hostname or "").lower()
    if parts.username or parts.password:
        raise errors.PolicyError("the address must not carry credentials")
    if parts.scheme == "https" and host:
        return address.strip()
    if parts.scheme == "http" and is_loopback(host):
        return address.strip()
    raise errors.PolicyError("the address must be https:// (http:// only to loopback)")

