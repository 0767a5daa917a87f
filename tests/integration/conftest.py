"""Fixtures for integration tests: one real control plane per session, a namespace per test."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.harness import controlplane


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration/" in item.nodeid:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def control_plane() -> Iterator[controlplane.ControlPlane]:
    cp = controlplane.start()
    try:
        yield cp
    finally:
        cp.stop()


@pytest.fixture(scope="session")
def kubeconfig(control_plane: controlplane.ControlPlane) -> Path:
    return control_plane.kubeconfig


@pytest.fixture(scope="session")
def kube(kubeconfig: Path) -> Iterator[Any]:
    """Our own JSON client (sealer.kube) bound to the session's control plane."""
    from sealer.kube import config

    api = config.connect(kubeconfig=str(kubeconfig))
    try:
        yield api
    finally:
        api.close()


@pytest.fixture
def namespace(kube: Any) -> Iterator[str]:
    """A fresh namespace for one test, deleted afterwards (deletion is not awaited)."""
    from sealer.kube import client

    name = f"t-{secrets.token_hex(4)}"
    kube.create(client.NAMESPACES, {"metadata": {"name": name}})
    try:
        yield name
    finally:
        kube.delete(client.NAMESPACES, name)


# Controller fixtures (a real `sealops controller` process per test) live in their own module.
from tests.integration.controller_fixtures import crds, start_controller  # noqa: E402,F401
