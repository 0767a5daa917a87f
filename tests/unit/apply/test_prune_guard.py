"""The mass-prune guard, prune confirmation and owner uids (issue 10 item 8); pure code."""

from __future__ import annotations

from controller.apply import inventory, prune


def test_a_mass_prune_needs_confirmation() -> None:
    guard = prune.Guard()
    assert guard.refusal(count=20, size=20) is not None
    assert "20 of 20" in str(guard.refusal(count=20, size=20))
    assert prune.Guard(confirmed=True).refusal(count=20, size=20) is None


def test_a_few_objects_or_at_most_half_prune_without_confirmation() -> None:
    guard = prune.Guard()
    assert guard.refusal(count=3, size=3) is None
    assert guard.refusal(count=10, size=20) is None
    assert guard.refusal(count=0, size=20) is None


def test_any_prune_after_a_history_rewrite_needs_confirmation() -> None:
    assert prune.Guard(rewritten=True).refusal(count=1, size=20) is not None
    assert prune.Guard(rewritten=True).refusal(count=0, size=20) is None
    assert prune.Guard(rewritten=True, confirmed=True).refusal(count=1, size=20) is None


def test_confirmation_names_exactly_this_revision() -> None:
    sha = "a" * 40
    revision = f"main@sha1:{sha}"
    assert prune.confirms(sha, revision=revision)
    assert prune.confirms(revision, revision=revision)
    assert not prune.confirms("b" * 40, revision=revision)
    assert not prune.confirms("aaaa", revision=revision)
    assert not prune.confirms("", revision=revision)
    assert not prune.confirms(None, revision=revision)


def test_an_object_with_another_owner_uid_is_foreign() -> None:
    label = inventory.OWNER_UID_LABEL
    assert inventory.foreign_owner({label: "other"}, owner_uid="mine") == "other"
    assert inventory.foreign_owner({label: "mine"}, owner_uid="mine") is None
    assert inventory.foreign_owner({}, owner_uid="mine") is None  # applied before the label
    assert inventory.foreign_owner({label: "other"}, owner_uid=None) is None
