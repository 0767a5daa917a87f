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
