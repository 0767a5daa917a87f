"""Without the optional parts of the install, both CLIs say which extra to add.

`pip install sealops` leaves out the Kubernetes client (`sealops[cluster]`) and the operator
stack (`sealops[controller]`); here they are made unimportable for one test (a None entry in
sys.modules is how Python itself blocks an import), so the real import statements fail.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import controller
from controller import cli
from sealer import errors
from sealer.kube import config


def test_sealops_names_the_controller_extra_when_kopf_is_missing(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "kopf", None)
    monkeypatch.delitem(sys.modules, "controller.operator", raising=False)
    monkeypatch.delattr(controller, "operator", raising=False)
    assert cli.main(["controller", "--namespace", "sealops-system"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == ("error: sealops needs the controller extra (missing Python package "
                           "'kopf'); install it with: pip install 'sealops[controller]'")


def test_an_unrelated_missing_module_is_not_blamed_on_the_extra(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "controller.operator", None)
    monkeypatch.delattr(controller, "operator", raising=False)
    with pytest.raises(ModuleNotFoundError):
        cli.main(["controller", "--namespace", "sealops-system"])


def test_seal_names_the_cluster_extra_when_the_kubernetes_client_is_missing(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    kubeconfig = tmp_path / "config"  # a good kubeconfig: the checks before the import pass
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: a\n"
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        "users: [{name: u, user: {}}]\ncontexts: [{name: a, context: {cluster: c, user: u}}]\n")
    monkeypatch.setitem(sys.modules, "kubernetes", None)
    with pytest.raises(errors.ClusterError, match=r"pip install 'sealops\[cluster\]'"):
        config.load(kubeconfig=str(kubeconfig))
