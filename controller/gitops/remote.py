"""Remote clusters (issue 14 item 4): a GitSync's `spec.kubeConfig.secretRef` names a Secret
(in its own namespace; key `value` unless `key` says otherwise) holding a kubeconfig; every
read and write of the sync (apply, prune, waits, health, discovery) then goes to that cluster.

The kubeconfig is hostile input (HOSTILE-INPUTS F28 class: it must not make the controller read
its own files or run programs), so only self-contained credentials are accepted:

    clusters[].cluster   server (https:// only), certificate-authority-data,
                         insecure-skip-tls-verify
    users[].user         token, or client-certificate-data + client-key-data
    refused              exec, auth-provider, tokenFile, client-certificate, client-key,
                         certificate-authority (file paths), username/password, a proxy-url

The current context (or the only one) picks the cluster and user. Certificate material goes
to a private temporary directory only while the TLS context is built, then is removed; the
token lives only in the client's auth callback. Errors name the field, never a value. With
`spec.serviceAccountName` the sync impersonates that account *on the remote cluster* (Flux's
model); the controller's `--default-service-account` applies to local syncs only.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sealer import errors
from sealer.kube import client
from sealer.manifests import safeyaml

__all__ = ["DEFAULT_KEY", "KUBECONFIG_INVALID", "RemoteConfig", "connect", "parse"]

DEFAULT_KEY = "value"
KUBECONFIG_INVALID = "KubeConfigInvalid"
MAX_BYTES = 256 << 10
_REFUSED_USER = ("exec", "auth-provider", "tokenFile", "client-certificate", "client-key",
                 "username", "password")
_REFUSED_CLUSTER = ("certificate-authority", "proxy-url")


class KubeConfigError(errors.PolicyError):
    reason = KUBECONFIG_INVALID


@dataclass(frozen=True)
class RemoteConfig:
    server: str
    ca_data: bytes | None = field(default=None, repr=False)
    insecure: bool = False
    token: str | None = field(default=None, repr=False)
    cert_data: bytes | None = field(default=None, repr=False)
    key_data: bytes | None = field(default=None, repr=False)

    @property
    def digest(self) -> str:
        """Identifies the credentials (to reuse one client per GitSync until they change)."""
        parts = [self.server.encode(), self.ca_data or b"", b"1" if self.insecure else b"0",
                 (self.token or "").encode(), self.cert_data or b"", self.key_data or b""]
        return hashlib.sha256(b"\0".join(parts)).hexdigest()


def parse(data: bytes, *, where: str) -> RemoteConfig:
    """The checked kubeconfig; `KubeConfigError` naming the field (see the module docstring)."""
    try:
        doc = safeyaml.load_one(data, source=where, max_bytes=MAX_BYTES)
    except errors.ManifestError:
        raise KubeConfigError(f"{where}: not a readable kubeconfig") from None
    context = _context(doc, where)
    cluster = _named(doc, "clusters", "cluster", str(context.get("cluster")), where)
    user = _named(doc, "users", "user", str(context.get("user")), where)
    for key in _REFUSED_CLUSTER:
        if key in cluster:
            raise KubeConfigError(f"{where}: cluster field {key} is not allowed")
    for key in _REFUSED_USER:
        if key in user:
            raise KubeConfigError(f"{where}: user field {key} is not allowed (only token or "
                                  "client-certificate-data/client-key-data)")
    server = cluster.get("server")
    if not isinstance(server, str) or not server.startswith("https://"):
        raise KubeConfigError(f"{where}: cluster server must be an https:// URL")
    cert = _b64(user, "client-certificate-data", where)
    private = _b64(user, "client-key-data", where)
    token = user.get("token")
    if token is not None and not isinstance(token, str):
        raise KubeConfigError(f"{where}: user token must be a string")
    if (cert is None) != (private is None) or (token is None and cert is None):
        raise KubeConfigError(f"{where}: the user needs a token or a client certificate and key")
    return RemoteConfig(server=server.rstrip("/"), ca_data=_b64(cluster,
                        "certificate-authority-data", where),
                        insecure=cluster.get("insecure-skip-tls-verify") is True,
                        token=token, cert_data=cert, key_data=private)


def _context(doc: Mapping[str, Any], where: str) -> Mapping[str, Any]:
    contexts = doc.get("contexts")
    if not isinstance(contexts, list) or not contexts:
        raise KubeConfigError(f"{where}: no contexts")
    current = doc.get("current-context")
    if current is None and len(contexts) == 1:
        current = (contexts[0] or {}).get("name") if isinstance(contexts[0], Mapping) else None
    found = _named(doc, "contexts", "context", str(current), where)
    return found


def _named(doc: Mapping[str, Any], plural: str, singular: str, name: str,
           where: str) -> Mapping[str, Any]:
    for item in doc.get(plural) or []:
        if isinstance(item, Mapping) and item.get("name") == name and \
                isinstance(item.get(singular), Mapping):
            return item[singular]  # type: ignore[no-any-return]
    raise KubeConfigError(f"{where}: {singular} of the current context not found")


def _b64(section: Mapping[str, Any], key: str, where: str) -> bytes | None:
    value = section.get(key)
    if value is None:
        return None
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        raise KubeConfigError(f"{where}: {key} is not valid base64") from None


@contextlib.contextmanager
def _files(remote: RemoteConfig) -> Iterator[dict[str, str | None]]:
    with tempfile.TemporaryDirectory(prefix="sealops-remote-") as tmp:
        paths: dict[str, str | None] = {}
        for name, data in (("ca", remote.ca_data), ("cert", remote.cert_data),
                           ("key", remote.key_data)):
            if data is None:
                paths[name] = None
                continue
            path = Path(tmp) / name
            path.touch(mode=0o600)
            path.write_bytes(data)
            paths[name] = str(path)
        yield paths


def connect(remote: RemoteConfig, *, pool_size: int = 8) -> client.KubeClient:
    """A client of the remote cluster (files removed once its TLS context is built)."""
    token = remote.token

    def auth() -> str | None:
        return f"Bearer {token}" if token else None

    with _files(remote) as paths:
        try:
            return client.KubeClient(client.Connection(
                server=remote.server, auth=auth, ca_file=paths["ca"], verify=not remote.insecure,
                cert_file=paths["cert"], key_file=paths["key"]), pool_size=pool_size)
        except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
            raise KubeConfigError(f"the kubeconfig's TLS material is unusable "
                                  f"({type(exc).__name__})") from None
