"""`VaultTestServer`: a Vault HTTP API on 127.0.0.1, built from /work/shared/VAULT-API.md.

Used by the integration tests of `controller.vault` and, through `set_tokenreview`, by tests
that pair it with the real local control plane. Standard library only; one thread serves,
one thread per connection answers. The helpers below change state directly (they stand in for
an operator's `vault write`); the same state is reachable over HTTP.

    with VaultTestServer.start(root_token="root", clock=ManualClock()) as vault:
        vault.kv2_put(path="shop/db", data={"password": "s3cret"})
        hvac.Client(url=vault.url, token="root")...
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any

from tests.vaultserver import faults, kv, state, wire


class VaultTestServer:
    def __init__(self, *, root_token: str, clock: Callable[[], float],
                 ssl_context: ssl.SSLContext | None) -> None:
        self.core = state.Core(clock=clock)
        self.root_token = root_token
        self.core.mint_token(policies=["root"], ttl=0, max_ttl=None, renewable=False,
                             namespace="", path="auth/token/root", display_name="root",
                             token_id=root_token)
        self._httpd = wire.HTTPServer(("127.0.0.1", 0), self.core)
        if ssl_context is not None:
            self._httpd.socket = ssl_context.wrap_socket(self._httpd.socket, server_side=True,
                                                         do_handshake_on_connect=False)
        port = self._httpd.server_address[1]
        self.url = f"{'https' if ssl_context else 'http'}://127.0.0.1:{port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name="vault-test-server", daemon=True)

    @classmethod
    def start(cls, *, root_token: str = "root", clock: Callable[[], float] | None = None,
              ssl_context: ssl.SSLContext | None = None) -> VaultTestServer:
        server = cls(root_token=root_token, clock=clock or time.time, ssl_context=ssl_context)
        server._thread.start()
        return server

    def stop(self) -> None:
        self.core.stopping.set()
        self._httpd.shutdown()
        self._httpd.close_all()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> VaultTestServer:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # -- observation and time ----------------------------------------------------------------

    @property
    def faults(self) -> faults.Faults:
        return self.core.faults

    @property
    def clock(self) -> Callable[[], float]:
        return self.core.clock

    @clock.setter
    def clock(self, clock: Callable[[], float]) -> None:
        self.core.clock = clock

    @property
    def requests(self) -> list[state.RecordedRequest]:
        with self.core.lock:
            return list(self.core.requests)

    def clear_requests(self) -> None:
        with self.core.lock:
            self.core.requests.clear()

    def count(self, path: str, *, method: str | None = None) -> int:
        """How many recorded requests had this URL path (e.g. "/v1/auth/kubernetes/login")."""
        return sum(1 for r in self.requests
                   if r.path == path and (method is None or r.method == method))

    # -- KV ------------------------------------------------------------------------------------

    def enable_kv(self, *, mount: str, version: int, namespace: str = "") -> None:
        with self.core.lock:
            self.core.add_mount(mount, kind="kv", version=version, namespace=namespace)

    def _kv2(self, mount: str, namespace: str) -> state.Mount:
        return self.core.add_mount(mount, kind="kv", version=2, namespace=namespace)

    def kv2_put(self, *, mount: str = "secret", path: str, data: Mapping[str, Any],
                custom_metadata: Mapping[str, str] | None = None,
                namespace: str = "") -> int:
        with self.core.lock:
            target = self._kv2(mount, namespace)
            now = self.core.clock()
            if custom_metadata is not None:
                kv.kv2_configure(target, path, {"custom_metadata": dict(custom_metadata)},
                                 now=now)
            version: int = kv.kv2_write(target, path, dict(data), now=now)["version"]
            return version

    def kv2_configure(self, *, mount: str = "secret", path: str, namespace: str = "",
                      **fields: Any) -> None:
        """Set metadata: max_versions, cas_required, delete_version_after, custom_metadata."""
        with self.core.lock:
            kv.kv2_configure(self._kv2(mount, namespace), path, fields, now=self.core.clock())

    def _mark(self, action: str, mount: str, path: str, versions: Sequence[int] | None,
              namespace: str) -> None:
        with self.core.lock:
            kv.kv2_mark(self._kv2(mount, namespace), path,
                        list(versions) if versions is not None else None, action=action,
                        now=self.core.clock())

    def kv2_delete_version(self, *, mount: str = "secret", path: str,
                           versions: Sequence[int] | None = None, namespace: str = "") -> None:
        """Soft-delete `versions` (default: the current one) now."""
        self._mark("delete", mount, path, versions, namespace)

    def kv2_undelete_version(self, *, mount: str = "secret", path: str,
                             versions: Sequence[int], namespace: str = "") -> None:
        self._mark("undelete", mount, path, versions, namespace)

    def kv2_destroy_version(self, *, mount: str = "secret", path: str,
                            versions: Sequence[int] | None = None, namespace: str = "") -> None:
        self._mark("destroy", mount, path, versions, namespace)

    def kv1_put(self, *, mount: str = "kv", path: str, data: Mapping[str, Any],
                namespace: str = "") -> None:
        with self.core.lock:
            target = self.core.add_mount(mount, kind="kv", version=1, namespace=namespace)
            target.kv1[path] = dict(data)

    # -- tokens and policies ---------------------------------------------------------------

    def set_policy(self, name: str, rules: Mapping[str, Sequence[str]]) -> None:
        """Create or replace a policy: path pattern -> capabilities. Applies at once."""
        with self.core.lock:
            self.core.policies[name] = {p: frozenset(c) for p, c in rules.items()}

    def create_token(self, *, ttl: int = 3600, policies: Sequence[str] = (),
                     renewable: bool = True, max_ttl: int | None = None, namespace: str = "",
                     no_default_policy: bool = False) -> str:
        if ttl <= 0:
            raise ValueError("ttl must be positive; only the root token never expires")
        with self.core.lock:
            ns = self.core.add_namespace(namespace)
            return self.core.mint_token(
                policies=policies, ttl=ttl, max_ttl=max_ttl, renewable=renewable,
                namespace=ns, path="auth/token/create", display_name="token",
                no_default_policy=no_default_policy).id

    def revoke_token(self, token: str) -> None:
        with self.core.lock:
            self.core.tokens.pop(token, None)

    def revoke_all_tokens(self) -> None:
        """Revoke every token except the root token (e.g. to force re-logins)."""
        with self.core.lock:
            for token_id in list(self.core.tokens):
                if token_id != self.root_token:
                    del self.core.tokens[token_id]

    # -- auth methods -------------------------------------------------------------------------

    def add_kubernetes_role(self, *, mount: str = "kubernetes", role: str,
                            bound_service_account_names: Sequence[str],
                            bound_service_account_namespaces: Sequence[str],
                            audience: str | None = None, token_ttl: int = 3600,
                            token_max_ttl: int = 0, policies: Sequence[str] = (),
                            namespace: str = "") -> None:
        with self.core.lock:
            target = self.core.add_mount(f"auth/{mount}", kind="kubernetes", namespace=namespace)
            target.k8s_roles[role] = state.KubernetesRole(
                name=role, bound_service_account_names=tuple(bound_service_account_names),
                bound_service_account_namespaces=tuple(bound_service_account_namespaces),
                audience=audience, token_ttl=token_ttl, token_max_ttl=token_max_ttl,
                policies=tuple(policies))

    def set_tokenreview(self, review: state.TokenReview) -> None:
        """`review(jwt, audiences)` returns a TokenReview status dict; the default rejects."""
        with self.core.lock:
            self.core.tokenreview = review

    def add_approle(self, *, mount: str = "approle", role_id: str, secret_id: str,
                    token_ttl: int = 3600, token_max_ttl: int = 0,
                    policies: Sequence[str] = (), role_name: str = "app",
                    namespace: str = "") -> None:
        with self.core.lock:
            target = self.core.add_mount(f"auth/{mount}", kind="approle", namespace=namespace)
            target.approles[role_id] = state.AppRole(
                name=role_name, role_id=role_id, secret_id=secret_id, token_ttl=token_ttl,
                token_max_ttl=token_max_ttl, policies=tuple(policies))

