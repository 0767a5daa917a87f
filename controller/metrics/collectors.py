"""Collectors computed at scrape time: object conditions, sealed values, key generations.

`ObjectCollector` keeps, per object (kind, namespace, name), the last conditions seen on a watch
event and, for SealedSecrets, how many values each key generation opened; a deleted object is
dropped. `KeyCollector` asks a callable (the key registry) for the generations at each scrape,
so the figures never lag behind a reload. Used only by `controller.metrics`.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping

from prometheus_client import registry
from prometheus_client.core import GaugeMetricFamily, Metric

STATUSES = ("True", "False", "Unknown")
ObjectKey = tuple[str, str, str]
# Condition types are ours (Ready, Reconciling, Synced, HistoryRewritten); a status written by
# someone else is cut to this many conditions, each type to this length.
MAX_CONDITIONS = 8
MAX_TYPE_LEN = 64


@dataclasses.dataclass(frozen=True)
class KeyInfo:
    key_id: str            # hex of the public key id (public)
    created_s: float | None  # Unix time the generation was created, when known
    kind: str              # "sealops" or "bitnami"


def conditions_of(raw: object) -> tuple[tuple[str, str], ...]:
    """(type, status) of each well-formed condition; status outside True/False is Unknown."""
    if not isinstance(raw, list):
        return ()
    found: dict[str, str] = {}
    for cond in raw[:MAX_CONDITIONS]:
        if not isinstance(cond, Mapping):
            continue
        kind, status = cond.get("type"), cond.get("status")
        if not isinstance(kind, str) or not kind or len(kind) > MAX_TYPE_LEN or \
                not kind.isidentifier():
            continue
        found[kind] = status if status in STATUSES else "Unknown"
    return tuple(sorted(found.items()))


class ObjectCollector(registry.Collector):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._conditions: dict[ObjectKey, tuple[tuple[str, str], ...]] = {}
        self._values: dict[ObjectKey, Counter[str]] = {}

    def set_conditions(self, key: ObjectKey, conditions: tuple[tuple[str, str], ...]) -> None:
        with self._lock:
            self._conditions[key] = conditions

    def set_values(self, key: ObjectKey, by_key: Mapping[str, int]) -> None:
        with self._lock:
            self._values[key] = Counter({k: v for k, v in by_key.items() if v > 0})

    def forget(self, key: ObjectKey) -> None:
        with self._lock:
            self._conditions.pop(key, None)
            self._values.pop(key, None)

    def conditions(self) -> dict[ObjectKey, tuple[tuple[str, str], ...]]:
        with self._lock:
            return dict(self._conditions)

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            conditions = list(self._conditions.items())
            values: Counter[str] = Counter()
            for counted in self._values.values():
                values.update(counted)
        # One series per object and condition type, for its current status (a change of status
        # ends the old series): a third of the series of one per possible status, and
        # `== 1` / `sum by` queries read the same.
        gauge = GaugeMetricFamily(
            "sealops_condition",
            "Status conditions of every object: 1, with the current status of each type.",
            labels=["kind", "namespace", "name", "type", "status"])
        for (kind, namespace, name), conds in sorted(conditions):
            for ctype, current in conds:
                gauge.add_metric([kind, namespace, name, ctype, current], 1.0)
        yield gauge
        sealed = GaugeMetricFamily(
            "sealops_sealed_values",
            "SealedSecret values by the key generation (key id) that last opened them.",
            labels=["key_id"])
        for key_id, count in sorted(values.items()):
            sealed.add_metric([key_id], float(count))
        yield sealed


class KeyCollector(registry.Collector):
    def __init__(self) -> None:
        self._source: Callable[[], Iterable[KeyInfo]] | None = None
        self._renewal_s: float | None = None

    def watch(self, source: Callable[[], Iterable[KeyInfo]], *, renewal_s: float | None) -> None:
        self._source = source
        self._renewal_s = renewal_s

    def collect(self) -> Iterator[Metric]:
        created = GaugeMetricFamily(
            "sealops_key_generation_created_timestamp_seconds",
            "When each loaded key generation was created (Unix time), by key id.",
            labels=["key_id", "kind"])
        for info in self._infos():
            if info.created_s is not None:
                created.add_metric([info.key_id, info.kind], info.created_s)
        yield created
        if self._renewal_s:
            yield GaugeMetricFamily(
                "sealops_key_renewal_period_seconds",
                "How often a new key generation is due (absent: renewal is off).",
                value=self._renewal_s)

    def _infos(self) -> list[KeyInfo]:
        if self._source is None:
            return []
        try:
            return list(self._source())
        except RuntimeError:  # not loaded yet
            return []
