"""HTTP endpoints served by the controller (kubeseal-compatible paths where they exist).

    GET  /healthz          200 once the key registry is loaded
    GET  /metrics          Prometheus text
    GET  /v1/cert.pem      the newest RSA certificate (what `kubeseal --fetch-cert` reads)
    GET  /v1/public.pem    the newest generation's public PEM (certificate + v2 public keys)
    POST /v1/verify        a SealedSecret: 200 if every item opens, 409 if not (rate-limited)
    POST /v1/rotate        a SealedSecret re-sealed under the newest generation (rate-limited)

Neither verify nor rotate ever renders a template or returns plaintext; rotate keeps the scope
bound in the old ciphertext, never the one claimed by annotations. Bodies are capped in size
and parsed with the safe YAML loader (JSON is YAML).
"""

from __future__ import annotations

import http.server
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives import serialization

from controller import metrics as metrics_mod
from controller.keys import registry as registry_mod
from controller.unseal import desired
from sealer import errors
from sealer.crypto import keys
from sealer.manifests import safeyaml, seal

logger = logging.getLogger(__name__)

MAX_BODY = 2 << 20
KNOWN_PATHS = frozenset({"/healthz", "/metrics", "/v1/cert.pem", "/v1/public.pem",
                         "/v1/verify", "/v1/rotate"})


class RateLimiter:
    """A token bucket shared by the expensive endpoints."""

    def __init__(self, *, per_minute: int, now: Callable[[], float] = time.monotonic) -> None:
        self._rate = per_minute / 60.0
        self._capacity = float(max(per_minute, 1))
        self._tokens = self._capacity
        self._now = now
        self._last = now()
        self._lock = threading.Lock()

    def allow(self) -> bool:
        with self._lock:
            current = self._now()
            self._tokens = min(self._capacity,
                               self._tokens + (current - self._last) * self._rate)
            self._last = current
            if self._tokens >= 1:
                self._tokens -= 1
                return True
            return False


class Endpoints:
    """The request logic, separate from the HTTP plumbing so it can be called directly."""

    def __init__(self, registry: registry_mod.KeyRegistry, metrics: metrics_mod.Metrics, *,
                 limiter: RateLimiter) -> None:
        self.registry = registry
        self.metrics = metrics
        self.limiter = limiter

    def get(self, path: str) -> tuple[int, str, bytes]:
        if path == "/healthz":
            try:
                self.registry.keyring  # noqa: B018  (raises until loaded)
            except RuntimeError:
                return 503, "text/plain", b"keys not loaded\n"
            return 200, "text/plain", b"ok\n"
        if path == "/metrics":
            return 200, "text/plain; version=0.0.4", self.metrics.render().encode()
        if path == "/v1/cert.pem":
            cert = self.registry.newest.certificate
            return 200, "application/x-pem-file", cert.public_bytes(serialization.Encoding.PEM)
        if path == "/v1/public.pem":
            return 200, "application/x-pem-file", keys.public_pem(self.registry.newest.public())
        return 404, "text/plain", b"not found\n"

    def post(self, path: str, body: bytes) -> tuple[int, str, bytes]:
        if path not in ("/v1/verify", "/v1/rotate"):
            return 404, "text/plain", b"not found\n"
        if not self.limiter.allow():
            return 429, "text/plain", b"rate limit exceeded; retry later\n"
        try:
            sealed = safeyaml.load_one(body, source="request body", max_bytes=MAX_BODY)
            _check_sealed(sealed)
        except errors.ManifestError as exc:
            return 400, "text/plain", f"{exc}\n".encode()
        if path == "/v1/verify":
            return self._verify(sealed)
        return self._rotate(sealed)

    def _verify(self, sealed: dict[str, Any]) -> tuple[int, str, bytes]:
        try:
            desired.open_items(sealed, ring=self.registry.keyring)
        except (errors.UnsealError, errors.ManifestError):
            return 409, "text/plain", b"the SealedSecret cannot be opened by this controller\n"
        return 200, "text/plain", b"ok\n"

    def _rotate(self, sealed: dict[str, Any]) -> tuple[int, str, bytes]:
        newest = self.registry.newest
        try:
            rotated = seal.reseal(sealed, keyring=self.registry.keyring, public=newest.public())
        except errors.UnsealError:
            return 409, "text/plain", b"the SealedSecret cannot be opened by this controller\n"
        except errors.ManifestError as exc:
            return 400, "text/plain", f"{exc}\n".encode()
        return 200, "application/json", json.dumps(rotated, indent=2).encode()


def _check_sealed(obj: dict[str, Any]) -> None:
    if obj.get("kind") != "SealedSecret":
        raise errors.ManifestError("the request body must be a SealedSecret")
    meta = obj.get("metadata")
    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str) or \
            not isinstance(meta.get("namespace"), str):
        raise errors.ManifestError("the SealedSecret must name its name and namespace")


def serve(endpoints: Endpoints, *, host: str, port: int) -> http.server.ThreadingHTTPServer:
    """Start serving in a daemon thread; returns the server (call .shutdown() to stop)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        server_version = "sealops"
        sys_version = ""

        def do_GET(self) -> None:
            self._answer("GET", *endpoints.get(self.path.split("?")[0]))

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._answer("POST", 413, "text/plain", b"request body too large\n")
                return
            body = self.rfile.read(length)
            self._answer("POST", *endpoints.post(self.path.split("?")[0], body))

        def _answer(self, method: str, code: int, ctype: str, payload: bytes) -> None:
            path = self.path.split("?")[0]
            endpoints.metrics.observe_http(path if path in KNOWN_PATHS else "other", code)
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if method != "HEAD":
                self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("http %s", self.requestline[:80])

    server = http.server.ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="sealops-http", daemon=True).start()
    return server
