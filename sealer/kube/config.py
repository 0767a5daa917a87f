"""Building a `Connection` from a kubeconfig file or the in-cluster service account.

`connect(..., impersonate=...)` returns a client acting as another identity; a running
controller derives such clients from its own with `KubeClient.impersonating` instead, so every
GitSync shares one connection pool and one discovery cache.
"""

from __future__ import annotations

import os

from sealer import errors
from sealer.kube import client


def load(*, kubeconfig: str | None = None, context: str | None = None) -> client.Connection:
    """Kubeconfig (explicit, $KUBECONFIG or ~/.kube/config), else in-cluster configuration."""
    import yaml
    from kubernetes import config as kconfig
    from kubernetes.client import Configuration

    cfg = Configuration()
    try:
        if kubeconfig or os.environ.get("KUBECONFIG") or os.path.exists(
            os.path.expanduser("~/.kube/config")
        ):
            kconfig.load_kube_config(  # type: ignore[no-untyped-call]
                config_file=kubeconfig, context=context, client_configuration=cfg,
                persist_config=False)
        else:
            kconfig.load_incluster_config(  # type: ignore[no-untyped-call]
                client_configuration=cfg)
    except (kconfig.ConfigException, yaml.YAMLError, OSError, ValueError, TypeError) as exc:
        raise errors.ClusterError(
            f"cannot load cluster configuration ({type(exc).__name__}); "
            "set --kubeconfig or KUBECONFIG"
        ) from None

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


def connect(*, kubeconfig: str | None = None, context: str | None = None,
            timeout: float = 30.0, pool_size: int = 16,
            impersonate: client.Impersonation | None = None) -> client.KubeClient:
    kube = client.KubeClient(load(kubeconfig=kubeconfig, context=context), timeout=timeout,
                             pool_size=pool_size)
    return kube if impersonate is None else kube.impersonating(impersonate)


def context_namespace(*, kubeconfig: str | None = None, context: str | None = None) -> str | None:
    """The namespace the kubeconfig's (current or named) context sets, like kubectl's default;
    None when it sets none or there is no kubeconfig (in-cluster)."""
    import yaml
    from kubernetes import config as kconfig

    try:
        contexts, active = kconfig.list_kube_config_contexts(  # type: ignore[no-untyped-call]
            config_file=kubeconfig)
    except (kconfig.ConfigException, yaml.YAMLError, OSError, ValueError, TypeError):
        return None
    chosen = active if context is None else next(
        (c for c in contexts or [] if c.get("name") == context), None)
    namespace = ((chosen or {}).get("context") or {}).get("namespace")
    return namespace if isinstance(namespace, str) and namespace else None
