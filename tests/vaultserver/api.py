"""Request/response values shared by the Vault test server's routes, and Vault's envelope.

Every 200 carries the logical response envelope (`sdk/logical/translate_response.go`
`HTTPResponse`); every status >= 400 carries `{"errors": [...]}` with `Content-Type:
application/json` (`RespondError`), except the KV v2 deleted/destroyed 404, which carries the
full envelope (`RespondWithStatusCode`).
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any


@dataclasses.dataclass(frozen=True)
class Call:
    """One logical request. `method` is normalised: PUT -> POST, GET ?list=true -> LIST."""

    method: str
    path: str  # namespace + path after /v1/, e.g. "ns1/secret/data/a"
    namespace: str  # "" or "ns1/"
    query: dict[str, str]
    body: dict[str, Any]
    token: str | None
    head: bool = False


@dataclasses.dataclass
class Reply:
    status: int
    body: dict[str, Any] | None = None
    headers: dict[str, str] = dataclasses.field(default_factory=dict)


class ApiError(Exception):
    """Raised by route code; becomes `{"errors": [...]}` (or `body`, when given)."""

    def __init__(self, status: int, *messages: str, body: dict[str, Any] | None = None) -> None:
        super().__init__(status, messages)
        self.status = status
        self.messages = list(messages)
        self.body = body

    def reply(self) -> Reply:
        return Reply(self.status, self.body if self.body is not None
                     else {"errors": self.messages})


def envelope(data: Any = None, *, auth: Any = None, warnings: list[str] | None = None,
             mount_type: str = "", lease_duration: int = 0,
             renewable: bool = False) -> dict[str, Any]:
    return {
        "request_id": str(uuid.uuid4()),
        "lease_id": "",
        "renewable": renewable,
        "lease_duration": lease_duration,
        "data": data,
        "wrap_info": None,
        "warnings": warnings or None,
        "auth": auth,
        "mount_type": mount_type,
    }


def ok(data: Any = None, **kwargs: Any) -> Reply:
    return Reply(200, envelope(data, **kwargs))


def no_content() -> Reply:
    return Reply(204)


def permission_denied() -> ApiError:
    return ApiError(403, "permission denied")


def no_route(path: str) -> ApiError:
    return ApiError(404, f'no handler for route "{path}". route entry not found.')


def unsupported() -> ApiError:
    return ApiError(405, "unsupported operation")
