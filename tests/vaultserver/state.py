"""The Vault test server's state: namespaces, mounts, tokens, policies (ACL) and roles.

Owned by `server.VaultTestServer`; read and changed by the route modules under `Core.lock`.
Time comes from `Core.clock` so TTLs and deletion times can be driven by a `ManualClock`.

ACL (a subset of Vault's): a policy maps path patterns to capabilities (`read`, `list`,
`create`, `update`, `delete`, `patch`, `deny`). A pattern is exact, or ends in `*` (prefix),
and may use `+` for one segment. Rules for the same pattern in several policies are merged; an
exact rule wins over globs, otherwise the most specific glob wins (Vault's priority order,
simplified); `deny` removes everything. The `root` policy allows everything. Policy paths are
relative to the token's namespace. Every token gets the built-in `default` policy (lookup,
renew and revoke itself) unless created with `no_default_policy=True`.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tests.vaultserver import faults

SYSTEM_MAX_TTL = 2_764_800  # 768h, Vault's default max_lease_ttl
DEFAULT_POLICY = {
    "auth/token/lookup-self": frozenset({"read"}),
    "auth/token/renew-self": frozenset({"update"}),
    "auth/token/revoke-self": frozenset({"update"}),
}
ALL_CAPABILITIES = frozenset({"read", "list", "create", "update", "delete", "patch", "sudo"})

TokenReview = Callable[[str, Sequence[str]], Mapping[str, Any]]
"""(jwt, audiences) -> a TokenReview `status`: {authenticated, user: {username, uid}, error}."""


def reject_all(jwt: str, audiences: Sequence[str]) -> Mapping[str, Any]:
    return {"authenticated": False, "error": "no TokenReview function configured"}


def rfc3339(t: float) -> str:
    """Go's time.RFC3339Nano in UTC: trailing zeros of the fraction trimmed."""
    whole = int(t)
    stamp = datetime.datetime.fromtimestamp(whole, tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    nanos = round((t - whole) * 1e9)
    fraction = f"{nanos:09d}".rstrip("0") if nanos else ""
    return f"{stamp}.{fraction}Z" if fraction else f"{stamp}Z"


def go_duration(seconds: float) -> str:
    """Go's Duration.String() for whole seconds: 0s, 45s, 1m30s, 1h0m0s."""
    total = int(seconds)
    if total == 0:
        return "0s"
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")


def parse_duration(value: object) -> float | None:
    """Vault's duration input: an integer number of seconds or a Go duration ("1h30m")."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str) or not value:
        return None
    if value.isdigit():
        return float(value)
    parts = _DURATION.findall(value)
    if "".join(n + u for n, u in parts) != value:
        return None
    scale = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    return sum(float(n) * scale[u] for n, u in parts)


def new_id(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(18)


@dataclasses.dataclass
class Token:
    id: str
    accessor: str
    policies: tuple[str, ...]
    namespace: str
    creation_time: float
    creation_ttl: int
    expire_at: float | None
    max_expire_at: float | None
    renewable: bool
    path: str
    display_name: str
    meta: dict[str, str] | None = None
    explicit_max_ttl: int = 0
    last_renewal: float | None = None


@dataclasses.dataclass
class KvVersion:
    data: dict[str, Any] | None
    created_time: float
    deletion_time: float | None = None
    destroyed: bool = False


@dataclasses.dataclass
class KvSecret:
    created_time: float
    updated_time: float
    versions: dict[int, KvVersion] = dataclasses.field(default_factory=dict)
    current_version: int = 0
    oldest_version: int = 0
    max_versions: int = 0
    cas_required: bool = False
    delete_version_after: float = 0.0
    custom_metadata: dict[str, str] | None = None


@dataclasses.dataclass
class KubernetesRole:
    name: str
    bound_service_account_names: tuple[str, ...]
    bound_service_account_namespaces: tuple[str, ...]
    audience: str | None
    token_ttl: int
    token_max_ttl: int
    policies: tuple[str, ...]


@dataclasses.dataclass
class AppRole:
    name: str
    role_id: str
    secret_id: str
    token_ttl: int
    token_max_ttl: int
    policies: tuple[str, ...]


@dataclasses.dataclass
class Mount:
    path: str  # full path with the namespace and a trailing slash: "ns1/secret/"
    type: str  # kv | token | kubernetes | approle
    namespace: str
    version: int = 2
    max_versions: int = 10
    kv2: dict[str, KvSecret] = dataclasses.field(default_factory=dict)
    kv1: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    k8s_roles: dict[str, KubernetesRole] = dataclasses.field(default_factory=dict)
    approles: dict[str, AppRole] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class RecordedRequest:
    """One request as received; the token value is never kept, only whether one was sent."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    had_token: bool
    namespace: str | None
    time: float


def _pattern_key(pattern: str) -> tuple[int, bool, int, int, str]:
    wild = [i for i, c in enumerate(pattern) if c in "*+"]
    return (wild[0] if wild else len(pattern), not pattern.endswith("*"),
            -pattern.count("+"), len(pattern), pattern)


def _glob_matches(pattern: str, path: str) -> bool:
    body, prefix = (pattern[:-1], True) if pattern.endswith("*") else (pattern, False)
    regex = "/".join("[^/]+" if seg == "+" else re.escape(seg) for seg in body.split("/"))
    return re.fullmatch(regex + (".*" if prefix else ""), path, flags=re.DOTALL) is not None


def capabilities(rules: Mapping[str, frozenset[str]], path: str) -> frozenset[str]:
    if path in rules:
        chosen = rules[path]
    else:
        globs = [p for p in rules if ("*" in p or "+" in p) and _glob_matches(p, path)]
        if not globs:
            return frozenset()
        chosen = rules[max(globs, key=_pattern_key)]
    return frozenset() if "deny" in chosen else chosen


class Core:
    """Everything the routes share. Hold `lock` while reading or changing state."""

    def __init__(self, *, clock: Callable[[], float]) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.faults = faults.Faults()
        self.tokenreview: TokenReview = reject_all
        self.requests: list[RecordedRequest] = []
        self.stopping = threading.Event()
        self.namespaces: set[str] = {""}
        self.mounts: dict[str, Mount] = {}
        self.tokens: dict[str, Token] = {}
        self.policies: dict[str, dict[str, frozenset[str]]] = {"default": dict(DEFAULT_POLICY)}
        self.add_mount("auth/token", kind="token")
        self.add_mount("secret", kind="kv", version=2)

    # -- namespaces and mounts --------------------------------------------------------------

    def add_namespace(self, namespace: str) -> str:
        ns = namespace.strip("/") + "/" if namespace.strip("/") else ""
        if ns and ns not in self.namespaces:
            parent = ns[:-1].rpartition("/")[0]
            if parent:
                self.add_namespace(parent)
            self.namespaces.add(ns)
            self.add_mount("auth/token", kind="token", namespace=ns)
        return ns

    def add_mount(self, path: str, *, kind: str, namespace: str = "", version: int = 2) -> Mount:
        ns = self.add_namespace(namespace)
        full = ns + path.strip("/") + "/"
        mount = self.mounts.get(full)
        if mount is None:
            mount = Mount(path=full, type=kind, namespace=ns, version=version)
            self.mounts[full] = mount
        elif mount.type != kind or (kind == "kv" and mount.version != version):
            raise ValueError(f"mount {full!r} exists as {mount.type} v{mount.version}")
        return mount

    def find_mount(self, path: str) -> tuple[Mount | None, str]:
        probe = path if path.endswith("/") else path + "/"
        for full in sorted(self.mounts, key=len, reverse=True):
            if probe.startswith(full):
                return self.mounts[full], path[len(full):]
        return None, path

    # -- tokens ----------------------------------------------------------------------------

    def mint_token(self, *, policies: Sequence[str], ttl: int, max_ttl: int | None,
                   renewable: bool, namespace: str, path: str, display_name: str,
                   meta: dict[str, str] | None = None, no_default_policy: bool = False,
                   token_id: str | None = None) -> Token:
        now = self.clock()
        names = tuple(policies)
        if not no_default_policy and "default" not in names and "root" not in names:
            names = (*names, "default")
        max_window = max_ttl if max_ttl else SYSTEM_MAX_TTL
        token = Token(
            id=token_id or new_id("hvs."), accessor=new_id(), policies=names,
            namespace=namespace, creation_time=now, creation_ttl=ttl,
            expire_at=now + min(ttl, max_window) if ttl else None,
            max_expire_at=now + max_window if ttl else None, renewable=renewable and ttl > 0,
            path=path, display_name=display_name, meta=meta, explicit_max_ttl=max_ttl or 0)
        self.tokens[token.id] = token
        return token

    def valid_token(self, token_id: str | None) -> Token | None:
        if not token_id:
            return None
        token = self.tokens.get(token_id)
        if token is None:
            return None
        if token.expire_at is not None and self.clock() >= token.expire_at:
            del self.tokens[token_id]  # Vault's expiration manager revokes it
            return None
        return token

    def allows(self, token: Token, path: str, capability: str) -> bool:
        if not path.startswith(token.namespace):
            return False
        if "root" in token.policies:
            return True
        merged: dict[str, frozenset[str]] = {}
        for name in token.policies:
            for pattern, caps in self.policies.get(name, {}).items():
                merged[pattern] = merged.get(pattern, frozenset()) | caps
        granted = capabilities(merged, path[len(token.namespace):])
        if capability == "write":
            return bool(granted & {"create", "update"})
        return capability in granted
