"""Building a `Connection` from a kubeconfig file or the in-cluster service account.

`connect(..., impersonate=...)` returns a client acting as another identity; a running
controller derives such clients from its own with `KubeClient.impersonating` instead, so every
GitSync shares one connection pool and one discovery cache.
"""

from __future__ import annotations

import os
from pathlib import Path

from sealer import errors
from sealer import kubeconfig as kubeconfigs
from sealer.kube import client


def load(*, kubeconfig: str | None = None, context: str | None = None) -> client.Connection:
    """Kubeconfig (explicit, $KUBECONFIG or ~/.kube/config), else in-cluster configuration.

    Errors (`ClusterError`) name the missing file, the unknown context or the file that could
    not be loaded, as kubectl's do; never a credential.
    """
    found = kubeconfigs.files(kubeconfig)  # an explicit file that is missing fails here
    where = _check(kubeconfig, context, found) if found else _no_kubeconfig(context)
    import yaml

    try:  # after the checks: they need no kubernetes
        from kubernetes import config as kconfig
        from kubernetes.client import Configuration
    except ModuleNotFoundError:  # `pip install sealops` is offline-only: say what to add
        raise errors.ClusterError(
            "reaching a cluster needs the Kubernetes client: pip install 'sealops[cluster]' "
            "(or work offline with --cert FILE)") from None

    cfg = Configuration()
    if found:
        try:
            kconfig.load_kube_config(  # type: ignore[no-untyped-call]
                config_file=kubeconfig, context=context, client_configuration=cfg,
                persist_config=False)
        except (kconfig.ConfigException, yaml.YAMLError, OSError, ValueError, TypeError) as exc:
            raise errors.ClusterError(
                f"cannot load kubeconfig {where} ({type(exc).__name__})") from None
    else:
        try:
            kconfig.load_incluster_config(  # type: ignore[no-untyped-call]
                client_configuration=cfg)
        except (kconfig.ConfigException, OSError, ValueError, TypeError):
            raise errors.ClusterError(
                "no kubeconfig found ($KUBECONFIG: "
                f"{os.environ.get('KUBECONFIG') or 'unset'}, ~/.kube/config: missing) and not "
                "running in a cluster; pass --kubeconfig or set KUBECONFIG") from None

    def auth() -> str | None:
        value = cfg.get_api_key_with_prefix("BearerToken", alias="authorization")
        if value:
            return str(value)
        if cfg.username or cfg.password:
            return str(cfg.get_basic_auth_token())
        return None

    return client.Connection(server=str(cfg.host), auth=auth, ca_file=cfg.ssl_ca_cert,
                             verify=bool(cfg.verify_ssl), cert_file=cfg.cert_file,
                             key_file=cfg.key_file)


def _check(kubeconfig: str | None, context: str | None, found: tuple[Path, ...]) -> str:
    """The files and context, named for messages; an unknown context fails here, by name."""
    files = ", ".join(str(p) for p in found)
    try:
        selected = kubeconfigs.select(kubeconfig, context)
    except kubeconfigs.UnreadableKubeconfig:
        return files if context is None else f"{files}, context {context!r}"
    if selected.context is None:
        raise errors.ClusterError(f"kubeconfig {files} has no current context; pass --context")
    return f"{files}, context {selected.context!r}"


def _no_kubeconfig(context: str | None) -> str:
    if context is not None:
        raise errors.ClusterError(
            f'kubeconfig context "{context}" does not exist: no kubeconfig file found '
            "(--kubeconfig, $KUBECONFIG, ~/.kube/config)")
    listed = os.environ.get("KUBECONFIG")
    if listed:
        raise errors.ClusterError(f"KUBECONFIG={listed} names no existing file")
    return "in-cluster configuration"


def connect(*, kubeconfig: str | None = None, context: str | None = None,
            timeout: float = 30.0, pool_size: int = 16,
            impersonate: client.Impersonation | None = None) -> client.KubeClient:
    kube = client.KubeClient(load(kubeconfig=kubeconfig, context=context), timeout=timeout,
                             pool_size=pool_size)
    return kube if impersonate is None else kube.impersonating(impersonate)


def context_namespace(*, kubeconfig: str | None = None, context: str | None = None) -> str | None:
    """The namespace the kubeconfig's (current or named) context sets, like kubectl's default;
    None when it sets none, the context is unknown or there is no readable kubeconfig
    (in-cluster). Read by `sealer.kubeconfig`, the one kubeconfig reader of both CLIs."""
    try:
        found = kubeconfigs.read(kubeconfig)
    except errors.ClusterError:
        return None
    name = context or found.current_context
    namespace = (found.contexts.get(name) or {}).get("namespace") if name else None
    return namespace if isinstance(namespace, str) and namespace else None
