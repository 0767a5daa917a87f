"""Inventory ids, diff, serialisation and merge rules."""

from __future__ import annotations

from typing import Any

import pytest

from controller.apply import inventory
from sealer import errors


def obj(api_version: str, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata}


def test_entry_ids_use_the_flux_format() -> None:
    assert inventory.Entry.from_object(obj("apps/v1", "Deployment", "web", "app")).id == (
        "app_web_apps_Deployment"
    )
    assert inventory.Entry.from_object(obj("v1", "ConfigMap", "cfg", "app")).id == (
        "app_cfg__ConfigMap"
    )
    assert inventory.Entry.from_object(obj("v1", "Namespace", "app")).id == "_app__Namespace"


def test_ids_round_trip_even_when_a_name_holds_underscores() -> None:
    entry = inventory.Entry.from_object(
        obj("rbac.authorization.k8s.io/v1", "ClusterRole", "system:my_role_x")
    )
    parsed = inventory.Entry.from_id(entry.id, "v1")
    assert parsed == entry and parsed.name == "system:my_role_x"
    assert parsed.api_version == "rbac.authorization.k8s.io/v1"


def test_status_round_trip_is_sorted_and_deduplicated() -> None:
    inv = inventory.Inventory.from_objects([
        obj("v1", "ConfigMap", "b", "x"), obj("v1", "ConfigMap", "a", "x"),
        obj("v1", "ConfigMap", "a", "x"),
    ])
    status = inv.to_status()
    assert status == [{"id": "x_a__ConfigMap", "v": "v1"}, {"id": "x_b__ConfigMap", "v": "v1"}]
    assert inventory.Inventory.from_status(status) == inv
    assert inventory.Inventory.from_status(None) == inventory.Inventory()


@pytest.mark.parametrize(
    "status",
    ["nope", [1], [{"id": "a_b__C"}], [{"id": "only_three_fields", "v": "v1"}],
     [{"id": "ns___Kind", "v": "v1"}], [{"id": 5, "v": "v1"}]],
)
def test_malformed_status_is_a_manifest_error(status: object) -> None:
    with pytest.raises(errors.ManifestError, match="inventory"):
        inventory.Inventory.from_status(status)


def test_diff_returns_stale_entries_in_reverse_apply_order_ignoring_versions() -> None:
    old = inventory.Inventory.from_objects([
        obj("v1", "Namespace", "app"),
        obj("apps/v1", "Deployment", "web", "app"),
        obj("v1", "ConfigMap", "cfg", "app"),
        obj("autoscaling/v1", "HorizontalPodAutoscaler", "hpa", "app"),
    ])
    new = inventory.Inventory.from_objects([obj("autoscaling/v2", "HorizontalPodAutoscaler",
                                                "hpa", "app")])
    stale = inventory.diff(old, new)
    assert [str(e) for e in stale] == ["Deployment app/web", "ConfigMap app/cfg", "Namespace app"]


def test_a_failed_reconcile_keeps_old_entries_and_adds_confirmed_applies() -> None:
    old = inventory.Inventory.from_objects([obj("v1", "ConfigMap", "gone-from-git", "a")])
    applied = inventory.Inventory.from_objects([obj("v1", "ConfigMap", "new", "a")])
    merged = old.merge(applied)
    assert {e.name for e in merged.entries} == {"gone-from-git", "new"}


def test_failed_prunes_stay_in_the_inventory_and_other_versions_win_on_merge() -> None:
    applied = inventory.Inventory.from_objects([obj("autoscaling/v2", "HorizontalPodAutoscaler",
                                                    "h", "a")])
    failed = [inventory.Entry.from_object(obj("v1", "ConfigMap", "undeletable", "a"))]
    after = applied.merge(failed)
    assert {e.name for e in after.entries} == {"h", "undeletable"}
    older = inventory.Inventory.from_objects([obj("autoscaling/v1", "HorizontalPodAutoscaler",
                                                  "h", "a")])
    assert older.merge(applied).entries[0].version == "v2"
    assert after.without(failed) == applied
    assert failed[0] in after and failed[0] not in applied
