"""What a `/v1/verify` or `/v1/rotate` request may ask for, and what it costs.

Owns the checks that run before any key is touched, so a bad request gets one clear 4xx and a
heavy one is refused before it burns CPU:

- `check_sealed`: the body is a SealedSecret whose name is a DNS-1123 subdomain (<= 253), whose
  namespace is a DNS-1123 label (<= 63, never empty) and whose item keys are Secret data keys;
- `work_of`: the work a request will do, in *openings* (one item tried with one key; a v1 item
  carries no key id, so it costs one opening per key of the keyring, and rotate may try three
  scopes and then encrypts once more), plus one per `BYTES_PER_OPENING` of ciphertext;
- `body_work`: the body's size in openings, charged before it is parsed (parsing 2 MiB of
  YAML is work too), without the one-request floor;
- `RateLimiter`: a token bucket of *requests*: a request costs `work / OPENINGS_PER_REQUEST`
  tokens, at least one, so `--rate-limit N` still means N ordinary requests per minute but one
  request with 2,900 items costs what 2,900 / 32 requests cost, and one that costs more than the
  whole bucket is refused outright (413) instead of being queued forever.

Called by `controller.http.endpoints` (thread-safe: the endpoints run on a worker pool).
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from sealer import errors
from sealer.manifests import secrets

__all__ = ["BYTES_PER_OPENING", "OPENINGS_PER_REQUEST", "Charge", "RateLimiter", "body_work",
           "check_sealed", "work_of"]

OPENINGS_PER_REQUEST = 32
BYTES_PER_OPENING = 64 << 10
ROTATE_SCOPES = 3  # strict, namespace-wide, cluster-wide: rotate proves the bound one
_V2_PREFIX = "U08C"  # base64 of b"SO\x02", the v2 envelope header (sealer.crypto.envelope)


def check_sealed(obj: Mapping[str, Any]) -> tuple[str, str]:
    """(namespace, name) of a well-formed SealedSecret; `ManifestError` naming what is wrong."""
    if obj.get("kind") != "SealedSecret":
        raise errors.ManifestError("the request body must be a SealedSecret")
    meta = obj.get("metadata")
    if not isinstance(meta, Mapping):
        raise errors.ManifestError("the SealedSecret has no metadata")
    name = secrets.validate_name(meta.get("name"), what="metadata.name")
    namespace = meta.get("namespace")
    if namespace is None or namespace == "":
        raise errors.InvalidNameError("metadata.namespace is missing or empty")
    namespace = secrets.validate_namespace(namespace)
    spec = obj.get("spec")
    encrypted = spec.get("encryptedData") if isinstance(spec, Mapping) else None
    if not isinstance(encrypted, Mapping) or not encrypted:
        raise errors.ManifestError("spec.encryptedData must be a non-empty mapping")
    ref = f"SealedSecret {namespace}/{name}"
    for key, value in encrypted.items():
        secrets.validate_item_key(key, obj=ref)
        if not isinstance(value, str):
            raise errors.ManifestError(f"{ref}: item {key} is not a string")
    return namespace, name


def work_of(obj: Mapping[str, Any], *, keys: int, rotate: bool) -> int:
    """Openings a request needs at most (see the module docstring); `check_sealed` first."""
    encrypted: Mapping[str, str] = obj["spec"]["encryptedData"]
    scopes = ROTATE_SCOPES if rotate else 1
    work = 0
    for value in encrypted.values():
        tries = 1 if value.startswith(_V2_PREFIX) else max(1, keys)
        work += tries * scopes + (1 if rotate else 0) + len(value) // BYTES_PER_OPENING
    return work


def body_work(size: int) -> int:
    """Openings that parsing a body of `size` bytes is worth (charged before parsing)."""
    return size // BYTES_PER_OPENING


@dataclasses.dataclass(frozen=True)
class Charge:
    """The answer of `RateLimiter.charge`: allowed, or refused with when to come back."""

    allowed: bool
    cost: float
    too_big: bool = False  # more than the whole bucket: it can never be allowed
    retry_after_s: int = 0


class RateLimiter:
    """A token bucket shared by the expensive endpoints; costs are counted in requests."""

    def __init__(self, *, per_minute: int, now: Callable[[], float] = time.monotonic) -> None:
        self._rate = per_minute / 60.0
        self._capacity = float(max(per_minute, 1))
        self._tokens = self._capacity
        self._now = now
        self._last = now()
        self._lock = threading.Lock()

    @property
    def capacity(self) -> float:
        return self._capacity

    def cost_of(self, work: int, *, floor: float = 1.0) -> float:
        return max(floor, work / OPENINGS_PER_REQUEST)

    def allow(self) -> bool:
        """Take one request's worth of tokens (kept for callers that count requests)."""
        return self.charge(work=0).allowed

    def charge(self, *, work: int, floor: float = 1.0) -> Charge:
        """Take the tokens `work` openings cost (at least `floor`), or refuse taking none."""
        cost = self.cost_of(work, floor=floor)
        if cost > self._capacity:
            return Charge(allowed=False, cost=cost, too_big=True)
        with self._lock:
            current = self._now()
            self._tokens = min(self._capacity,
                               self._tokens + (current - self._last) * self._rate)
            self._last = current
            if self._tokens >= cost:
                self._tokens -= cost
                return Charge(allowed=True, cost=cost)
            missing = cost - self._tokens
        return Charge(allowed=False, cost=cost,
                      retry_after_s=max(1, math.ceil(missing / self._rate)))
