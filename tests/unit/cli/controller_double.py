"""The controller's real request logic (`controller.http.server.Endpoints`), in-process.

`seal verify` and `seal reencrypt` reach the controller through a `sealer.kube.controller`
Transport; here that transport calls the controller's own `Endpoints` directly (no socket),
over a real `KeyRegistry` whose only fake is the Kubernetes API it lists key Secrets from.
"""

from __future__ import annotations

import datetime
from typing import Any

from controller import metrics
from controller.http import server
from controller.keys import registry, stored
from sealer.crypto import keys
from sealer.kube import client
from sealer.kube import controller as controllers


class KeySecretsApi:
    """The one API call a KeyRegistry makes: list the key Secrets of its namespace."""

    def __init__(self, secrets: list[dict[str, Any]]) -> None:
        self.secrets = secrets

    def list(self, res: client.Resource, *, namespace: str | None = None,
             label_selector: str | None = None) -> list[dict[str, Any]]:
        assert res is client.SECRETS
        key, _, value = (label_selector or "").partition("=")
        return [s for s in self.secrets if s["metadata"]["labels"].get(key) == value]


class InProcessTransport:
    """A `sealer.kube.controller.Transport` answered by `Endpoints`; records the requests."""

    endpoint = "in-process controller"

    def __init__(self, endpoints: server.Endpoints) -> None:
        self._endpoints = endpoints
        self.requests: list[tuple[str, str]] = []
        self.closed = False

    def request(self, method: str, path: str, *, body: bytes | None = None
                ) -> controllers.Response:
        self.requests.append((method, path))
        if method == "POST":
            code, ctype, payload = self._endpoints.post(path, body or b"")
        else:
            code, ctype, payload = self._endpoints.get(path)
        return controllers.Response(status=code, content_type=ctype.split(";")[0],
                                    body=payload)

    def close(self) -> None:
        self.closed = True


def endpoints_for(*generations: keys.KeyGeneration, rate_limit: int = 600) -> server.Endpoints:
    api = KeySecretsApi([stored.to_secret(g, namespace="keys") for g in generations])
    keyring = registry.KeyRegistry(
        api, namespace="keys", bitnami_compat=False,  # type: ignore[arg-type]
        now=lambda: datetime.datetime.now(datetime.UTC))
    keyring.reload()
    return server.Endpoints(keyring, metrics.Metrics(),
                            limiter=server.RateLimiter(per_minute=rate_limit))
