"""Every row builder takes any JSON a tenant could store without raising, and what it returns
is bounded one-line text (HOSTILE-INPUTS: every field a tenant writes is hostile)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from controller.dashboard import common, keygens, rows

_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | \
    st.text(max_size=40)
JSON = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)
FIELDS = ["metadata", "spec", "status", "apiVersion", "kind", "involvedObject", "type",
          "reason", "message", "count", "lastTimestamp", "eventTime", "url", "conditions",
          "history", "inventory", "encryptedData", "storeRef", "auth", "kv", "keyId", "data",
          "dataFrom", "entries", "refreshTime", "ref", "suspend"]


def _shaped(depth: int = 2) -> st.SearchStrategy[Any]:
    """Objects whose keys are the ones the builders look for, holding anything."""
    if depth == 0:
        return JSON
    return st.dictionaries(st.sampled_from(FIELDS), _shaped(depth - 1) | JSON, max_size=6)


BUILDERS: list[Callable[[Mapping[str, Any]], Any]] = [
    rows.gitsync_row, rows.sealed_secret_row, rows.vault_secret_row, rows.store_row,
    rows.event_row]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [s for f in dataclasses.fields(value) for s in _strings(getattr(value, f.name))]
    if isinstance(value, tuple | list):
        return [s for item in value for s in _strings(item)]
    return []


@settings(max_examples=60)
@given(obj=_shaped(3))
def test_row_builders_never_raise_and_return_bounded_single_line_text(obj: Any) -> None:
    for build in BUILDERS:
        for text in _strings(build(obj)):
            assert "\n" not in text and "\x00" not in text
            assert len(text) <= 1024


@settings(max_examples=40)
@given(objs=st.lists(_shaped(3), max_size=3))
def test_values_per_key_never_raises_on_hostile_sealed_secrets(objs: list[Any]) -> None:
    counts = keygens.values_per_key(objs)
    assert all(n >= objects >= 1 for n, objects in counts.values())


@given(value=JSON)
def test_display_helpers_never_raise(value: Any) -> None:
    common.display_url(value)
    common.parse_time(value)
    common.condition({"status": {"conditions": [value]}})
