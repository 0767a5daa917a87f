"""Suite-wide settings: unit tests get the house 2 s timeout unless they say otherwise."""

from __future__ import annotations

import pytest

UNIT_TIMEOUT_S = 2


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/unit/" in item.nodeid.replace("\\", "/") and item.get_closest_marker(
            "timeout"
        ) is None:
            item.add_marker(pytest.mark.timeout(UNIT_TIMEOUT_S))
