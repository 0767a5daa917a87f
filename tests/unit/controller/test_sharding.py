"""Shard names, selectors, ownership and peering names (controller.sharding)."""

from __future__ import annotations

import pytest

from controller import cli, sharding


def test_an_unsharded_controller_owns_only_unlabelled_objects() -> None:
    assert sharding.owns({}, None) and sharding.owns(None, None)
    assert not sharding.owns({sharding.SHARD_LABEL: "blue"}, None)
    assert sharding.label_selector(None) == "!sharding.sealops.dev/key"


def test_a_shard_owns_only_objects_labelled_with_its_name() -> None:
    assert sharding.owns({sharding.SHARD_LABEL: "blue"}, "blue")
    assert not sharding.owns({sharding.SHARD_LABEL: "green"}, "blue")
    assert not sharding.owns({}, "blue")
    assert sharding.label_selector("blue") == "sharding.sealops.dev/key=blue"


def test_each_shard_peers_under_its_own_name() -> None:
    assert sharding.peering_name("sealops", None) == "sealops"
    assert sharding.peering_name("sealops", "Blue_1.a") == "sealops-shard-blue-1-a"


@pytest.mark.parametrize("name", ["", "-x", "a b", "x" * 41, "a/b"])
def test_invalid_shard_names_are_refused_by_the_cli(name: str) -> None:
    with pytest.raises(ValueError, match="shard name"):
        sharding.check_name(name)
    assert cli.main(["controller", "--namespace", "s", "--shard", name]) == 2
