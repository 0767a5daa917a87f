"""Fault injection for the Vault test server: sealing, forced statuses, delays, slow drips,
dropped sockets.

Globs are `fnmatch` patterns over the *logical* path: the namespace (if any) followed by the
path after `/v1/`, e.g. `secret/data/shop/*`, `ns1/secret/data/*`, `auth/kubernetes/login`,
`sys/health`. `*` also matches `/`. A rule with `times=N` applies to the next N matching
requests and then disappears; `times=None` applies until `clear()`.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import threading

DEFAULT_MESSAGES = {
    400: "invalid request",
    403: "permission denied",
    404: "",
    405: "unsupported operation",
    412: "required index state not present",
    429: "rate limit quota exceeded",
    500: "internal error",
    502: "upstream error",
    503: "Vault is sealed",
}


@dataclasses.dataclass
class Rule:
    kind: str
    glob: str
    status: int = 0
    retry_after: float | None = None
    errors: tuple[str, ...] = ()
    seconds: float = 0.0
    remaining: int | None = None
    body: bytes = b""
    headers: dict[str, str] = dataclasses.field(default_factory=dict)


class Faults:
    """Switches and rules the server consults on every request.

    `sealed`: 503 `Vault is sealed` on everything but `sys/health`, which reports sealed.
    `uninitialized`: 501 `Vault is not initialized` likewise. `standby`,
    `performance_standby` and `dr_secondary` only change what `sys/health` reports.
    """

    def __init__(self) -> None:
        self.sealed = False
        self.uninitialized = False
        self.standby = False
        self.performance_standby = False
        self.dr_secondary = False
        self._rules: list[Rule] = []
        self._lock = threading.Lock()

    def force_status(self, path_glob: str, status: int, *, retry_after: float | None = None,
                     times: int | None = None, errors: list[str] | None = None) -> None:
        """Answer matching requests with `status` and a JSON error body.

        For 429 with `retry_after`, `Retry-After` and the `X-Ratelimit-*` headers are sent
        (as with Vault's `enable_rate_limit_response_headers`).
        """
        messages = tuple(errors) if errors is not None else tuple(
            m for m in [DEFAULT_MESSAGES.get(status, "error")] if m)
        self._add(Rule("status", path_glob, status=status, retry_after=retry_after,
                       errors=messages, remaining=times))

    def force_response(self, path_glob: str, status: int, *, body: bytes,
                       headers: dict[str, str] | None = None, times: int | None = None) -> None:
        """Answer matching requests with exactly these bytes (hostile or malformed payloads).

        `Content-Type: application/json` is sent unless `headers` says otherwise.
        """
        self._add(Rule("raw", path_glob, status=status, body=body,
                       headers={"Content-Type": "application/json", **(headers or {})},
                       remaining=times))

    def delay(self, seconds: float, path_glob: str = "*", *, times: int | None = None) -> None:
        """Hold matching requests for `seconds` before handling them."""
        self._add(Rule("delay", path_glob, seconds=seconds, remaining=times))

    def drip(self, path_glob: str = "*", *, interval: float = 1.0,
             times: int | None = None) -> None:
        """Send the answer to matching requests one byte every `interval` seconds, status
        line and headers included (a slow-loris Vault: no single read ever times out)."""
        self._add(Rule("drip", path_glob, seconds=interval, remaining=times))

    def drop_connections(self, path_glob: str = "*", *, times: int | None = None) -> None:
        """Close the socket of matching requests without sending any response."""
        self._add(Rule("drop", path_glob, remaining=times))

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
        self.sealed = self.uninitialized = False
        self.standby = self.performance_standby = self.dr_secondary = False

    def _add(self, rule: Rule) -> None:
        if rule.remaining is not None and rule.remaining < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._rules.append(rule)

    def take(self, kind: str, path: str) -> Rule | None:
        """The first live rule of `kind` matching `path`, consuming one of its uses."""
        with self._lock:
            for rule in self._rules:
                if rule.kind == kind and fnmatch.fnmatchcase(path, rule.glob):
                    if rule.remaining is not None:
                        rule.remaining -= 1
                        if rule.remaining == 0:
                            self._rules.remove(rule)
                    return rule
        return None
