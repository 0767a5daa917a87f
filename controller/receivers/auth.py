"""Who may call a Receiver: signatures checked in constant time, replays refused. Pure.

Types and what each request must carry (all HMACs are SHA-256 keyed with the Secret's `token`):

    github        X-Hub-Signature-256: sha256=<hex HMAC of the body>; X-GitHub-Delivery (the
                  delivery id); X-GitHub-Event (`ping` is answered without work; otherwise
                  it must be in spec.events, default [push])
    gitlab        X-Gitlab-Token equal to the token (GitLab signs nothing: the token itself is
                  the credential, compared before the body is read); X-Gitlab-Event in
                  spec.events (default [Push Hook, Tag Push Hook]); X-Gitlab-Event-UUID, if sent,
                  is the delivery id
    generic-hmac  X-Timestamp: unix seconds within `WINDOW_S` of now; X-Nonce: 16-128 visible
                  ASCII characters, unique per request; X-Signature: sha256=<hex HMAC of
                  "<timestamp>.<nonce>." + body>

Order: `precheck` (headers only; gitlab's token) -> the body, capped -> `verify` (the HMAC)
-> `Replays.first_time` (only after authentication, so a forger cannot fill the cache).
Replays: a delivery id, nonce or body digest seen within `WINDOW_S` is refused. GitHub's
signature covers only the body, so the body's digest is remembered too: a captured request
sent again with a new delivery id is still refused (GitHub's "redeliver" button is refused
as well within the window). A timestamp outside the window is refused outright, so a nonce
need only be remembered for the window. Every refusal is one short text naming the header,
never a value.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

__all__ = ["GENERIC_HMAC", "GITHUB", "GITLAB", "MAX_BODY", "TYPES", "WINDOW_S", "Delivery",
           "Refused", "Replays", "precheck", "verify"]

GITHUB, GITLAB, GENERIC_HMAC = "github", "gitlab", "generic-hmac"
TYPES = (GITHUB, GITLAB, GENERIC_HMAC)
DEFAULT_EVENTS = {GITHUB: ("push",), GITLAB: ("Push Hook", "Tag Push Hook"), GENERIC_HMAC: ()}
MAX_BODY = 1 << 20  # GitHub caps payloads at 25 MB, but a push event is a few KiB
WINDOW_S = 300.0
MAX_REMEMBERED = 10_000
_SIGNATURE = re.compile(r"^sha256=([0-9a-f]{64})$")
_NONCE = re.compile(r"^[\x21-\x7e]{16,128}$")
_ID = re.compile(r"^[\x21-\x7e]{1,128}$")
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")


@dataclass(frozen=True)
class Refused:
    status: int
    message: str


@dataclass(frozen=True)
class Delivery:
    """An authenticated request: `ids` are what the replay cache remembers; `work` is False
    for an event answered without triggering anything (ping, an event not subscribed)."""

    ids: tuple[str, ...]
    work: bool = True
    note: str = "ok"


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    return value.strip() if isinstance(value, str) else None


def precheck(kind: str, headers: Mapping[str, str], *, token: bytes,
             now: float) -> Refused | None:
    """Refusals decided from the headers alone, before any body byte is read."""
    if kind == GITHUB:
        return _github_headers(headers)
    if kind == GITLAB:
        given = (_header(headers, "X-Gitlab-Token") or "").encode()
        return None if hmac.compare_digest(given, token) else \
            Refused(401, "X-Gitlab-Token does not match")
    return _generic_headers(headers, now=now)


def _github_headers(headers: Mapping[str, str]) -> Refused | None:
    if not _SIGNATURE.match(_header(headers, "X-Hub-Signature-256") or ""):
        return Refused(401, "missing or malformed X-Hub-Signature-256")
    if not _ID.match(_header(headers, "X-GitHub-Delivery") or ""):
        return Refused(400, "missing or malformed X-GitHub-Delivery")
    return None


def _generic_headers(headers: Mapping[str, str], *, now: float) -> Refused | None:
    stamp = _header(headers, "X-Timestamp") or ""
    if not _TIMESTAMP.match(stamp):
        return Refused(401, "missing or malformed X-Timestamp")
    if abs(now - int(stamp)) > WINDOW_S:
        return Refused(401, "X-Timestamp is outside the accepted window")
    if not _NONCE.match(_header(headers, "X-Nonce") or ""):
        return Refused(401, "missing or malformed X-Nonce")
    if not _SIGNATURE.match(_header(headers, "X-Signature") or ""):
        return Refused(401, "missing or malformed X-Signature")
    return None


def verify(kind: str, headers: Mapping[str, str], body: bytes, *, token: bytes,
           events: tuple[str, ...]) -> Delivery | Refused:
    """After `precheck`: the signature over the body, then what the event asks for."""
    digest = "body:" + hashlib.sha256(body).hexdigest()
    if kind == GITHUB:
        if not _signed(token, body, _header(headers, "X-Hub-Signature-256")):
            return Refused(401, "X-Hub-Signature-256 does not match")
        event = _header(headers, "X-GitHub-Event") or ""
        ids: tuple[str, ...] = ("github:" + str(_header(headers, "X-GitHub-Delivery")), digest)
        if event == "ping":
            return Delivery(ids, work=False, note="pong")
        return _subscribed(ids, event, events or DEFAULT_EVENTS[GITHUB])
    if kind == GITLAB:
        uuid = _header(headers, "X-Gitlab-Event-UUID")
        ids = (digest,) if not uuid or not _ID.match(uuid) else ("gitlab:" + uuid, digest)
        event = _header(headers, "X-Gitlab-Event") or ""
        return _subscribed(ids, event, events or DEFAULT_EVENTS[GITLAB])
    stamp, nonce = _header(headers, "X-Timestamp"), _header(headers, "X-Nonce")
    signed = f"{stamp}.{nonce}.".encode() + body
    if not _signed(token, signed, _header(headers, "X-Signature")):
        return Refused(401, "X-Signature does not match")
    return Delivery(("nonce:" + str(nonce), digest))


def _signed(token: bytes, message: bytes, header: str | None) -> bool:
    found = _SIGNATURE.match(header or "")
    if found is None:
        return False
    expected = hmac.new(token, message, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), found.group(1).encode())


def _subscribed(ids: tuple[str, ...], event: str, events: tuple[str, ...]) -> Delivery:
    if event in events:
        return Delivery(ids)
    return Delivery(ids, work=False, note="event not subscribed; ignored")


class Replays:
    """Ids seen within `window` seconds (per Receiver key), at most `limit` kept; thread-safe."""

    def __init__(self, *, window: float = WINDOW_S, limit: int = MAX_REMEMBERED,
                 now: Callable[[], float] = time.monotonic) -> None:
        self._window = window
        self._limit = limit
        self._now = now
        self._seen: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, owner: str, ids: tuple[str, ...]) -> bool:
        """True (and remembered) unless any id was seen for `owner` within the window."""
        with self._lock:
            current = self._now()
            while self._seen and next(iter(self._seen.values())) < current - self._window:
                self._seen.popitem(last=False)
            if any((owner, i) in self._seen for i in ids):
                return False
            for i in ids:
                self._seen[(owner, i)] = current
                self._seen.move_to_end((owner, i))
            while len(self._seen) > self._limit:
                self._seen.popitem(last=False)
            return True
