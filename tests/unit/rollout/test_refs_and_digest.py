"""Pure parts of rolling: which Secrets a workload uses, and the keyed hash over their data."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from controller.rollout import digest, refs, stamp

KEY = bytes(range(32))


def workload(restart_on: str | None, pod: dict[str, Any],
             kind: str = "Deployment") -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "app", "namespace": "shop"}
    if restart_on is not None:
        meta["annotations"] = {refs.RESTART_ON: restart_on}
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": meta,
            "spec": {"template": {"metadata": {}, "spec": pod}}}


POD = {
    "initContainers": [{"name": "init", "env": [
        {"name": "A", "valueFrom": {"secretKeyRef": {"name": "init-env", "key": "a"}}},
        {"name": "B", "valueFrom": {"configMapKeyRef": {"name": "not-a-secret", "key": "b"}}},
        {"name": "C", "value": "plain"}]}],
    "containers": [{"name": "app", "envFrom": [{"secretRef": {"name": "env-from"}},
                                               {"configMapRef": {"name": "cm"}}]}],
    "ephemeralContainers": [{"name": "debug", "envFrom": [{"secretRef": {"name": "debug"}}]}],
    "volumes": [{"name": "v", "secret": {"secretName": "volume"}},
                {"name": "p", "projected": {"sources": [{"secret": {"name": "projected"}},
                                                        {"configMap": {"name": "cm2"}}]}},
                {"name": "bad", "secret": {"secretName": "../escape"}}],
}


def test_auto_takes_every_secret_the_pod_template_references() -> None:
    assert refs.wanted(workload("auto", POD)) == {"init-env", "env-from", "debug", "volume",
                                                  "projected"}


def test_a_list_names_exactly_those_secrets_and_drops_invalid_names() -> None:
    assert refs.wanted(workload(" db , cache,, Bad_Name, a/b ,db", {})) == {"db", "cache"}


def test_no_annotation_or_an_empty_one_is_no_opt_in() -> None:
    assert refs.wanted(workload(None, POD)) is None
    assert refs.wanted(workload("  ", POD)) is None


def test_hostile_shapes_are_ignored_not_raised() -> None:
    pod = {"containers": "nope", "volumes": [None, {"secret": ["x"]}, {"projected": 3}]}
    assert refs.wanted(workload("auto", pod)) == frozenset()
    assert refs.wanted({"metadata": {"annotations": {refs.RESTART_ON: "auto"}},
                        "spec": None}) == frozenset()


def test_only_apps_v1_workloads_have_a_reference() -> None:
    assert refs.ref_of(workload("auto", {}, kind="StatefulSet")) == refs.WorkloadRef(
        "shop", "StatefulSet", "app")
    assert refs.ref_of({**workload("auto", {}), "kind": "Pod"}) is None
    assert list(stamp.opted_in([workload("auto", {}), workload(None, {})])) == [
        refs.WorkloadRef("shop", "Deployment", "app")]


def test_the_hash_is_stable_and_independent_of_order() -> None:
    one = {"b": {"y": b"2", "x": b"1"}, "a": {"k": b"v"}}
    two = {"a": {"k": b"v"}, "b": {"x": b"1", "y": b"2"}}
    assert digest.secret_hash(one, key=KEY) == digest.secret_hash(two, key=KEY)
    assert digest.secret_hash(one, key=KEY).startswith("v1:")


@pytest.mark.parametrize("other", [
    {"a": {"k": b"w"}},              # a value changed
    {"a": {"k": b"v", "l": b""}},    # an item added
    {"a": {}},                       # emptied
    {"a": None},                     # deleted
    {"b": {"k": b"v"}},              # another Secret
    {"a": {"k": b"v"}, "b": None},   # one more Secret, missing
])
def test_any_change_of_data_or_names_changes_the_hash(other: dict[str, Any]) -> None:
    assert digest.secret_hash(other, key=KEY) != digest.secret_hash({"a": {"k": b"v"}}, key=KEY)


def test_the_hash_is_keyed_and_no_plain_digest_of_the_value() -> None:
    data = {"db": {"password": b"1234"}}
    value = digest.secret_hash(data, key=KEY)
    assert value != digest.secret_hash(data, key=bytes(32))
    hexes = {hashlib.sha256(b"1234").hexdigest(), hashlib.sha256(digest.encode(data)).hexdigest()}
    assert value.removeprefix("v1:") not in hexes
    assert "1234" not in value and b"1234".hex() not in value


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError):
        digest.secret_hash({}, key=b"short")


def test_the_current_stamp_is_read_from_the_pod_template_only() -> None:
    obj = workload("auto", {})
    assert refs.current_hash(obj) is None
    obj["metadata"]["annotations"][refs.HASH_ANNOTATION] = "v1:top-level"
    assert refs.current_hash(obj) is None
    obj["spec"]["template"]["metadata"]["annotations"] = {refs.HASH_ANNOTATION: "v1:abc"}
    assert refs.current_hash(obj) == "v1:abc"
