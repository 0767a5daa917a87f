"""KV v1 and v2 secrets engines of the Vault test server (`vault-plugin-secrets-kv`).

KV v2 routes under a mount: `data/<p>` (GET ?version=, POST/PUT, PATCH, DELETE), `metadata/<p>`
(GET, LIST, POST, DELETE), `delete/<p>`, `undelete/<p>`, `destroy/<p>` and `config`. Reading a
missing secret or version gives 404 `{"errors":[]}`; a soft-deleted version (deletion_time in
the past) or a destroyed one gives 404 with the full envelope and `data.data: null`
(`path_data.go`); a deletion_time in the future still reads 200. KV v1 routes: `<p>` GET, LIST,
POST/PUT (204), DELETE (204); `lease_duration` comes from a `ttl` key, else 768h.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tests.vaultserver import api, state

KV1_DEFAULT_LEASE = state.SYSTEM_MAX_TTL


def _list_keys(paths: Iterable[str], prefix: str) -> list[str]:
    keys = set()
    for path in paths:
        if path.startswith(prefix) and path != prefix:
            head, slash, _ = path[len(prefix):].partition("/")
            keys.add(head + slash)
    if not keys:
        raise api.ApiError(404)
    return sorted(keys)


def _strings(value: object, what: str) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise api.ApiError(400, f"{what} must be a map of strings")
    return dict(value)


# -- KV v2 -----------------------------------------------------------------------------------


def _version_meta(number: int, v: state.KvVersion, secret: state.KvSecret) -> dict[str, Any]:
    return {
        "created_time": state.rfc3339(v.created_time),
        "custom_metadata": secret.custom_metadata,
        "deletion_time": state.rfc3339(v.deletion_time) if v.deletion_time is not None else "",
        "destroyed": v.destroyed,
        "version": number,
    }


def kv2_write(mount: state.Mount, path: str, data: object, *, now: float,
              cas: object = None) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise api.ApiError(400, "no data provided")
    secret = mount.kv2.get(path)
    if secret is None:
        secret = state.KvSecret(created_time=now, updated_time=now)
    if cas is None and secret.cas_required:
        raise api.ApiError(400, "check-and-set parameter required for this call")
    if cas is not None and cas != secret.current_version:
        raise api.ApiError(400, "check-and-set parameter did not match the current version")
    mount.kv2[path] = secret
    number = secret.current_version + 1
    deletion = now + secret.delete_version_after if secret.delete_version_after > 0 else None
    secret.versions[number] = state.KvVersion(dict(data), created_time=now,
                                              deletion_time=deletion)
    secret.current_version, secret.updated_time = number, now
    secret.oldest_version = secret.oldest_version or number
    keep = secret.max_versions or mount.max_versions
    while len(secret.versions) > keep:
        del secret.versions[min(secret.versions)]
    secret.oldest_version = min(secret.versions)
    return _version_meta(number, secret.versions[number], secret)


def _kv2_read(mount: state.Mount, path: str, call: api.Call, now: float) -> api.Reply:
    secret = mount.kv2.get(path)
    raw = call.query.get("version", "0") or "0"
    if not raw.isdigit():
        raise api.ApiError(400, "error converting input for field \"version\": invalid syntax")
    number = int(raw) or (secret.current_version if secret else 0)
    version = secret.versions.get(number) if secret else None
    if secret is None or version is None:
        raise api.ApiError(404)
    meta = _version_meta(number, version, secret)
    gone = (version.deletion_time is not None and version.deletion_time <= now) \
        or version.destroyed
    if gone:
        raise api.ApiError(404, body=api.envelope({"data": None, "metadata": meta},
                                                  mount_type="kv"))
    return api.ok({"data": version.data, "metadata": meta}, mount_type="kv")


def _versions_arg(call: api.Call) -> list[int]:
    versions = call.body.get("versions")
    if not isinstance(versions, list) or not versions or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in versions):
        raise api.ApiError(400, "no version number provided")
    return versions


def kv2_mark(mount: state.Mount, path: str, versions: list[int] | None, *, action: str,
             now: float) -> None:
    secret = mount.kv2.get(path)
    if secret is None:
        return
    numbers = versions if versions is not None else [secret.current_version]
    for number in numbers:
        version = secret.versions.get(number)
        if version is None:
            continue
        if action == "delete":
            if version.deletion_time is None or version.deletion_time > now:
                version.deletion_time = now
        elif action == "undelete" and not version.destroyed:
            version.deletion_time = None
        elif action == "destroy":
            version.destroyed, version.data = True, None


def _metadata(secret: state.KvSecret) -> dict[str, Any]:
    return {
        "cas_required": secret.cas_required,
        "created_time": state.rfc3339(secret.created_time),
        "current_version": secret.current_version,
        "delete_version_after": state.go_duration(secret.delete_version_after),
        "max_versions": secret.max_versions,
        "oldest_version": secret.oldest_version,
        "updated_time": state.rfc3339(secret.updated_time),
        "custom_metadata": secret.custom_metadata,
        "versions": {str(n): {"created_time": state.rfc3339(v.created_time),
                              "deletion_time": state.rfc3339(v.deletion_time)
                              if v.deletion_time is not None else "",
                              "destroyed": v.destroyed}
                     for n, v in sorted(secret.versions.items())},
    }


def kv2_configure(mount: state.Mount, path: str, fields: dict[str, Any], *, now: float) -> None:
    secret = mount.kv2.setdefault(path, state.KvSecret(created_time=now, updated_time=now))
    if "max_versions" in fields:
        secret.max_versions = int(fields["max_versions"])
    if "cas_required" in fields:
        secret.cas_required = bool(fields["cas_required"])
    if "delete_version_after" in fields:
        seconds = state.parse_duration(fields["delete_version_after"])
        if seconds is None:
            raise api.ApiError(400, "invalid delete_version_after")
        secret.delete_version_after = seconds
    if "custom_metadata" in fields:
        secret.custom_metadata = _strings(fields["custom_metadata"], "custom_metadata")


def _kv2_metadata(mount: state.Mount, path: str, call: api.Call, now: float) -> api.Reply:
    if call.method == "LIST":
        prefix = path if path.endswith("/") or not path else path + "/"
        return api.ok({"keys": _list_keys(mount.kv2, prefix)}, mount_type="kv")
    if call.method == "GET":
        secret = mount.kv2.get(path)
        if secret is None:
            raise api.ApiError(404)
        return api.ok(_metadata(secret), mount_type="kv")
    if call.method == "POST":
        kv2_configure(mount, path, call.body, now=now)
        return api.no_content()
    if call.method == "DELETE":
        mount.kv2.pop(path, None)
        return api.no_content()
    raise api.unsupported()


def _kv2_data(mount: state.Mount, path: str, call: api.Call, now: float) -> api.Reply:
    if call.method == "GET":
        return _kv2_read(mount, path, call, now)
    if call.method in ("POST", "PATCH"):
        data = call.body.get("data")
        options = call.body.get("options") or {}
        cas = options.get("cas") if isinstance(options, dict) else None
        if call.method == "PATCH":
            secret = mount.kv2.get(path)
            current = secret.versions.get(secret.current_version) if secret else None
            if current is None or current.data is None or not isinstance(data, dict):
                raise api.ApiError(404)
            data = {k: v for k, v in {**current.data, **data}.items() if v is not None}
        return api.ok(kv2_write(mount, path, data, now=now, cas=cas), mount_type="kv")
    if call.method == "DELETE":
        kv2_mark(mount, path, None, action="delete", now=now)
        return api.no_content()
    raise api.unsupported()


def kv2(mount: state.Mount, rel: str, call: api.Call, now: float) -> api.Reply:
    route, _, path = rel.partition("/")
    if route == "data":
        return _kv2_data(mount, path.rstrip("/"), call, now)
    if route == "metadata":
        return _kv2_metadata(mount, path if call.method == "LIST" else path.rstrip("/"),
                             call, now)
    if route in ("delete", "undelete", "destroy") and path:
        if call.method != "POST":
            raise api.unsupported()
        kv2_mark(mount, path.rstrip("/"), _versions_arg(call), action=route, now=now)
        return api.no_content()
    if route == "config" and not path:
        if call.method == "GET":
            return api.ok({"max_versions": mount.max_versions, "cas_required": False,
                           "delete_version_after": "0s"}, mount_type="kv")
        if call.method == "POST":
            mount.max_versions = int(call.body.get("max_versions", mount.max_versions))
            return api.no_content()
        raise api.unsupported()
    raise api.no_route(call.path)


# -- KV v1 -----------------------------------------------------------------------------------


def kv1(mount: state.Mount, rel: str, call: api.Call) -> api.Reply:
    if call.method == "LIST":
        return api.ok({"keys": _list_keys(mount.kv1, rel)}, mount_type="kv")
    path = rel.rstrip("/")
    if call.method == "GET":
        data = mount.kv1.get(path)
        if data is None:
            raise api.ApiError(404)
        ttl = state.parse_duration(data.get("ttl")) if "ttl" in data else None
        return api.ok(dict(data), mount_type="kv",
                      lease_duration=int(ttl) if ttl is not None else KV1_DEFAULT_LEASE)
    if call.method == "POST":
        if not path:
            raise api.ApiError(400, "missing path")
        mount.kv1[path] = dict(call.body)
        return api.no_content()
    if call.method == "DELETE":
        mount.kv1.pop(path, None)
        return api.no_content()
    raise api.unsupported()
