"""HTTP details under `VaultSession`: hvac's adapter hardened, CA pinning, status mapping.

Used only by `controller.vault.client`. Nothing here keeps a response body, a URL or a header:
a non-2xx answer is reduced to `HttpFailure` (status, Vault's error strings, Retry-After and the
KV v2 deleted/destroyed marker) and `translate` turns that into `sealer.errors.VaultError`:

    503, 501                           VaultSealed         retryable
    403                                PermissionDenied    not retryable (re-checked next refresh)
    404                                NotFound            not retryable
    404 + KV v2 version deleted        VersionDeleted      not retryable
    404 + KV v2 version destroyed      VersionDestroyed    not retryable
    429                                RateLimited         retryable, retry_after from Retry-After
    3xx (never followed), 5xx, 412     VaultUnavailable    retryable
    other 4xx                          InvalidRequest      not retryable

Every request, headers and body, must complete within `TOTAL_FACTOR` times the session's read
timeout (`controller.vault.deadline`): per-read timeouts alone let a Vault that sends one byte
per second hold a thread forever. Sessions mount `DeadlineAdapter` (or `PinnedCA`, one too).
Bodies are read with a cap (MAX_RESPONSE_BYTES) and parsed refusing duplicate JSON keys
(`Malformed`). Vault's error strings are shown only for logins (`detail=True`), one line, cut
to 200 characters, with the caller's credentials replaced by `<redacted>`.
"""

from __future__ import annotations

import email.utils
import json
import ssl
import time
from typing import Any, NoReturn

import hvac.adapters
import requests
import urllib3.exceptions

from controller.vault import deadline, mapping
from sealer import errors

MAX_RESPONSE_BYTES = 4 << 20
MAX_RETRY_AFTER_S = 3600.0
TOTAL_FACTOR = 2.0  # a whole request may take this many read timeouts
DeadlineAdapter = deadline.DeadlineAdapter
_MAX_ERROR_TEXT = 200


class HttpFailure(Exception):
    """A non-2xx answer, reduced to what is safe to keep: no body text, no URL."""

    def __init__(self, status: int, *, errors: tuple[str, ...] = (),
                 retry_after: float | None = None, kv_state: str | None = None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.errors = errors
        self.retry_after = retry_after
        self.kv_state = kv_state


class Malformed(Exception):
    """A 200 whose body is not the JSON object Vault sends."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise Malformed(f"duplicate JSON key {mapping.show(key)}")
        out[key] = value
    return out


def read_bounded(response: requests.Response) -> bytes:
    """Read at most MAX_RESPONSE_BYTES + 1 bytes; urllib3 errors become requests errors."""
    try:
        body: bytes = response.raw.read(MAX_RESPONSE_BYTES + 1, decode_content=True)
    except urllib3.exceptions.ReadTimeoutError:
        raise requests.exceptions.ReadTimeout("read timed out") from None
    except (urllib3.exceptions.HTTPError, OSError):
        raise requests.exceptions.ConnectionError("connection broken") from None
    finally:
        response.close()
    if len(body) > MAX_RESPONSE_BYTES:
        raise Malformed(f"response larger than {MAX_RESPONSE_BYTES} bytes")
    return body


def decode(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body, object_pairs_hook=_no_duplicates)
    except Malformed:
        raise
    except (ValueError, RecursionError):
        raise Malformed("response is not JSON") from None
    if not isinstance(value, dict):
        raise Malformed("response is not a JSON object")
    return value


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def failure(response: requests.Response) -> HttpFailure:
    status = response.status_code
    retry_after = _retry_after(response.headers.get("Retry-After"))
    try:
        body = decode(read_bounded(response))
    except (Malformed, requests.RequestException):
        return HttpFailure(status, retry_after=retry_after)
    raw_errors = body.get("errors")
    # Kept whole (scrubbing needs the full text) and cut to _MAX_ERROR_TEXT only in `_said`.
    errs = tuple(e for e in raw_errors[:5] if isinstance(e, str)) \
        if isinstance(raw_errors, list) else ()
    kv_state = None
    data = body.get("data")
    meta = data.get("metadata") if isinstance(data, dict) else None
    if status == 404 and raw_errors is None and isinstance(meta, dict):
        if meta.get("destroyed") is True:
            kv_state = "destroyed"
        elif meta.get("deletion_time"):
            kv_state = "deleted"
    return HttpFailure(status, errors=errs, retry_after=retry_after, kv_state=kv_state)


class Adapter(hvac.adapters.JSONAdapter):  # type: ignore[misc]
    """hvac's JSON adapter with bounded bodies, duplicate-key refusal and no text kept."""

    def _raise_for_error(self, method: str, url: str, response: requests.Response) -> NoReturn:
        raise failure(response)

    def request(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["stream"] = True
        with deadline.limit(total_limit(self._kwargs.get("timeout"))):
            response = hvac.adapters.RawAdapter.request(self, *args, **kwargs)
            if response.status_code == 200:
                return decode(read_bounded(response))
        response.close()
        if response.is_redirect:
            # Never followed: a redirect would carry X-Vault-Token to wherever it points.
            raise HttpFailure(response.status_code)
        return response


def total_limit(timeout: object) -> float:
    """The total time one request may take, from the (connect, read) timeout hvac holds."""
    parts = timeout if isinstance(timeout, tuple) else (timeout,)
    numbers = [float(t) for t in parts if isinstance(t, int | float)]
    return TOTAL_FACTOR * max(numbers or [30.0])


class PinnedCA(deadline.DeadlineAdapter):
    """Trust exactly the store's CA bundle: no certifi, no REQUESTS_CA_BUNDLE additions."""

    def __init__(self, ca_pem: str) -> None:
        self._context = ssl.create_default_context(cadata=ca_pem)
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self._context
        super().init_poolmanager(*args, **kwargs)

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        kwargs["ssl_context"] = self._context
        return super().proxy_manager_for(proxy, **kwargs)

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        kwargs["verify"] = True
        return super().send(request, *args, **kwargs)

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        conn.cert_reqs = "CERT_REQUIRED"
        conn.ca_certs = None
        conn.ca_cert_dir = None


_NOT_FOUND = {
    "deleted": ("VersionDeleted", "that version is deleted"),
    "destroyed": ("VersionDestroyed", "that version is destroyed"),
}


def _said(exc: HttpFailure, scrub: tuple[str, ...]) -> str:
    """Vault's own error strings (login failures only), one line, credentials cut out."""
    parts = []
    for raw in exc.errors:
        text = raw
        for secret in scrub:
            if secret:
                text = text.replace(secret, "<redacted>")
        text = " ".join("".join(c if c.isprintable() else " " for c in text).split())
        parts.append(text[:_MAX_ERROR_TEXT])
    joined = "; ".join(p for p in parts if p)
    return f": {joined}" if joined else ""


def translate(exc: HttpFailure, *, what: str, detail: bool,
               scrub: tuple[str, ...] = ()) -> errors.VaultError:
    status = exc.status
    said = _said(exc, scrub) if detail else ""
    message, reason, retryable = f"Vault refused {what} ({status}){said}", "InvalidRequest", False
    if status in (501, 503):
        state = "not initialized" if status == 501 else "sealed or in standby"
        message, reason, retryable = f"Vault is {state} ({status}) for {what}", "VaultSealed", True
    elif status == 403:
        message, reason = f"Vault denied {what}: permission denied (403){said}", "PermissionDenied"
    elif status == 404:
        reason, text = _NOT_FOUND.get(exc.kv_state or "", ("NotFound", "not found"))
        message = f"Vault has no {what}: {text} (404)"
    elif status == 429:
        message, reason, retryable = f"Vault rate-limited {what} (429)", "RateLimited", True
    elif 300 <= status < 400:
        message = f"Vault redirected {what} ({status}); redirects are not followed"
        reason, retryable = "VaultUnavailable", True
    elif status >= 500 or status == 412:
        message = f"Vault failed {what} ({status}){said}"
        reason, retryable = "VaultUnavailable", True
    return errors.VaultError(message, reason=reason, retryable=retryable,
                             retry_after=exc.retry_after)
