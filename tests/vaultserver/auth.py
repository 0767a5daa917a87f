"""Auth methods of the Vault test server: the token store, kubernetes and approle logins.

Token store (`auth/token/`): `lookup-self` (GET/POST), `renew-self` (POST; the increment may be
cut short by the token's max TTL, with a warning, as `api-docs/auth/token.mdx` says),
`revoke-self` (POST, 204). Renewing a non-renewable token is 400 `lease is not renewable` (the
doc leaves this code unverified; this is Vault's lease-manager message).

Kubernetes login (`auth/<mount>/login`, `{"role","jwt"}`): unknown role -> 400 `role "x" could
not be found`; a role with `audience` checks the JWT's (unverified) `aud` claim first -> 403
`invalid audience (aud) claim: audience claim does not match any expected audience`; then the
configured TokenReview function decides; not authenticated, or a service account outside the
role's bound names/namespaces -> 403 `permission denied`; a TokenReview function that raises
-> 500 `lookup failed: <exception type>`.

AppRole login (`{"role_id","secret_id"}`): a wrong pair -> 400 `invalid role or secret ID`.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from tests.vaultserver import api, state


def _auth_block(token: state.Token, now: float) -> dict[str, Any]:
    policies = sorted(token.policies)
    lease = int(token.expire_at - now) if token.expire_at is not None else 0
    return {
        "client_token": token.id,
        "accessor": token.accessor,
        "policies": policies,
        "token_policies": policies,
        "identity_policies": [],
        "metadata": token.meta,
        "lease_duration": max(lease, 0),
        "renewable": token.renewable,
        "entity_id": "",
        "token_type": "service",
        "orphan": True,
        "mfa_requirement": None,
        "num_uses": 0,
    }


def _lookup(token: state.Token, now: float) -> dict[str, Any]:
    ttl = int(token.expire_at - now) if token.expire_at is not None else 0
    return {
        "accessor": token.accessor,
        "creation_time": int(token.creation_time),
        "creation_ttl": token.creation_ttl,
        "display_name": token.display_name,
        "entity_id": "",
        "expire_time": state.rfc3339(token.expire_at) if token.expire_at is not None else None,
        "explicit_max_ttl": token.explicit_max_ttl,
        "id": token.id,
        "identity_policies": [],
        "issue_time": state.rfc3339(token.creation_time),
        "last_renewal_time": int(token.last_renewal) if token.last_renewal else None,
        "meta": token.meta,
        "num_uses": 0,
        "orphan": True,
        "path": token.path,
        "policies": sorted(token.policies),
        "renewable": token.renewable,
        "ttl": max(ttl, 0),
        "type": "service",
    }


def _renew(token: state.Token, call: api.Call, now: float) -> api.Reply:
    if not token.renewable or token.expire_at is None or token.max_expire_at is None:
        raise api.ApiError(400, "lease is not renewable")
    increment = call.body.get("increment")
    wanted = state.parse_duration(increment) if increment not in (None, "", 0) else None
    if increment not in (None, "", 0) and wanted is None:
        raise api.ApiError(400, "invalid increment")
    ttl = wanted if wanted is not None else float(token.creation_ttl)
    warnings = None
    if now + ttl > token.max_expire_at:
        capped = token.max_expire_at - now
        warnings = [f'TTL of "{state.go_duration(ttl)}" exceeded the effective max_ttl of '
                    f'"{state.go_duration(capped)}"; TTL value is capped accordingly']
        ttl = capped
    token.expire_at, token.last_renewal = now + ttl, now
    return api.ok(None, auth=_auth_block(token, now), warnings=warnings, mount_type="token")


def token_store(core: state.Core, token: state.Token, rel: str, call: api.Call) -> api.Reply:
    now = core.clock()
    if rel == "lookup-self":
        if call.method not in ("GET", "POST"):
            raise api.unsupported()
        return api.ok(_lookup(token, now), mount_type="token")
    if rel == "renew-self":
        if call.method != "POST":
            raise api.unsupported()
        return _renew(token, call, now)
    if rel == "revoke-self":
        if call.method != "POST":
            raise api.unsupported()
        core.tokens.pop(token.id, None)
        return api.no_content()
    raise api.no_route(call.path)


def _login_reply(token: state.Token, now: float, mount_type: str) -> api.Reply:
    return api.ok(None, auth=_auth_block(token, now), mount_type=mount_type)


def _jwt_audiences(jwt: str) -> list[str] | None:
    parts = jwt.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):
        return None
    aud = claims.get("aud") if isinstance(claims, dict) else None
    if isinstance(aud, str):
        return [aud]
    if isinstance(aud, list) and all(isinstance(a, str) for a in aud):
        return aud
    return []


def _bound(allowed: tuple[str, ...], value: str) -> bool:
    return "*" in allowed or value in allowed


def kubernetes_login(core: state.Core, mount: state.Mount, call: api.Call) -> api.Reply:
    """Runs without `core.lock` held while the TokenReview function is called."""
    role_name, jwt = call.body.get("role"), call.body.get("jwt")
    if not isinstance(role_name, str) or not role_name:
        raise api.ApiError(400, "missing role")
    if not isinstance(jwt, str) or not jwt:
        raise api.ApiError(400, "missing jwt")
    with core.lock:
        role = mount.k8s_roles.get(role_name)
        review = core.tokenreview
    if role is None:
        raise api.ApiError(400, f'role "{role_name}" could not be found')
    audiences = [role.audience] if role.audience else []
    if role.audience:
        claimed = _jwt_audiences(jwt)
        if claimed is None:
            raise api.permission_denied()
        if role.audience not in claimed:
            raise api.ApiError(403, "invalid audience (aud) claim: audience claim does not "
                                    "match any expected audience")
    try:
        status = review(jwt, audiences)
    except Exception as exc:  # the control plane's TokenReview call failed
        raise api.ApiError(500, f"lookup failed: {type(exc).__name__}") from None
    user = status.get("user") or {}
    username = user.get("username", "") if isinstance(user, dict) else ""
    sa_prefix, _, rest = str(username).partition("system:serviceaccount:")
    sa_namespace, _, sa_name = rest.partition(":")
    if (status.get("authenticated") is not True or sa_prefix or not sa_name
            or not _bound(role.bound_service_account_names, sa_name)
            or not _bound(role.bound_service_account_namespaces, sa_namespace)):
        raise api.permission_denied()
    with core.lock:
        token = core.mint_token(
            policies=role.policies, ttl=role.token_ttl, max_ttl=role.token_max_ttl or None,
            renewable=True, namespace=mount.namespace, path=f"{mount.path}login",
            display_name=f"{mount.path.rstrip('/').rpartition('/')[2]}-{sa_namespace}-{sa_name}",
            meta={"role": role.name, "service_account_name": sa_name,
                  "service_account_namespace": sa_namespace, "service_account_secret_name": "",
                  "service_account_uid": str(user.get("uid", ""))})
        return _login_reply(token, core.clock(), "kubernetes")


def approle_login(core: state.Core, mount: state.Mount, call: api.Call) -> api.Reply:
    role_id, secret_id = call.body.get("role_id"), call.body.get("secret_id")
    if not isinstance(role_id, str) or not role_id:
        raise api.ApiError(400, "missing role_id")
    with core.lock:
        role = mount.approles.get(role_id)
        if role is None or secret_id != role.secret_id:
            raise api.ApiError(400, "invalid role or secret ID")
        token = core.mint_token(
            policies=role.policies, ttl=role.token_ttl, max_ttl=role.token_max_ttl or None,
            renewable=True, namespace=mount.namespace, path=f"{mount.path}login",
            display_name="approle", meta={"role_name": role.name})
        return _login_reply(token, core.clock(), "approle")
