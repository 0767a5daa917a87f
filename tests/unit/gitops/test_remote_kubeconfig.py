"""Remote cluster kubeconfigs: inline credentials only (controller.gitops.remote). Pure."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import yaml

from controller.gitops import remote, spec

TOKEN = "canary-remote-token-0123"


def kubeconfig(*, cluster: dict[str, Any] | None = None,
               user: dict[str, Any] | None = None) -> bytes:
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}],
        "clusters": [{"name": "k", "cluster": cluster or {
            "server": "https://10.0.0.1:6443",
            "certificate-authority-data": base64.b64encode(b"ca").decode()}}],
        "users": [{"name": "u", "user": user or {"token": TOKEN}}]}).encode()


def test_an_inline_token_kubeconfig_is_read() -> None:
    config = remote.parse(kubeconfig(), where="Secret ns/remote key value")
    assert config.server == "https://10.0.0.1:6443"
    assert config.token == TOKEN and config.ca_data == b"ca"
    assert TOKEN not in repr(config)


@pytest.mark.parametrize(("cluster", "user", "field"), [
    (None, {"exec": {"command": "/bin/sh"}}, "exec"),
    (None, {"tokenFile": "/var/run/secrets/kubernetes.io/serviceaccount/token"}, "tokenFile"),
    (None, {"client-certificate": "/etc/c", "client-key": "/etc/k"}, "client-certificate"),
    (None, {"auth-provider": {"name": "gcp"}}, "auth-provider"),
    (None, {"username": "a", "password": "b"}, "username"),
    ({"server": "https://x", "certificate-authority": "/etc/ca"}, None,
     "certificate-authority"),
    ({"server": "http://10.0.0.1:8080"}, None, "https://"),
    (None, {"client-certificate-data": base64.b64encode(b"c").decode()},
     "token or a client certificate"),
])
def test_anything_that_reads_local_files_or_runs_programs_is_refused(
        cluster: dict[str, Any] | None, user: dict[str, Any] | None, field: str) -> None:
    with pytest.raises(remote.KubeConfigError, match=field) as caught:
        remote.parse(kubeconfig(cluster=cluster, user=user), where="Secret ns/r key value")
    assert "/var/run" not in str(caught.value) and "/etc" not in str(caught.value)


def test_a_kubeconfig_that_is_not_yaml_is_refused_without_echoing_it() -> None:
    with pytest.raises(remote.KubeConfigError) as caught:
        remote.parse(b"{" + TOKEN.encode(), where="Secret ns/r key value")
    assert TOKEN not in str(caught.value)


def test_the_spec_names_the_secret_and_key() -> None:
    parsed = spec.parse({"url": "https://g.example/r.git",
                         "kubeConfig": {"secretRef": {"name": "prod"}}})
    assert parsed.kube_config == ("prod", "value")
