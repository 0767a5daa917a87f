"""A thin, typed JSON client for the Kubernetes API.

`KubeClient.request` sends one request and returns the decoded JSON; the helpers around it
(get, list, create, apply, patch_status, delete) build paths from a `Resource` found through
API discovery. Server-side apply is the only way objects are written by the GitOps engine.

`client.impersonating(Impersonation.service_account(ns, name))` derives a client that sends
every request as that identity (Kubernetes user impersonation, as Flux does). It shares the
connection, its pool and the discovery cache with the client it came from; the API server
checks that the original identity may `impersonate` the target, then authorizes each request
as the target alone. For a ServiceAccount only `Impersonate-User` is sent: the API server then
adds exactly the groups the account's own token carries (`system:serviceaccounts`,
`system:serviceaccounts:<ns>`, `system:authenticated`). Naming them in `Impersonate-Group`
headers would need `impersonate` on `groups`, which RBAC cannot limit to one namespace's group
(and whoever may impersonate any group may impersonate `system:masters`). Explicit groups
(`Impersonation(user=..., groups=...)`) are one header each.
"""

from __future__ import annotations

import copy
import json
import re
import ssl
import threading
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import urllib3
from urllib3._collections import HTTPHeaderDict

from sealer.kube import errors as kerrors

JSON = dict[str, Any]

APPLY_PATCH = "application/apply-patch+yaml"
MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"


@dataclass(frozen=True)
class Resource:
    """Where a kind lives in the API: `/apis/<group>/<version>/[namespaces/<ns>/]<plural>`."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, *, namespace: str | None = None, name: str | None = None,
             subresource: str | None = None) -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{urllib.parse.quote(namespace, safe='')}"
        base += f"/{self.plural}"
        if name is not None:
            base += f"/{urllib.parse.quote(name, safe='')}"
        if subresource:
            base += f"/{subresource}"
        return base


SECRETS = Resource("", "v1", "Secret", "secrets", True)
CONFIGMAPS = Resource("", "v1", "ConfigMap", "configmaps", True)
NAMESPACES = Resource("", "v1", "Namespace", "namespaces", False)
EVENTS = Resource("", "v1", "Event", "events", True)


_HEADER_VALUE = re.compile(r"^[\x21-\x7e]{1,512}$")  # visible ASCII: nothing to smuggle


@dataclass(frozen=True)
class Impersonation:
    """Who a derived client acts as. `ValueError` for a value that cannot be a header."""

    user: str
    groups: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for value in (self.user, *self.groups):
            if not isinstance(value, str) or not _HEADER_VALUE.match(value):
                raise ValueError("an impersonated user or group must be visible ASCII")

    @classmethod
    def service_account(cls, namespace: str, name: str) -> Impersonation:
        """`system:serviceaccount:<ns>:<name>`; the API server adds the groups its own token
        would carry (see the module docstring for why they are not sent)."""
        return cls(user=f"system:serviceaccount:{namespace}:{name}")


@dataclass(frozen=True)
class Connection:
    """Where and how to reach an API server. `auth` returns the Authorization header value."""

    server: str
    auth: Callable[[], str | None]
    ca_file: str | None = None
    verify: bool = True
    cert_file: str | None = None
    key_file: str | None = None


class KubeClient:
    """JSON in, JSON out. Thread-safe; one connection pool per client."""

    def __init__(self, connection: Connection, *, timeout: float = 30.0,
                 pool_size: int = 16) -> None:
        self._conn = connection
        self._timeout = timeout
        ctx = ssl.create_default_context(cafile=connection.ca_file)
        if not connection.verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        if connection.cert_file:
            ctx.load_cert_chain(connection.cert_file, connection.key_file)
        self._pool = urllib3.PoolManager(maxsize=pool_size, block=True, ssl_context=ctx,
                                         retries=False)
        self._discovery: dict[tuple[str, str], Resource] = {}
        self._discovery_lock = threading.Lock()
        self._impersonate: Impersonation | None = None

    def __repr__(self) -> str:
        who = f" as {self._impersonate.user}" if self._impersonate else ""
        return f"<KubeClient {self._conn.server}{who}>"

    @property
    def server(self) -> str:
        return self._conn.server

    @property
    def impersonation(self) -> Impersonation | None:
        return self._impersonate

    def impersonating(self, who: Impersonation) -> KubeClient:
        """A client acting as `who`, sharing this one's connection pool and discovery cache.
        Deriving from a derived client replaces the identity (impersonation does not chain)."""
        if not isinstance(who, Impersonation):
            raise TypeError("impersonating() takes an Impersonation")
        derived = copy.copy(self)
        derived._impersonate = who
        return derived

    def close(self) -> None:
        """Close the pool's idle connections (shared with derived clients, which reconnect)."""
        self._pool.clear()

    def _headers(self, accept: str = "application/json") -> HTTPHeaderDict:
        headers = HTTPHeaderDict({"Accept": accept, "User-Agent": "sealops"})
        token = self._conn.auth()
        if token:
            headers["Authorization"] = token
        if self._impersonate is not None:
            headers["Impersonate-User"] = self._impersonate.user
            for group in self._impersonate.groups:
                headers.add("Impersonate-Group", group)
        return headers

    # -- raw requests ---------------------------------------------------------------------

    def request(self, method: str, path: str, *, query: Mapping[str, str] | None = None,
                body: Any = None, content_type: str = "application/json",
                timeout: float | None = None, what: str | None = None) -> Any:
        url = self._conn.server.rstrip("/") + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        headers = self._headers()
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers["Content-Type"] = content_type
        try:
            resp = self._pool.request(method, url, body=data, headers=headers,
                                      timeout=timeout or self._timeout, preload_content=True)
        except urllib3.exceptions.HTTPError as exc:
            raise kerrors.unreachable(server=self._conn.server, exc=exc,
                                      what=what or f"{method} {path}") from None
        if resp.status >= 400:
            raise kerrors.from_response(status=resp.status, body=resp.data,
                                        what=what or f"{method} {path}")
        if not resp.data:
            return None
        return json.loads(resp.data)

    def stream_lines(self, path: str, *, query: Mapping[str, str],
                     timeout: float | None = None) -> Iterator[JSON]:
        """Yield decoded JSON lines of a watch response until the server closes it."""
        url = self._conn.server.rstrip("/") + path + "?" + urllib.parse.urlencode(query)
        headers = self._headers()
        try:
            resp = self._pool.request("GET", url, headers=headers, preload_content=False,
                                      timeout=urllib3.Timeout(connect=self._timeout, read=timeout))
        except urllib3.exceptions.HTTPError as exc:
            raise kerrors.unreachable(server=self._conn.server, exc=exc,
                                      what=f"watch {path}") from None
        try:
            if resp.status >= 400:
                raise kerrors.from_response(status=resp.status, body=resp.read(),
                                            what=f"watch {path}")
            buf = b""
            for chunk in resp.stream(65536):
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    if line.strip():
                        yield json.loads(line)
        finally:
            resp.release_conn()

    # -- discovery ------------------------------------------------------------------------

    def resource(self, api_version: str, kind: str) -> Resource:
        """The Resource for apiVersion/kind, found through discovery and cached."""
        key = (api_version, kind)
        found = self._discovery.get(key)
        if found is not None:
            return found
        group, _, version = api_version.rpartition("/")
        path = f"/apis/{api_version}" if group else f"/api/{version}"
        try:
            doc = self.request("GET", path, what=f"discovery of {api_version}")
        except kerrors.ApiError as exc:
            if exc.status == 404:
                raise kerrors.ApiError(status=404, reason="NotFound",
                                       what=f"kind {kind} of {api_version} is not served "
                                            "(is its CRD installed?)") from None
            raise
        with self._discovery_lock:
            for res in doc.get("resources", []):
                if "/" in res["name"]:
                    continue
                r = Resource(group, version, res["kind"], res["name"], bool(res["namespaced"]))
                self._discovery[(api_version, r.kind)] = r
        found = self._discovery.get(key)
        if found is None:
            raise kerrors.ApiError(status=404, reason="NotFound",
                                   what=f"kind {kind} of {api_version} is not served")
        return found

    def forget_discovery(self) -> None:
        with self._discovery_lock:
            self._discovery.clear()

    # -- typed helpers --------------------------------------------------------------------

    def get(self, res: Resource, name: str, *, namespace: str | None = None) -> JSON | None:
        """The object, or None when it does not exist."""
        try:
            obj: JSON = self.request("GET", res.path(namespace=namespace, name=name),
                                     what=_what(res, namespace, name))
        except kerrors.ApiError as exc:
            if exc.status == 404:
                return None
            raise
        return obj

    def list(self, res: Resource, *, namespace: str | None = None,
             label_selector: str | None = None) -> list[JSON]:
        query: dict[str, str] = {}
        if label_selector:
            query["labelSelector"] = label_selector
        items: list[JSON] = []
        while True:
            doc = self.request("GET", res.path(namespace=namespace), query=query,
                               what=f"list {res.plural}")
            items.extend(doc.get("items", []))
            cont = (doc.get("metadata") or {}).get("continue")
            if not cont:
                return items
            query["continue"] = cont

    def create(self, res: Resource, obj: JSON, *, namespace: str | None = None) -> JSON:
        name = obj.get("metadata", {}).get("name")
        result: JSON = self.request("POST", res.path(namespace=namespace), body=obj,
                                    what=_what(res, namespace, name))
        return result

    def replace(self, res: Resource, obj: JSON, *, namespace: str | None = None) -> JSON:
        name = obj["metadata"]["name"]
        result: JSON = self.request("PUT", res.path(namespace=namespace, name=name), body=obj,
                                    what=_what(res, namespace, name))
        return result

    def patch(self, res: Resource, name: str, patch: Any, *, namespace: str | None = None,
              content_type: str = MERGE_PATCH, subresource: str | None = None) -> JSON:
        result: JSON = self.request(
            "PATCH", res.path(namespace=namespace, name=name, subresource=subresource),
            body=patch, content_type=content_type, what=_what(res, namespace, name))
        return result

    def apply(self, res: Resource, obj: JSON, *, field_manager: str, force: bool = False,
              dry_run: bool = False, subresource: str | None = None) -> JSON:
        meta = obj["metadata"]
        namespace = meta.get("namespace") if res.namespaced else None
        query = {"fieldManager": field_manager}
        if force:
            query["force"] = "true"
        if dry_run:
            query["dryRun"] = "All"
        result: JSON = self.request(
            "PATCH", res.path(namespace=namespace, name=meta["name"], subresource=subresource),
            query=query, body=obj, content_type=APPLY_PATCH,
            what=_what(res, namespace, meta["name"]))
        return result

    def delete(self, res: Resource, name: str, *, namespace: str | None = None,
               propagation: str = "Background", precondition_uid: str | None = None) -> bool:
        """Delete; False when it was already gone."""
        body: JSON = {"kind": "DeleteOptions", "apiVersion": "v1",
                      "propagationPolicy": propagation}
        if precondition_uid:
            body["preconditions"] = {"uid": precondition_uid}
        try:
            self.request("DELETE", res.path(namespace=namespace, name=name), body=body,
                         what=_what(res, namespace, name))
        except kerrors.ApiError as exc:
            if exc.status == 404:
                return False
            raise
        return True


def _what(res: Resource, namespace: str | None, name: str | None) -> str:
    ident = f"{namespace}/{name}" if namespace else str(name)
    return f"{res.kind} {ident}"
