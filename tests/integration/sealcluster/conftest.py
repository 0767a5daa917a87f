"""Fixtures for the `seal`/`sealops` cluster tests (the cluster fixtures come from above)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sealer.kube import client


@pytest.fixture
def make_namespace(kube: Any) -> Iterator[Callable[[], str]]:
    """Creates extra namespaces on demand (e.g. a new key namespace); deletes them afterwards."""
    made: list[str] = []

    def make() -> str:
        name = f"k-{secrets.token_hex(4)}"
        kube.create(client.NAMESPACES, {"metadata": {"name": name}})
        made.append(name)
        return name

    yield make
    for name in made:
        kube.delete(client.NAMESPACES, name)
