"""`VaultSession`: one authenticated hvac client per store (hvac lives here and in transport).

Called by `controller.vault.sync.fetch` (through `read`) and by the Vault handlers, which keep
one session per store and drop it when the store changes. The caller supplies `credentials`,
a callable returning what the store's auth method needs (the token, a JWT from the
TokenRequest API, or the AppRole secret id); this module never talks to Kubernetes.

Token life cycle: log in once and cache the token; renew it (`renew-self`) once two thirds of
its lease have passed; log in again when renewal is refused, was capped short of the lease, or
the token is not renewable. A 403 on a read triggers a `lookup-self`: if the token is still
good the 403 is a policy denial (PermissionDenied, no login); otherwise exactly one login and
one retry. So a denied path never causes a login per read.

An `Observer` (optional) hears of every HTTP request (its status code, or `error` when Vault
gave no answer), every login and every token renewal (`Succeeded` or the failure's reason):
the controller's metrics, with the store as the only identity.

Every failure becomes `sealer.errors.VaultError`, naming the mount/path, never the token, a
value or Vault's response body. HTTP statuses map as in `controller.vault.transport`; besides:

    timeout, connection refused/reset, TLS failure      VaultUnavailable    retryable
    malformed, oversized or duplicate-key JSON body     InvalidPayload      retryable

`VaultError`s are raised outside the `except` block that caught the hvac/requests exception,
so no traceback carries `__context__` (hvac keeps `.text`, `.json` and `.url`; requests keeps
the prepared request with its `X-Vault-Token` header).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol

import hvac
import requests

from controller.vault import mapping, store, transport
from sealer import errors

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "RENEW_FRACTION",
    "Observer",
    "VaultSession",
]

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 5.0
RENEW_FRACTION = 2 / 3
MAX_RESPONSE_BYTES = transport.MAX_RESPONSE_BYTES


class Observer(Protocol):
    def request(self, code: str) -> None: ...
    def login(self, outcome: str) -> None: ...
    def renewal(self, outcome: str) -> None: ...


class _Unobserved:
    def request(self, code: str) -> None:
        pass

    def login(self, outcome: str) -> None:
        pass

    def renewal(self, outcome: str) -> None:
        pass


@contextmanager
def _outcome(report: Callable[[str], None]) -> Iterator[None]:
    """Report `Succeeded`, or the reason of the VaultError that ended the block."""
    try:
        yield
    except errors.VaultError as err:
        report(err.reason)
        raise
    report("Succeeded")


class VaultSession:
    """An authenticated hvac client for one store. Thread-safe; token never in `repr`."""

    def __init__(self, config: store.StoreConfig, *, credentials: Callable[[], str],
                 now: Callable[[], float] = time.monotonic, timeout: float = DEFAULT_TIMEOUT_S,
                 ca_pem: str | None = None, observer: Observer | None = None) -> None:
        if config.ca_provider is not None and ca_pem is None:
            raise ValueError("the store uses caProvider: pass the CA bundle it names as ca_pem")
        self._config = config
        self._credentials = credentials
        self._observer: Observer = observer or _Unobserved()
        self._now = now
        self._timeout = timeout
        self._lock = threading.RLock()
        self._expires_at: float | None = None
        self._renew_at: float | None = None
        self._lease = 0.0
        self._renewable = False
        self._has_token = False
        self._logged_in = False
        http = requests.Session()
        pem = ca_pem if ca_pem is not None else config.ca_bundle
        http.mount("http://", transport.DeadlineAdapter())
        http.mount("https://", transport.PinnedCA(pem) if pem is not None
                   else transport.DeadlineAdapter())
        # token="" (not None) so hvac never reads VAULT_TOKEN or ~/.vault-token.
        self._client = hvac.Client(url=config.server, token="", verify=True,
                                   timeout=(timeout, timeout), namespace=config.vault_namespace,
                                   adapter=transport.Adapter, session=http, allow_redirects=False)

    def __repr__(self) -> str:
        return (f"VaultSession(server={self._config.server!r}, "
                f"mount={self._config.kv_mount!r}, auth={self._config.auth.method})")

    # -- calls ------------------------------------------------------------------------------

    def _call(self, what: str, fn: Callable[[], Any], *, detail: bool = False,
              scrub: tuple[str, ...] = ()) -> Any:
        result, code, failure = self._attempt(what, fn, detail=detail, scrub=scrub)
        self._observer.request(code)
        if failure is not None:
            raise failure
        return result

    def _attempt(self, what: str, fn: Callable[[], Any], *, detail: bool,
                 scrub: tuple[str, ...]) -> tuple[Any, str, errors.VaultError | None]:
        """(result, status code or "error", None) or (None, code, the VaultError to raise)."""
        failure: errors.VaultError
        code = "error"
        try:
            result = fn()
            code = str(result.status_code) if isinstance(result, requests.Response) else "200"
            return result, code, None
        except transport.HttpFailure as exc:
            code = str(exc.status)
            failure = transport.translate(exc, what=what, detail=detail, scrub=scrub)
        except transport.Malformed as exc:
            code = "200"  # answered, but not with the JSON object Vault sends
            failure = errors.VaultError(f"Vault sent a malformed response for {what}: {exc}",
                                        reason="InvalidPayload")
        except requests.exceptions.Timeout:
            failure = errors.VaultError(f"Vault timed out after {self._timeout}s on {what}",
                                        reason="VaultUnavailable")
        except requests.exceptions.SSLError:
            failure = errors.VaultError(f"TLS verification of Vault failed on {what}",
                                        reason="VaultUnavailable")
        except requests.exceptions.RequestException as exc:
            failure = errors.VaultError(
                f"cannot reach Vault for {what} ({type(exc).__name__})", reason="VaultUnavailable")
        return None, code, failure

    # -- token life cycle ---------------------------------------------------------------------

    def _set_token(self, token: object, *, ttl: object, renewable: object) -> None:
        if not isinstance(token, str) or not token:
            raise errors.VaultError("Vault login returned no token", reason="InvalidPayload")
        if isinstance(ttl, bool) or not isinstance(ttl, int | float) or ttl < 0:
            raise errors.VaultError("Vault login returned no lease duration",
                                    reason="InvalidPayload")
        self._client.token = token
        self._has_token = True
        now = self._now()
        self._lease = float(ttl)
        self._expires_at = now + ttl if ttl > 0 else None
        self._renew_at = now + ttl * RENEW_FRACTION if ttl > 0 else None
        self._renewable = renewable is True and ttl > 0

    def _auth_block(self, response: Any, what: str) -> Mapping[str, Any]:
        auth = response.get("auth") if isinstance(response, dict) else None
        if not isinstance(auth, dict):
            raise errors.VaultError(f"Vault answered {what} without an auth block",
                                    reason="InvalidPayload")
        return auth

    def _login(self) -> None:
        with _outcome(self._observer.login):
            self._login_once()

    def _login_once(self) -> None:
        auth = self._config.auth
        secret = self._credentials()
        if not isinstance(secret, str) or not secret:
            raise TypeError("credentials() must return a non-empty string")
        self._client.token = ""
        self._has_token = False
        if isinstance(auth, store.TokenAuth):
            self._client.token = secret
            what = "auth/token/lookup-self"
            data = self._call(what, self._client.auth.token.lookup_self, detail=True,
                              scrub=(secret,))
            info = data.get("data") if isinstance(data, dict) else None
            if not isinstance(info, dict):
                raise errors.VaultError(f"Vault answered {what} without data",
                                        reason="InvalidPayload")
            self._set_token(secret, ttl=info.get("ttl"), renewable=info.get("renewable"))
            logger.debug("Vault token accepted for %s", self._config.server)
            return
        if isinstance(auth, store.KubernetesAuth):
            what = f"auth/{auth.mount_path}/login (role {auth.role!r})"
            response = self._call(what, lambda: self._client.auth.kubernetes.login(
                role=auth.role, jwt=secret, use_token=False, mount_point=auth.mount_path),
                detail=True, scrub=(secret,))
        else:
            what = f"auth/{auth.mount_path}/login"
            response = self._call(what, lambda: self._client.auth.approle.login(
                role_id=auth.role_id, secret_id=secret, use_token=False,
                mount_point=auth.mount_path), detail=True, scrub=(secret,))
        block = self._auth_block(response, what)
        self._set_token(block.get("client_token"), ttl=block.get("lease_duration"),
                        renewable=block.get("renewable"))
        self._logged_in = True
        logger.debug("logged in to Vault at %s via %s", self._config.server, what)

    def _renew(self) -> None:
        lease_before = self._lease
        try:
            with _outcome(self._observer.renewal):
                response = self._call("auth/token/renew-self",
                                      self._client.auth.token.renew_self)
        except errors.VaultError as err:
            if err.reason != "PermissionDenied":
                raise
            relogin = True
        else:
            relogin = False
        if relogin:
            self._login()
            return
        block = self._auth_block(response, "auth/token/renew-self")
        ttl = block.get("lease_duration")
        self._set_token(self._client.token, ttl=ttl, renewable=block.get("renewable"))
        if self._lease + 1 < lease_before:
            self._renewable = False  # capped by max_ttl: log in afresh when this one is due
        logger.debug("renewed Vault token for %s", self._config.server)

    def _ensure_token(self) -> None:
        with self._lock:
            now = self._now()
            if not self._has_token or (self._expires_at is not None and now >= self._expires_at):
                self._login()
            elif self._renew_at is not None and now >= self._renew_at:
                self._refresh_early(now)

    def _refresh_early(self, now: float) -> None:
        """Renew (or log in afresh) before expiry; a transient failure keeps the live token."""
        try:
            if self._renewable:
                self._renew()
            else:
                self._login()
        except errors.VaultError as err:
            if not err.retryable or self._expires_at is None or not self._has_token:
                raise
            logger.debug("early Vault token refresh failed (%s); retrying later", err.reason)
            self._renew_at = now + min(30.0, max(0.0, self._expires_at - now) / 2)

    def _token_is_valid(self) -> bool:
        try:
            self._call("auth/token/lookup-self", self._client.auth.token.lookup_self)
        except errors.VaultError as err:
            if err.reason == "PermissionDenied":
                return False
            raise
        return True

    # -- reads ------------------------------------------------------------------------------

    def _read_once(self, path: str, version: int | None) -> mapping.ReadResult:
        mount = self._config.kv_mount
        if self._config.kv_version == 1:
            if version is not None:
                raise errors.VaultError(f"{mount}/{path}: KV v1 has no versions",
                                        reason="InvalidSpec", retryable=False)
            what = f"{mount}/{path}"
            body = self._call(what, lambda: self._client.secrets.kv.v1.read_secret(
                path=path, mount_point=mount))
            return self._result(body, path=path, what=what, kv2=False)
        what = f"{mount}/{path}" + (f" version {version}" if version is not None else "")
        body = self._call(what, lambda: self._client.secrets.kv.v2.read_secret_version(
            path=path, version=version, mount_point=mount, raise_on_deleted_version=True))
        return self._result(body, path=path, what=what, kv2=True)

    @staticmethod
    def _result(body: Any, *, path: str, what: str, kv2: bool) -> mapping.ReadResult:
        data = body.get("data") if isinstance(body, dict) else None
        version: object = None
        if kv2 and isinstance(data, dict):
            meta = data.get("metadata")
            version = meta.get("version") if isinstance(meta, dict) else None
            data = data.get("data")
            if isinstance(version, bool) or not isinstance(version, int):
                data = None
        if not isinstance(data, dict):
            raise errors.VaultError(f"Vault sent a malformed secret for {what}",
                                    reason="InvalidPayload")
        return mapping.ReadResult(path=path, data=data,
                                  version=version if isinstance(version, int) else None)

    def read(self, path: str, *, version: int | None = None) -> mapping.ReadResult:
        """Read one secret (relative to the store's KV mount); `version` pins a KV v2 version.

        Errors leave with a fresh traceback (`mapping.detach`): the frames below hold the
        credentials, the token and response bodies in their locals.
        """
        try:
            return self._read(path, version)
        except errors.VaultError as err:
            failure = err
        raise mapping.detach(failure)

    def _read(self, path: str, version: int | None) -> mapping.ReadResult:
        self._ensure_token()
        try:
            return self._read_once(path, version)
        except errors.VaultError as err:
            if err.reason != "PermissionDenied":
                raise
            denied = err
        with self._lock:
            if self._token_is_valid():
                raise denied
            logger.debug("Vault token no longer valid for %s; logging in again",
                         self._config.server)
            self._login()
        return self._read_once(path, version)

    def check(self) -> None:
        """Log in now unless a live token is cached (a store's Ready condition comes from this).

        Costs no request while the cached token is good: no login per check.
        """
        try:
            self._ensure_token()
        except errors.VaultError as err:
            failure = err
        else:
            return
        raise mapping.detach(failure)

    def close(self) -> None:
        """Revoke a token this session logged in for (best effort) and close connections."""
        with self._lock:
            if self._logged_in and self._has_token:
                try:
                    self._call("auth/token/revoke-self", self._client.auth.token.revoke_self)
                except errors.VaultError:
                    logger.debug("could not revoke the Vault token for %s", self._config.server)
            self._client.token = ""
            self._has_token = False
            self._client.adapter.close()
