"""API errors, scrubbed: an API server echoes submitted values in some messages (422 on a bad
Secret), so only the status, the reason and the field paths of the causes are kept."""

from __future__ import annotations

import json
from typing import Any

from sealer import errors


class ApiError(errors.ClusterError):
    """The API server answered with an error status. The message never holds a field value."""

    def __init__(self, *, status: int, reason: str, what: str, detail: str = "") -> None:
        self.status = status
        self.api_reason = reason
        self.retryable = status >= 500 or status in (409, 429) or status == 0
        self.reason = {
            404: "NotFound", 409: "Conflict", 403: "Forbidden", 422: "Invalid",
        }.get(status, "ApiError")
        text = f"{what}: {status} {reason}"
        super().__init__(f"{text} ({detail})" if detail else text)


class UnreachableError(ApiError):
    """No answer from the API server at all (status 0): the message names the server URL, as
    kubectl's "Unable to connect to the server" does, and the cause (refused, TLS, timeout)."""

    def __init__(self, *, server: str, cause: str, what: str) -> None:
        self.status = 0
        self.api_reason = "Unreachable"
        self.retryable = True
        self.reason = "ApiError"
        self.server = server
        errors.ClusterError.__init__(
            self, f"Unable to connect to the server at {server}: {cause} ({what})")


def unreachable(*, server: str, exc: BaseException, what: str) -> UnreachableError:
    """An `UnreachableError` for a transport exception (urllib3's, or the OSError below it)."""
    return UnreachableError(server=public_url(server), cause=connection_cause(exc), what=what)


def connection_cause(exc: BaseException) -> str:
    """Why a connection failed, in words that name no request data: the socket's or TLS's
    own reason (`Connection refused`, `certificate verify failed`), else the kind of timeout."""
    import ssl

    chain = _chain(exc)
    for item in chain:
        if isinstance(item, ssl.SSLCertVerificationError):
            return f"TLS: {item.verify_message or 'certificate verify failed'}"
        if isinstance(item, ssl.SSLError):
            return f"TLS: {item.reason or type(item).__name__}"
    for item in chain:
        if isinstance(item, OSError) and item.strerror:
            return str(item.strerror)
    names = {type(item).__name__ for item in chain}
    if "ReadTimeoutError" in names:
        return "timed out waiting for an answer"
    if names & {"ConnectTimeoutError", "TimeoutError"}:
        return "timed out connecting"
    return type(chain[-1]).__name__


def _chain(exc: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo and len(found) < 10:
        item = todo.pop(0)
        if item is None or item in found:
            continue
        found.append(item)
        todo += [getattr(item, "reason", None) if isinstance(getattr(item, "reason", None),
                                                             BaseException) else None,
                 item.__cause__, item.__context__]
    return found


def public_url(server: str) -> str:
    """`server` without userinfo (a URL could carry a password) or a query."""
    import urllib.parse

    parts = urllib.parse.urlsplit(server)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))


# Messages of these statuses are safe to show: they name objects and fields, never values.
_SAFE_MESSAGE_STATUSES = frozenset({401, 403, 404, 405, 409, 410, 429})


def from_response(*, status: int, body: bytes, what: str) -> ApiError:
    try:
        doc: Any = json.loads(body)
    except ValueError:
        doc = {}
    if not isinstance(doc, dict):
        doc = {}
    reason = str(doc.get("reason") or "")
    detail = ""
    if status in _SAFE_MESSAGE_STATUSES and isinstance(doc.get("message"), str):
        detail = doc["message"][:500]
    else:
        causes = (doc.get("details") or {}).get("causes") or []
        fields = sorted({str(c.get("field")) for c in causes if isinstance(c, dict)
                         and c.get("field")})
        if fields:
            detail = "invalid fields: " + ", ".join(fields)[:500]
    return ApiError(status=status, reason=reason, what=what, detail=detail)
