"""Request dispatch of the Vault test server: faults, health, login, token check, ACL, route.

Order, as in Vault's request handling: `sys/health` and logins are unauthenticated; sealed or
uninitialised answers 503/501 to everything else; forced statuses apply; then the token is
checked (missing, unknown or expired -> 403 `permission denied`), then the ACL (403), and only
then the route (unknown -> 404 `no handler for route`).
"""

from __future__ import annotations

from typing import Any

from tests.vaultserver import api, auth, kv, state

HEALTH_CODES = {
    "activecode": 200,
    "standbycode": 429,
    "drsecondarycode": 472,
    "performancestandbycode": 473,
    "sealedcode": 503,
    "uninitcode": 501,
}
_TRUE = {"1", "t", "T", "TRUE", "true", "True", ""}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}
VERSION = "1.17.0"


def _flag(query: dict[str, str], name: str) -> bool:
    if name not in query:
        return False
    value = query[name]
    if value not in _TRUE | _FALSE:
        raise api.ApiError(400, f"bad value for {name} parameter")
    return value in _TRUE


def _health_code(core: state.Core, query: dict[str, str]) -> int:
    codes = dict(HEALTH_CODES)
    for name in codes:
        if name in query:
            if not query[name].isdigit():
                raise api.ApiError(400, f"unable to parse {name} code")
            codes[name] = int(query[name])
    f = core.faults
    if f.uninitialized:
        return codes["uninitcode"]
    if f.sealed:
        return codes["sealedcode"]
    if f.dr_secondary:
        return codes["drsecondarycode"]
    if f.performance_standby:
        return codes["activecode"] if _flag(query, "perfstandbyok") \
            else codes["performancestandbycode"]
    if f.standby:
        return codes["activecode"] if _flag(query, "standbyok") else codes["standbycode"]
    return codes["activecode"]


def health(core: state.Core, call: api.Call) -> api.Reply:
    if call.method != "GET":
        raise api.unsupported()
    code = _health_code(core, call.query)
    f = core.faults
    body: dict[str, Any] = {
        "initialized": not f.uninitialized,
        "sealed": f.sealed or f.uninitialized,
        "standby": f.standby,
        "performance_standby": f.performance_standby,
        "replication_performance_mode": "disabled",
        "replication_dr_mode": "secondary" if f.dr_secondary else "disabled",
        "server_time_utc": int(core.clock()),
        "version": VERSION,
        "enterprise": False,
        "echo_duration_ms": 0,
        "clock_skew_ms": 0,
    }
    if not body["sealed"]:
        body.update(cluster_name="vault-test-server", cluster_id="00000000-test")
    return api.Reply(code, body)


def _forced(core: state.Core, call: api.Call) -> api.Reply | None:
    rule = core.faults.take("status", call.path)
    if rule is None:
        return None
    reply = api.Reply(rule.status, {"errors": list(rule.errors)})
    if rule.retry_after is not None:
        reply.headers.update({"Retry-After": str(int(rule.retry_after)),
                              "X-Ratelimit-Limit": "10", "X-Ratelimit-Remaining": "0",
                              "X-Ratelimit-Reset": str(int(rule.retry_after))})
    return reply


def _capability(call: api.Call) -> str:
    return {"GET": "read", "LIST": "list", "POST": "write", "DELETE": "delete",
            "PATCH": "patch"}.get(call.method, "read")


def _login(core: state.Core, call: api.Call) -> api.Reply | None:
    with core.lock:
        mount, rel = core.find_mount(call.path)
    if mount is None or rel.rstrip("/") != "login" or mount.type not in ("kubernetes",
                                                                         "approle"):
        return None
    if call.method != "POST":
        raise api.unsupported()
    if mount.type == "kubernetes":
        return auth.kubernetes_login(core, mount, call)
    return auth.approle_login(core, mount, call)


def _authenticated(core: state.Core, call: api.Call) -> api.Reply:
    with core.lock:
        token = core.valid_token(call.token)
        if token is None or not core.allows(token, call.path, _capability(call)):
            raise api.permission_denied()
        mount, rel = core.find_mount(call.path)
        if mount is None:
            raise api.no_route(call.path)
        if mount.type == "token":
            return auth.token_store(core, token, rel, call)
        if mount.type == "kv" and mount.version == 2:
            return kv.kv2(mount, rel, call, core.clock())
        if mount.type == "kv":
            return kv.kv1(mount, rel, call)
        raise api.no_route(call.path)


def handle(core: state.Core, call: api.Call) -> api.Reply:
    """One logical request -> one reply; route errors become Vault's error bodies."""
    try:
        forced = _forced(core, call)
        if forced is not None:
            return forced
        if call.path[len(call.namespace):].rstrip("/") == "sys/health":
            return health(core, call)
        if core.faults.uninitialized:
            return api.Reply(501, {"errors": ["Vault is not initialized"]})
        if core.faults.sealed:
            return api.Reply(503, {"errors": ["Vault is sealed"]})
        login = _login(core, call)
        return login if login is not None else _authenticated(core, call)
    except api.ApiError as err:
        return err.reply()
    except (TypeError, ValueError, KeyError, AttributeError):
        # Vault answers odd input with 400/500, never a dropped connection.
        return api.Reply(500, {"errors": ["internal error"]})
