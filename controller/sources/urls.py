"""Source URL policy and redaction; pure string functions used before and after every git call.

Allowed: `https://`, `ssh://` and scp-like `user@host:path`; `http://` only to loopback
(127.0.0.0/8, ::1, localhost); `file://` only when local sources are allowed. Refused: git's
`<transport>::` remote helpers (`ext::`), anything starting with `-`, bare local paths, other
schemes, control characters, query strings and credentials in the URL (they belong in the
secretRef). `redact_url` strips userinfo, query and fragment and is used in every message.
"""

from __future__ import annotations

import base64
import ipaddress
import re
import urllib.parse
from collections.abc import Iterable

from controller.loopback import is_loopback
from controller.sources import errors

__all__ = ["check_url", "redact_url", "scrub_text", "transport_of"]

MAX_URL_LENGTH = 2048
_SHOWN_LENGTH = 200

_SCHEME_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://(.*)$", re.DOTALL)
_TRANSPORT = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*::")
_SCP = re.compile(
    r"^(?:[A-Za-z0-9._~+-]+@)?"
    r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)"
    r":(?!//)"
)
_HOSTNAME = re.compile(r"^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?$")
_URL_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/\s'\"]*@")
_URL_QUERY = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^\s'\"?#]*)[?#][^\s'\"]*")
_UNPRINTABLE = re.compile(r"[^\x20-\x7e]")


def check_url(url: str, *, allow_local: bool) -> None:
    """Raise `SourceRefusedError` unless `url` is an allowed git source URL."""
    if not isinstance(url, str):
        raise TypeError(f"url must be a str, not {type(url).__name__}")
    why = _refusal(url, allow_local=allow_local)
    if why is not None:
        raise errors.SourceRefusedError(f"source URL {redact_url(url)!r} refused: {why}")


def transport_of(url: str) -> str:
    """The git transport an accepted URL uses: `https`, `http`, `ssh` or `file`."""
    match = _SCHEME_URL.match(url)
    return match.group(1).lower() if match else "ssh"


def redact_url(url: str) -> str:
    """`url` without userinfo, query string or fragment, printable and short; never raises.

    Over-redacts rather than leaks: when an `@` follows a `:` (a password holding `/` or `?`),
    everything up to the last `@` goes.
    """
    text = str(url)
    match = _SCHEME_URL.match(text)
    prefix, rest = (match.group(1) + "://", match.group(2)) if match else ("", text)
    at = rest.rfind("@")
    slash = rest.find("/")
    if at >= 0 and (slash < 0 or at < slash or ":" in rest[:at]):
        rest = rest[at + 1 :]
    rest = re.split(r"[?#]", rest, maxsplit=1)[0]
    shown = _UNPRINTABLE.sub("?", prefix + rest)
    return shown if len(shown) <= _SHOWN_LENGTH else shown[: _SHOWN_LENGTH - 3] + "..."


def scrub_text(text: str, *, url: str, secrets: Iterable[str] = ()) -> str:
    """`text` (git's stderr) with the URL redacted and every secret value removed literally.

    Each secret is removed as written, percent-encoded and base64-encoded; URLs lose userinfo
    and query strings; unprintable characters become `?` (no terminal escapes from a server).
    """
    for secret in secrets:
        if not secret:
            continue
        for form in _forms(secret):
            text = text.replace(form, "***")
    if url:
        text = text.replace(url, redact_url(url))
    text = _URL_USERINFO.sub(r"\1", text)
    text = _URL_QUERY.sub(r"\1", text)
    return _UNPRINTABLE.sub("?", text)


def _forms(secret: str) -> set[str]:
    raw = secret.encode("utf-8", "surrogatepass")
    return {
        secret,
        urllib.parse.quote(secret, safe=""),
        base64.b64encode(raw).decode("ascii"),
    }


def _refusal(url: str, *, allow_local: bool) -> str | None:
    lexical = _lexical_refusal(url)
    if lexical is not None:
        return lexical
    match = _SCHEME_URL.match(url)
    if match:
        return _hierarchical_refusal(url, match.group(1).lower(), allow_local=allow_local)
    if _SCP.match(url):
        return None
    schemes = "https://, ssh:// or user@host:path" + (" or file://" if allow_local else "")
    return f"not a remote URL; use {schemes}"


def _lexical_refusal(url: str) -> str | None:
    if not url:
        return "it is empty"
    if len(url) > MAX_URL_LENGTH:
        return f"it is longer than {MAX_URL_LENGTH} characters"
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url):
        return "it contains whitespace or control characters"
    if url.startswith("-"):
        return "it starts with '-'"
    if _TRANSPORT.match(url):
        return "git remote-helper transports ('<transport>::') are not allowed"
    return None


def _hierarchical_refusal(url: str, scheme: str, *, allow_local: bool) -> str | None:
    if "?" in url or "#" in url:
        return "query strings and fragments are not allowed"
    try:
        parts = urllib.parse.urlsplit(url)
        _ = parts.port
    except ValueError:
        return "it is not a well-formed URL"
    if scheme == "file":
        return _file_refusal(parts, allow_local=allow_local)
    if scheme not in ("https", "http", "ssh"):
        return f"scheme {scheme!r} is not allowed; use https or ssh"
    return _network_refusal(parts, scheme)


def _network_refusal(parts: urllib.parse.SplitResult, scheme: str) -> str | None:
    if "@" in parts.netloc and (scheme != "ssh" or parts.password is not None):
        return "credentials in the URL are not allowed; put them in the secretRef"
    host = parts.hostname or ""
    if not _valid_host(host):
        return "the host name is missing or invalid"
    if scheme == "http" and not is_loopback(host):
        return "plain http is allowed only to loopback; use https"
    return None


def _file_refusal(parts: urllib.parse.SplitResult, *, allow_local: bool) -> str | None:
    if not allow_local:
        return "file:// sources are not allowed by this controller"
    if parts.netloc not in ("", "localhost"):
        return "a file:// URL must not name a host"
    if not parts.path.startswith("/"):
        return "a file:// URL needs an absolute path"
    return None


def _valid_host(host: str) -> bool:
    if _HOSTNAME.match(host):
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True

