"""Drift detection decides when an apply can be skipped (controller.apply.drift)."""

from __future__ import annotations

import copy
from typing import Any

from controller.apply import drift

MANAGER = "sealops"


def deployment(**container: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "ns", "labels": {"sealops.dev/sync": "ns.s"}},
        "spec": {"replicas": 1, "template": {"spec": {"containers": [
            {"name": "c", "image": "nginx", **container}]}}},
    }


def live_of(desired: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """What the API server returns: defaults added, no apiVersion/kind (as in a LIST)."""
    live = copy.deepcopy({k: v for k, v in desired.items() if k not in ("apiVersion", "kind")})
    live["metadata"].update(resourceVersion="7", uid="u", generation=1, managedFields=[
        {"manager": MANAGER, "operation": "Apply", "fieldsType": "FieldsV1", "fieldsV1": fields}])
    live["spec"]["progressDeadlineSeconds"] = 600
    live["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = "Always"
    live["status"] = {"replicas": 0}
    return live


FIELDS: dict[str, Any] = {"f:metadata": {"f:labels": {"f:sealops.dev/sync": {}}},
          "f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers": {
              'k:{"name":"c"}': {".": {}, "f:image": {}, "f:name": {}}}}}}}


def test_an_unchanged_object_with_server_defaults_is_in_sync() -> None:
    desired = deployment()
    assert drift.in_sync(desired, live_of(desired, FIELDS), field_manager=MANAGER)


def test_a_changed_value_is_drift() -> None:
    desired = deployment()
    live = live_of(desired, FIELDS)
    live["spec"]["replicas"] = 3
    assert not drift.in_sync(desired, live, field_manager=MANAGER)


def test_a_field_removed_from_git_is_drift_because_we_still_own_it() -> None:
    desired = deployment()
    fields = copy.deepcopy(FIELDS)
    fields["f:metadata"]["f:labels"]["f:team"] = {}
    live = live_of(desired, fields)
    live["metadata"]["labels"]["team"] = "a"
    assert not drift.in_sync(desired, live, field_manager=MANAGER)


def test_an_object_we_do_not_own_through_apply_is_never_assumed_in_sync() -> None:
    desired = deployment()
    live = live_of(desired, FIELDS)
    live["metadata"]["managedFields"][0]["manager"] = "kubectl-edit"
    assert not drift.in_sync(desired, live, field_manager=MANAGER)


def test_a_defaulted_merge_key_still_matches_its_list_item() -> None:
    desired = deployment(ports=[{"containerPort": 80}])
    fields = copy.deepcopy(FIELDS)
    fields["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"c"}']["f:ports"] = {
        'k:{"containerPort":80,"protocol":"TCP"}': {".": {}, "f:containerPort": {}}}
    live = live_of(desired, fields)
    live["spec"]["template"]["spec"]["containers"][0]["ports"] = [
        {"containerPort": 80, "protocol": "TCP"}]
    assert drift.in_sync(desired, live, field_manager=MANAGER)


def test_two_owned_items_matching_one_desired_item_mean_one_was_removed() -> None:
    desired = deployment(ports=[{"containerPort": 80}])
    fields = copy.deepcopy(FIELDS)
    fields["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"c"}']["f:ports"] = {
        'k:{"containerPort":80,"protocol":"TCP"}': {},
        'k:{"containerPort":80,"protocol":"UDP"}': {}}
    live = live_of(desired, fields)
    live["spec"]["template"]["spec"]["containers"][0]["ports"] = [
        {"containerPort": 80, "protocol": "TCP"}, {"containerPort": 80, "protocol": "UDP"}]
    assert not drift.in_sync(desired, live, field_manager=MANAGER)


def test_a_normalised_quantity_is_not_known_in_sync_so_a_dry_run_decides() -> None:
    desired = deployment(resources={"limits": {"cpu": "0.5"}})
    live = live_of(desired, FIELDS)
    live["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"] = "500m"
    assert not drift.in_sync(desired, live, field_manager=MANAGER)
    dry = copy.deepcopy(live)
    dry["metadata"]["resourceVersion"] = "8"
    dry["metadata"]["managedFields"][0]["time"] = "later"
    assert drift.same_result(dry, live, field_manager=MANAGER)


def test_a_dry_run_that_changes_ownership_is_not_the_same_result() -> None:
    desired = deployment()
    live = live_of(desired, FIELDS)
    dry = copy.deepcopy(live)
    dry["metadata"]["managedFields"][0]["fieldsV1"] = {"f:spec": {}}
    assert not drift.same_result(dry, live, field_manager=MANAGER)


def test_contains_compares_lists_item_by_item_and_never_confuses_bools_with_ints() -> None:
    assert drift.contains({"a": [1, {"b": 2}]}, {"a": [1, {"b": 2, "c": 3}], "d": 4})
    assert not drift.contains({"a": [1]}, {"a": [1, 2]})
    assert not drift.contains({"a": True}, {"a": 1})
    assert drift.contains({"a": {}, "b": None, "c": []}, {})
    assert not drift.contains({"a": "x"}, {})
