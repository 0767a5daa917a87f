"""Scope labels are kubeseal's, and ambiguous parts are refused."""

from __future__ import annotations

import pytest

from sealer.crypto import scope
from tests.unit.crypto.conftest import KUBESEAL, b64, load_json


def test_labels_are_kubeseals() -> None:
    assert scope.label(scope.Scope.STRICT, namespace="ns", name="n") == b"ns/n"
    assert scope.label(scope.Scope.NAMESPACE_WIDE, namespace="ns", name="n") == b"ns"
    assert scope.label(scope.Scope.CLUSTER_WIDE, namespace="ns", name="n") == b""


def test_scope_values_are_kubeseals_spellings() -> None:
    assert [s.value for s in scope.Scope] == ["strict", "namespace-wide", "cluster-wide"]


def test_every_kubeseal_vector_label_matches_ours() -> None:
    for name in ("pub2048", "pub4096"):
        for vector in load_json(KUBESEAL / f"{name}.vectors.json"):
            ours = scope.label(
                scope.Scope(vector["scope"]), namespace=vector["namespace"], name=vector["name"]
            )
            assert ours == b64(vector["label_b64"])


@pytest.mark.parametrize(
    ("namespace", "name"),
    [("a/b", "c"), ("a", "b/c"), ("", "c"), ("a", ""), ("a\x00", "c"), ("a" * 254, "c")],
)
def test_parts_that_would_make_labels_ambiguous_are_refused(namespace: str, name: str) -> None:
    with pytest.raises(ValueError):
        scope.label(scope.Scope.STRICT, namespace=namespace, name=name)


def test_namespace_wide_ignores_the_name_and_cluster_wide_ignores_both() -> None:
    assert scope.label(scope.Scope.NAMESPACE_WIDE, namespace="ns", name="") == b"ns"
    assert scope.label(scope.Scope.CLUSTER_WIDE, namespace="", name="") == b""


def test_a_string_is_not_a_scope() -> None:
    with pytest.raises(TypeError):
        scope.label("strict", namespace="a", name="b")  # type: ignore[arg-type]
