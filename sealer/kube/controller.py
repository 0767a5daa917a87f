"""Talking to the controller's HTTP endpoints: `/v1/verify`, `/v1/rotate`, `/v1/public.pem`.

Used by `seal verify` and `seal reencrypt` (without `--key`). Two ways to reach the controller,
one `Transport` interface, so the commands and their tests never care which:

- `DirectTransport(url)`: a URL the caller can reach (`kubectl port-forward`, in-cluster DNS,
  the tests' controller on 127.0.0.1).
- `ProxyTransport(connection, namespace=...)`: the API server's service proxy,
  `/api/v1/namespaces/<ns>/services/http:sealops-controller:8080/proxy/<path>`, with the
  credentials of the caller's kubeconfig (needs `get` on `services/proxy`; deploy/ defines the
  Service `sealops-controller`, port 8080).

Both send the SealedSecret as JSON and read at most `MAX_RESPONSE_BYTES`. Answers map to errors
once, in `_check`: 409 = the controller cannot open it, 429 = rate limited (retried a few
times with growing waits, then a retryable `ClusterError`), a
Kubernetes `Status` from the proxy = a scrubbed `ApiError`. Messages name the endpoint and the
SealedSecret, never a body, a value, a ciphertext or a token (`repr` hides the credentials).
"""

from __future__ import annotations

import dataclasses
import json
import ssl
import time
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import urllib3

from sealer import errors
from sealer.kube import client
from sealer.kube import errors as kerrors

__all__ = [
    "PORT",
    "SERVICE",
    "ControllerClient",
    "DirectTransport",
    "NotOpenableError",
    "ProxyTransport",
    "Response",
    "Transport",
]

SERVICE = "sealops-controller"
PORT = 8080
MAX_RESPONSE_BYTES = 8 << 20
TIMEOUT_S = 30.0
RETRY_WAITS_S = (2.0, 4.0, 8.0)  # after a 429; the controller refills its bucket every second


class NotOpenableError(errors.UnsealError):
    """The controller answered that no key of its keyring opens the SealedSecret."""

    def __init__(self, ref: str) -> None:
        errors.SealopsError.__init__(
            self, f"SealedSecret {ref} cannot be opened by the controller's keys")
        self.item = ref


@dataclasses.dataclass(frozen=True)
class Response:
    status: int
    content_type: str
    body: bytes


class Transport(Protocol):
    """Sends one request to a controller path (`/v1/...`) and returns its answer."""

    @property
    def endpoint(self) -> str: ...

    def request(self, method: str, path: str, *, body: bytes | None = None) -> Response: ...

    def close(self) -> None: ...


class _PoolTransport:
    """An urllib3 pool with bounded reads; subclasses say where and with which headers."""

    def __init__(self, *, ssl_context: ssl.SSLContext | None, timeout: float) -> None:
        self._timeout = timeout
        self._pool = urllib3.PoolManager(ssl_context=ssl_context, retries=False)

    def _url(self, path: str) -> str:
        raise NotImplementedError

    def _headers(self) -> dict[str, str]:
        return {}

    @property
    def endpoint(self) -> str:
        raise NotImplementedError

    def request(self, method: str, path: str, *, body: bytes | None = None) -> Response:
        headers = {"User-Agent": "sealops-seal", **self._headers()}
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            resp = self._pool.request(method, self._url(path), body=body, headers=headers,
                                      timeout=self._timeout, preload_content=False)
        except urllib3.exceptions.HTTPError as exc:
            raise errors.ClusterError(
                f"cannot reach the controller at {self.endpoint}: {kerrors.connection_cause(exc)}"
            ) from None
        try:
            data = resp.read(MAX_RESPONSE_BYTES + 1)
        except urllib3.exceptions.HTTPError as exc:
            raise errors.ClusterError(
                f"the controller at {self.endpoint} broke off its answer ({type(exc).__name__})"
            ) from None
        finally:
            resp.release_conn()
        if len(data) > MAX_RESPONSE_BYTES:
            raise errors.ClusterError(f"the controller at {self.endpoint} answered too much")
        content_type = str(resp.headers.get("Content-Type") or "").split(";")[0].strip()
        return Response(status=resp.status, content_type=content_type, body=data)

    def close(self) -> None:
        self._pool.clear()


class DirectTransport(_PoolTransport):
    """The controller at a URL (`http://127.0.0.1:8080`, `https://sealed.example.com`)."""

    def __init__(self, url: str, *, timeout: float = TIMEOUT_S) -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise errors.UsageError("--controller-url must be an http:// or https:// URL")
        if parsed.username or parsed.password or parsed.query or parsed.fragment:
            raise errors.UsageError(
                "--controller-url must not carry credentials, a query or a fragment")
        super().__init__(ssl_context=None, timeout=timeout)
        self._base = url.rstrip("/")

    @property
    def endpoint(self) -> str:
        return self._base

    def _url(self, path: str) -> str:
        return self._base + path

    def __repr__(self) -> str:
        return f"<DirectTransport {self._base}>"


class ProxyTransport(_PoolTransport):
    """The controller's Service through the API server's service proxy."""

    def __init__(self, connection: client.Connection, *, namespace: str, service: str = SERVICE,
                 port: int = PORT, timeout: float = TIMEOUT_S) -> None:
        ctx = ssl.create_default_context(cafile=connection.ca_file)
        if not connection.verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        if connection.cert_file:
            ctx.load_cert_chain(connection.cert_file, connection.key_file)
        super().__init__(ssl_context=ctx, timeout=timeout)
        self._conn = connection
        quoted = urllib.parse.quote(namespace, safe="")
        self._prefix = (f"/api/v1/namespaces/{quoted}/services/"
                        f"http:{urllib.parse.quote(service, safe='')}:{port}/proxy")
        self._what = (f"service {namespace}/{service}:{port} (through the API server at "
                      f"{kerrors.public_url(connection.server)})")

    @property
    def endpoint(self) -> str:
        return self._what

    def _url(self, path: str) -> str:
        return self._conn.server.rstrip("/") + self._prefix + path

    def _headers(self) -> dict[str, str]:
        token = self._conn.auth()
        return {"Authorization": token} if token else {}

    def __repr__(self) -> str:
        return f"<ProxyTransport {self._what}>"


class ControllerClient:
    """The controller's verify/rotate/public-key endpoints over a `Transport`.

    A 429 (the controller's token bucket is empty) is retried after `RETRY_WAITS_S` seconds,
    so re-sealing a repository with more SealedSecrets than the per-minute limit slows down
    instead of failing; `sleep` is injected for tests.
    """

    def __init__(self, transport: Transport, *,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._transport = transport
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"<ControllerClient {self._transport.endpoint}>"

    def close(self) -> None:
        self._transport.close()

    def verify(self, sealed: Mapping[str, Any]) -> bool:
        """True when the controller opens every item of `sealed` (200), False when not (409)."""
        ref = _ref(sealed)
        resp = self._post("/v1/verify", sealed)
        if resp.status == 409:
            return False
        self._check(resp, what=f"verify of SealedSecret {ref}")
        return True

    def rotate(self, sealed: Mapping[str, Any]) -> dict[str, Any]:
        """`sealed` re-sealed by the controller under its newest key generation."""
        ref = _ref(sealed)
        resp = self._post("/v1/rotate", sealed)
        if resp.status == 409:
            raise NotOpenableError(ref)
        self._check(resp, what=f"rotate of SealedSecret {ref}")
        try:
            rotated = json.loads(resp.body)
        except ValueError:
            rotated = None
        if not isinstance(rotated, dict):
            raise errors.ClusterError(
                f"the controller at {self._transport.endpoint} answered the rotate of "
                f"SealedSecret {ref} with something that is not a JSON object")
        return rotated

    def public_pem(self) -> bytes:
        resp = self._transport.request("GET", "/v1/public.pem")
        self._check(resp, what="public key")
        return resp.body

    def _post(self, path: str, sealed: Mapping[str, Any]) -> Response:
        body = json.dumps(sealed).encode("utf-8")
        resp = self._transport.request("POST", path, body=body)
        for wait in RETRY_WAITS_S:
            if resp.status != 429:
                break
            self._sleep(wait)
            resp = self._transport.request("POST", path, body=body)
        return resp

    def _check(self, resp: Response, *, what: str) -> None:
        if resp.status == 200:
            return
        where = self._transport.endpoint
        if resp.content_type == "application/json" and _is_status(resp.body):
            raise kerrors.from_response(status=resp.status, body=resp.body,
                                        what=f"{what} through {where}")
        if resp.status == 429:
            raise errors.ClusterError(f"{what}: the controller at {where} is rate limiting; "
                                      "retry in a minute")
        if resp.status in (400, 413):
            raise errors.ManifestError(f"{what}: the controller at {where} refused the "
                                       f"SealedSecret as malformed ({resp.status})")
        raise errors.ClusterError(f"{what}: the controller at {where} answered {resp.status}")


def _is_status(body: bytes) -> bool:
    try:
        doc = json.loads(body)
    except ValueError:
        return False
    return isinstance(doc, dict) and doc.get("kind") == "Status"


def _ref(sealed: Mapping[str, Any]) -> str:
    meta = sealed.get("metadata")
    if not isinstance(meta, Mapping):
        return "<unnamed>"
    return f"{meta.get('namespace')}/{meta.get('name')}"
