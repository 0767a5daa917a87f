"""Pure helpers the view-model shares: conditions, ages, states and display-safe text.

Every field shown comes from an object a tenant may have written, so each one goes through
`text` (a string of bounded length without control characters, whatever the input's type) and
URLs through `display_url` (no user info, query or fragment: a credential pasted into a URL is
never shown). HTML escaping is the templates' job (Jinja2 autoescape), not this module's.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import re
from collections.abc import Mapping
from typing import Any

from controller.sources import urls

__all__ = ["Condition", "State", "age", "condition", "display_url", "mapping", "meta",
           "parse_time", "state_of", "text"]

MAX_TEXT = 300
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


class State(enum.Enum):
    """How a row is coloured; the value is the CSS class suffix (`status-<value>`)."""

    OK = "ok"
    FAILED = "failed"
    PROGRESSING = "progressing"
    SUSPENDED = "suspended"
    UNKNOWN = "unknown"

    @property
    def css(self) -> str:
        return f"status-{self.value}"


@dataclasses.dataclass(frozen=True)
class Condition:
    """One status condition as shown: `status` is "True", "False" or "Unknown"."""

    status: str
    reason: str
    message: str
    since: datetime.datetime | None


def text(value: object, *, limit: int = MAX_TEXT) -> str:
    """`value` as one line of at most `limit` characters; "" for anything but str/int."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return ""
    out = _CONTROL.sub(" ", str(value)).strip()
    return out if len(out) <= limit else out[: limit - 1] + "\u2026"


def parse_time(value: object) -> datetime.datetime | None:
    """An RFC 3339 timestamp as an aware datetime; None when absent or malformed."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def age(then: datetime.datetime | None, now: datetime.datetime) -> str:
    """Like kubectl's AGE column: 45s, 12m, 3h, 5d ("-" when unknown)."""
    if then is None:
        return "-"
    seconds = max(0, int((now - then).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def condition(obj: Mapping[str, Any], kind: str = "Ready") -> Condition | None:
    """The condition of type `kind` in `obj.status.conditions`, if there is a readable one."""
    status = obj.get("status")
    conditions = status.get("conditions") if isinstance(status, Mapping) else None
    if not isinstance(conditions, list):
        return None
    for cond in conditions:
        if isinstance(cond, Mapping) and cond.get("type") == kind:
            value = cond.get("status")
            return Condition(
                status=value if value in ("True", "False") else "Unknown",
                reason=text(cond.get("reason"), limit=80),
                message=text(cond.get("message"), limit=1024),
                since=parse_time(cond.get("lastTransitionTime")))
    return None


def state_of(ready: Condition | None, *, reconciling: Condition | None = None,
             suspended: bool = False) -> State:
    """Failed wins over everything: a red row is the one thing a user must not miss."""
    if ready is not None and ready.status == "False":
        return State.FAILED
    if suspended:
        return State.SUSPENDED
    if reconciling is not None and reconciling.status == "True":
        return State.PROGRESSING
    if ready is not None and ready.status == "True":
        return State.OK
    return State.UNKNOWN


def display_url(value: object) -> str:
    """A source or server URL without user info, query or fragment (the controller's own
    `redact_url`, which over-redacts rather than leaks: a password holding "/" or "@" goes
    with everything up to the last "@")."""
    raw = text(value, limit=2048)
    return text(urls.redact_url(raw)) if raw else ""


def meta(obj: Mapping[str, Any]) -> tuple[str, str, datetime.datetime | None]:
    """(namespace, name, creation time) of an object."""
    metadata = obj.get("metadata")
    if not isinstance(metadata, Mapping):
        return "", "", None
    return (text(metadata.get("namespace"), limit=63), text(metadata.get("name"), limit=253),
            parse_time(metadata.get("creationTimestamp")))


def mapping(value: object) -> Mapping[str, Any]:
    """`value` when it is a mapping, else an empty one (hostile objects have any shape)."""
    return value if isinstance(value, Mapping) else {}
