"""What a store's auth method and CA need from the cluster: Secret keys and TokenRequests.

Called by `controller.vaultsync.stores` when it builds a `VaultSession`: `for_store` returns the
`credentials` callable the session calls at each login (never per read), `ca_pem` reads a
`caProvider`. References of a namespaced VaultStore resolve in the store's own namespace (the
parser allows no `namespace` there); a ClusterVaultStore's references name theirs explicitly.

A kubernetes-auth login gets a fresh, short-lived service account token from the TokenRequest
API (`POST /api/v1/namespaces/NS/serviceaccounts/NAME/token`); nothing is read from local files.
Every failure is `VaultError(reason="CredentialsUnavailable")` naming the object and key, never
a value.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

from controller.vault import store
from sealer import errors
from sealer.kube import client
from sealer.kube import errors as kerrors

SERVICE_ACCOUNTS = client.Resource("", "v1", "ServiceAccount", "serviceaccounts", True)
TOKEN_LIFETIME_S = 600  # the API's minimum; the token only has to outlive one login


def _unavailable(message: str, *, retryable: bool = True) -> errors.VaultError:
    return errors.VaultError(message, reason="CredentialsUnavailable", retryable=retryable)


def _namespace(ref_namespace: str | None, config: store.StoreConfig) -> str:
    namespace = ref_namespace or config.store_namespace
    if namespace is None:  # the parser requires it for cluster stores; defend anyway
        raise _unavailable("a ClusterVaultStore reference must name its namespace",
                           retryable=False)
    return namespace


def _get(kube: client.KubeClient, res: client.Resource, name: str, *,
         namespace: str) -> dict[str, Any] | None:
    failure: errors.VaultError
    try:
        return kube.get(res, name, namespace=namespace)
    except kerrors.ApiError as exc:
        failure = _unavailable(f"reading {res.kind} {namespace}/{name} failed "
                               f"({exc.status} {exc.reason})")
    raise failure


def object_value(kube: client.KubeClient, ref: store.ObjectKeyRef, *,
                 config: store.StoreConfig, kind: str = "Secret") -> str:
    """The text under `ref.key` of a Secret (base64 `data`) or ConfigMap (`data`)."""
    namespace = _namespace(ref.namespace, config)
    res = client.SECRETS if kind == "Secret" else client.CONFIGMAPS
    ident = f"{kind} {namespace}/{ref.name} key {ref.key!r}"
    obj = _get(kube, res, ref.name, namespace=namespace)
    raw = ((obj or {}).get("data") or {}).get(ref.key)
    if not isinstance(raw, str):
        raise _unavailable(f"{ident} does not exist")
    if kind == "ConfigMap":
        return raw
    failure: errors.VaultError
    try:
        return base64.b64decode(raw, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        failure = _unavailable(f"{ident} is not UTF-8 text")
    raise failure


def _secret(kube: client.KubeClient, ref: store.ObjectKeyRef,
            config: store.StoreConfig) -> Callable[[], str]:
    def read() -> str:
        value = object_value(kube, ref, config=config).strip()
        if not value:
            raise _unavailable(f"Secret {_namespace(ref.namespace, config)}/{ref.name} key "
                               f"{ref.key!r} is empty")
        return value
    return read


def _token_request(kube: client.KubeClient, auth: store.KubernetesAuth,
                   config: store.StoreConfig) -> Callable[[], str]:
    namespace = _namespace(auth.service_account_namespace, config)
    ident = f"ServiceAccount {namespace}/{auth.service_account}"
    spec: dict[str, Any] = {"expirationSeconds": TOKEN_LIFETIME_S}
    if auth.audiences:
        spec["audiences"] = list(auth.audiences)
    body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec}
    path = SERVICE_ACCOUNTS.path(namespace=namespace, name=auth.service_account,
                                 subresource="token")

    def request() -> str:
        failure: errors.VaultError
        try:
            answer = kube.request("POST", path, body=body, what=f"token request for {ident}")
        except kerrors.ApiError as exc:
            failure = _unavailable(f"token request for {ident} failed ({exc.status} "
                                   f"{exc.reason})")
        else:
            token = ((answer or {}).get("status") or {}).get("token")
            if isinstance(token, str) and token:
                return token
            failure = _unavailable(f"token request for {ident} returned no token")
        raise failure
    return request


def for_store(kube: client.KubeClient, config: store.StoreConfig) -> Callable[[], str]:
    """The `credentials` callable of a store's `VaultSession`."""
    auth = config.auth
    if isinstance(auth, store.TokenAuth):
        return _secret(kube, auth.secret_ref, config)
    if isinstance(auth, store.AppRoleAuth):
        return _secret(kube, auth.secret_ref, config)
    return _token_request(kube, auth, config)


def ca_pem(kube: client.KubeClient, config: store.StoreConfig) -> str | None:
    """The PEM a `caProvider` names (None without one; `caBundle` is the session's own)."""
    provider = config.ca_provider
    if provider is None:
        return None
    return object_value(kube, provider.ref, config=config, kind=provider.type)
