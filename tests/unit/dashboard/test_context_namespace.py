"""The dashboard's default namespace is the kubeconfig context's, like kubectl's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sealer import errors
from sealer.kube import config


def _kubeconfig(path: Path) -> str:
    path.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "dev",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "dev", "context": {"cluster": "c", "user": "u",
                                                 "namespace": "shop"}},
                     {"name": "bare", "context": {"cluster": "c", "user": "u"}}]}))
    return str(path)


def test_the_current_context_namespace_is_the_default(tmp_path: Path) -> None:
    assert config.context_namespace(kubeconfig=_kubeconfig(tmp_path / "k")) == "shop"


def test_a_named_context_without_a_namespace_or_an_unknown_one_gives_none(
        tmp_path: Path) -> None:
    path = _kubeconfig(tmp_path / "k")
    assert config.context_namespace(kubeconfig=path, context="bare") is None
    assert config.context_namespace(kubeconfig=path, context="nope") is None


def test_an_unreadable_kubeconfig_gives_none(tmp_path: Path) -> None:
    (tmp_path / "bad").write_text("{not: [valid")
    assert config.context_namespace(kubeconfig=str(tmp_path / "bad")) is None
    assert config.context_namespace(kubeconfig=str(tmp_path / "missing")) is None


def test_a_kubeconfig_that_is_not_yaml_is_a_cluster_error_not_a_parser_traceback(
        tmp_path: Path) -> None:
    (tmp_path / "bad").write_text("{not: [valid")
    with pytest.raises(errors.ClusterError, match=r"cannot load kubeconfig .*bad"):  # the file
        config.load(kubeconfig=str(tmp_path / "bad"))
