"""The request logic of the controller's HTTP endpoints, apart from the HTTP plumbing.

    GET  /healthz          200 once the key registry is loaded and every watched loop is alive;
                           503 naming what is not (see `controller.http.health`)
    GET  /metrics          Prometheus text (`controller.metrics`)
    GET  /v1/cert.pem      the newest RSA certificate (what `kubeseal --fetch-cert` reads)
    GET  /v1/public.pem    the newest generation's public PEM (certificate + v2 public keys)
    POST /v1/verify        a SealedSecret: 200 if every item opens, 409 if not (rate-limited)
    POST /v1/rotate        a SealedSecret re-sealed under the newest generation (rate-limited)

Neither verify nor rotate ever renders a template or returns plaintext; rotate keeps the scope
bound in the old ciphertext, never the one claimed by annotations. Every bad request gets one
4xx with a message naming the field, never a value: 400 malformed (names checked by
`limits.check_sealed`), 413 more work than the rate limit allows per request or a rotated
object larger than its bound, 429 rate-limited (with Retry-After), 409 not openable (one body
for every cause). 503 while no key generation is loaded. Each request reads the keyring once,
so a reload in the middle of a request never mixes two keyrings.

Synchronous and thread-safe: `controller.http.server` runs `post` on a bounded worker pool,
and `seal`'s tests call it in-process.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import serialization

from controller import metrics as metrics_mod
from controller.http import health as health_mod
from controller.http import limits
from controller.keys import registry as registry_mod
from controller.unseal import desired
from sealer import errors
from sealer.crypto import keyring, keys
from sealer.manifests import safeyaml, seal

__all__ = ["KNOWN_PATHS", "MAX_BODY", "POST_PATHS", "Answer", "Endpoints"]

logger = logging.getLogger(__name__)

MAX_BODY = 2 << 20
POST_PATHS = frozenset({"/v1/verify", "/v1/rotate"})
KNOWN_PATHS = frozenset({"/healthz", "/metrics", "/v1/cert.pem", "/v1/public.pem"}) | POST_PATHS
# A v2 PQ envelope is 1,148 bytes plus the value; re-sealing a v1 or X25519 value grows its
# base64 text by less than this. Everything else in a rotated object is a copy of the input.
ROTATE_GROWTH_PER_ITEM = 2048
ROTATE_SLACK = 4096
DROPPED_ON_ROTATE = ("status",)
DROPPED_METADATA_ON_ROTATE = ("managedFields", "resourceVersion", "uid", "generation",
                              "creationTimestamp")
FAILURE = b"the SealedSecret cannot be opened by this controller\n"
TEXT = "text/plain"


@dataclasses.dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes
    headers: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def triple(self) -> tuple[int, str, bytes]:
        return self.status, self.content_type, self.body


def _text(status: int, message: str, **headers: str) -> Answer:
    return Answer(status, TEXT, f"{message}\n".encode(), headers)


class Endpoints:
    """GET and POST answers; `health` (optional) adds loop liveness to `/healthz`."""

    def __init__(self, registry: registry_mod.KeyRegistry, metrics: metrics_mod.Metrics, *,
                 limiter: limits.RateLimiter, health: health_mod.Health | None = None) -> None:
        self.registry = registry
        self.metrics = metrics
        self.limiter = limiter
        self.health = health

    def get(self, path: str) -> tuple[int, str, bytes]:
        return self.answer_get(path).triple()

    def post(self, path: str, body: bytes) -> tuple[int, str, bytes]:
        return self.answer_post(path, body).triple()

    def answer_get(self, path: str) -> Answer:
        if path == "/healthz":
            return self._healthz()
        if path == "/metrics":
            return Answer(200, metrics_mod.CONTENT_TYPE, self.metrics.render())
        if path not in ("/v1/cert.pem", "/v1/public.pem"):
            return _text(404, "not found")
        try:
            newest = self.registry.newest
        except RuntimeError:
            return _text(503, "no current key generation is loaded; retry later",
                         **{"Retry-After": "10"})
        if path == "/v1/cert.pem":
            return Answer(200, "application/x-pem-file",
                          newest.certificate.public_bytes(serialization.Encoding.PEM))
        return Answer(200, "application/x-pem-file", keys.public_pem(newest.public()))

    def _healthz(self) -> Answer:
        try:
            self.registry.keyring  # noqa: B018  (raises until loaded)
        except RuntimeError:
            return _text(503, "keys not loaded")
        if self.health is not None:
            verdict = self.health.check()
            if not verdict.ok:
                return _text(503, "unhealthy: " + "; ".join(verdict.dead + verdict.stuck))
        return _text(200, "ok")

    def answer_post(self, path: str, body: bytes) -> Answer:
        refused = _text(404, "not found") if path not in POST_PATHS else \
            self._admit(limits.body_work(len(body)), floor=0.0)
        if refused is not None:
            return refused
        parsed = _parse(body)
        if isinstance(parsed, Answer):
            return parsed
        try:
            ring = self.registry.keyring
        except RuntimeError:
            return _text(503, "keys not loaded; retry later", **{"Retry-After": "10"})
        rotate = path == "/v1/rotate"
        refused = self._admit(limits.work_of(parsed, keys=len(ring), rotate=rotate))
        if refused is not None:
            return refused
        if rotate:
            return self._rotate(parsed, ring=ring, body_size=len(body))
        return self._verify(parsed, ring=ring)

    def _admit(self, work: int, *, floor: float = 1.0) -> Answer | None:
        """None when the rate limit lets `work` openings run now; else the refusal."""
        charge = self.limiter.charge(work=work, floor=floor)
        if charge.too_big:
            most = int(self.limiter.capacity * limits.OPENINGS_PER_REQUEST)
            return _text(413, f"this SealedSecret needs {work} key openings; at most {most} "
                              "fit in one request; split it")
        if not charge.allowed:
            return _text(429, "rate limit exceeded; retry later",
                         **{"Retry-After": str(charge.retry_after_s)})
        return None

    def _verify(self, sealed: dict[str, Any], *, ring: keyring.Keyring) -> Answer:
        try:
            desired.open_items(sealed, ring=ring)
        except (errors.UnsealError, errors.ManifestError):
            return Answer(409, TEXT, FAILURE)
        return _text(200, "ok")

    def _rotate(self, sealed: dict[str, Any], *, ring: keyring.Keyring,
                body_size: int) -> Answer:
        try:
            public = self.registry.newest.public()
        except RuntimeError:
            return _text(503, "no current key generation is loaded; retry later",
                         **{"Retry-After": "10"})
        try:
            rotated = seal.reseal(_trimmed(sealed), keyring=ring, public=public)
        except errors.UnsealError:
            return Answer(409, TEXT, FAILURE)
        except errors.ManifestError as exc:
            return _text(400, str(exc))
        payload = json.dumps(rotated, ensure_ascii=False, separators=(",", ":")).encode()
        items = len(sealed["spec"]["encryptedData"])
        bound = 2 * body_size + items * ROTATE_GROWTH_PER_ITEM + ROTATE_SLACK
        if len(payload) > bound:
            return _text(413, f"the rotated SealedSecret would be {len(payload)} bytes, more "
                              f"than the {bound} bytes allowed for this request")
        return Answer(200, "application/json", payload)


def _parse(body: bytes) -> dict[str, Any] | Answer:
    """The SealedSecret in `body`, or the 400/413 answer saying why there is none."""
    if len(body) > MAX_BODY:
        return _text(413, f"request body too large (limit {MAX_BODY} bytes)")
    try:
        sealed = safeyaml.load_one(body, source="request body", max_bytes=MAX_BODY)
        limits.check_sealed(sealed)
    except errors.ManifestError as exc:
        return _text(400, str(exc))
    return sealed


def _trimmed(sealed: Mapping[str, Any]) -> dict[str, Any]:
    """The input without the server-side fields a re-sealed manifest must not carry."""
    result = {k: v for k, v in sealed.items() if k not in DROPPED_ON_ROTATE}
    meta = result.get("metadata")
    if isinstance(meta, Mapping):
        result["metadata"] = {k: v for k, v in meta.items()
                              if k not in DROPPED_METADATA_ON_ROTATE}
    return result
