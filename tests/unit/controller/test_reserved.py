"""The shared reserved-target guard, and how the controller tells its own records from lookalikes.

Both materialization paths (SealedSecret -> Secret, VaultSecret -> Secret) go through
`controller.reserved.check`; the key registry and the Vault hash key trust only their records.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from controller import reserved
from controller.keys import stored
from controller.unseal import desired
from controller.vaultsync import objects, target
from sealer.crypto import keys

NOW = datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC)
SYS = "sealops-system"


def _check(*, namespace: str = "shop", name: str = "db", labels: tuple[str, ...] = (),
           annotations: tuple[str, ...] = (), existing: dict[str, Any] | None = None,
           ours: bool = False) -> None:
    reserved.check(namespace=namespace, name=name, labels=labels, annotations=annotations,
                   controller_namespace=SYS, existing=existing, ours=ours)


@pytest.mark.parametrize("label", [
    "sealops.dev/sealing-key", "sealedsecrets.bitnami.com/sealed-secrets-key",
    "sealops.dev/vault-hash-key", "sealops.dev/vault-secret", "sealops.dev/sync",
])
@pytest.mark.parametrize("namespace", ["shop", SYS])
def test_a_reserved_label_is_refused_in_every_namespace(label: str, namespace: str) -> None:
    with pytest.raises(reserved.ReservedTargetError) as info:
        _check(namespace=namespace, labels=(label,))
    assert info.value.reason == "ReservedTarget"
    assert label in str(info.value)


def test_a_reserved_annotation_is_refused() -> None:
    with pytest.raises(reserved.ReservedTargetError):
        _check(annotations=("sealops.dev/created-at",))


@pytest.mark.parametrize("name", [
    "sealops-key-0011223344556677", "sealops-key-", "sealed-secrets-keyabcde",
    "sealed-secrets-key-0011", "sealops-vault-hash-key", "sealops-public-keys",
])
def test_a_reserved_name_is_refused_in_the_controller_namespace_only(name: str) -> None:
    with pytest.raises(reserved.ReservedTargetError):
        _check(namespace=SYS, name=name)
    _check(namespace="shop", name=name)


def test_nothing_existing_is_taken_over_in_the_controller_namespace() -> None:
    live = {"metadata": {"name": "creds", "annotations": {desired.MANAGED: "true"}}}
    with pytest.raises(reserved.ReservedTargetError):
        _check(namespace=SYS, name="creds", existing=live)
    _check(namespace=SYS, name="creds", existing=live, ours=True)
    _check(namespace=SYS, name="creds")


def test_a_sealing_key_secret_is_never_written_anywhere() -> None:
    live = {"metadata": {"name": "db", "labels": {"sealops.dev/sealing-key": "active"}}}
    with pytest.raises(reserved.ReservedTargetError):
        _check(existing=live, ours=True)


def test_ordinary_labels_and_bitnami_handover_annotations_pass() -> None:
    _check(labels=("app", "team.example/tier"), annotations=(desired.MANAGED, desired.PATCH))


def _sealed(*, namespace: str, name: str, template: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "sealops.dev/v1alpha1", "kind": "SealedSecret",
            "metadata": {"name": name, "namespace": namespace, "uid": "u-1"},
            "spec": {"encryptedData": {}, "template": template}}


@pytest.mark.parametrize(("namespace", "name", "template"), [
    (SYS, "sealops-vault-hash-key", {}),
    (SYS, "sealops-key-00112233", {}),
    (SYS, "innocent", {"metadata": {"labels": {"sealops.dev/sealing-key": "active"}}}),
    ("shop", "db", {"metadata": {"labels": {
        "sealedsecrets.bitnami.com/sealed-secrets-key": "active"}}}),
])
def test_the_unseal_path_refuses_reserved_targets_with_reason_reserved_target(
    namespace: str, name: str, template: dict[str, Any]
) -> None:
    sealed = _sealed(namespace=namespace, name=name, template=template)
    with pytest.raises(desired.RefusedError) as info:
        desired.check_target(sealed, None, controller_namespace=SYS)
    assert info.value.reason == "ReservedTarget"


def _vault_secret(namespace: str) -> dict[str, Any]:
    return {"apiVersion": "sealops.dev/v1alpha1", "kind": "VaultSecret",
            "metadata": {"name": "app", "namespace": namespace, "uid": "v-1"}, "spec": {}}


@pytest.mark.parametrize(("namespace", "spec_target"), [
    (SYS, objects.Target(name="sealops-vault-hash-key")),
    (SYS, objects.Target(name="sealops-key-00112233", creation_policy="Orphan")),
    ("shop", objects.Target(name="db", labels=(("sealops.dev/sealing-key", "active"),))),
    ("shop", objects.Target(name="db", annotations=(("sealops.dev/created-at", "x"),))),
])
def test_the_vault_path_refuses_reserved_targets_with_the_same_reason(
    namespace: str, spec_target: objects.Target
) -> None:
    with pytest.raises(target.Refused) as info:
        target.check(_vault_secret(namespace), spec_target, None, controller_namespace=SYS)
    assert info.value.reason == "ReservedTarget"


def test_a_merge_into_a_stores_credentials_or_a_rivals_secret_is_refused() -> None:
    live = {"metadata": {"name": "vault-token", "resourceVersion": "1"}, "type": "Opaque"}
    merge = objects.Target(name="vault-token", creation_policy="Merge")
    with pytest.raises(target.Refused) as info:
        target.check(_vault_secret("shop"), merge, live, controller_namespace=SYS,
                     store_secrets=frozenset({"vault-token"}))
    assert info.value.reason == "StoreSecret"
    with pytest.raises(target.Refused) as info:
        target.check(_vault_secret("shop"), merge, live, controller_namespace=SYS, rival="first")
    assert info.value.reason == "OwnedByAnother"
    assert target.check(_vault_secret("shop"), merge, live, controller_namespace=SYS) == "merge"


def test_the_writers_of_a_secret_are_read_from_its_owner_label_and_merge_record() -> None:
    owner = _vault_secret("shop")
    assert target.writers(owner, None) == set()
    assert target.writers(owner, {"metadata": {"labels": {objects.OWNER_LABEL: "other"}}}) \
        == {"other"}
    assert target.writers(owner, {"metadata": {"annotations": {target.MERGED_BY: "m"}}}) \
        == {"m"}
    assert target.writers(owner, {"metadata": {"annotations": {target.MERGED_BY: "app"}}}) \
        == set()


@pytest.fixture(scope="module")
def generation() -> keys.KeyGeneration:
    return keys.generate(now=NOW, rsa_bits=2048)


def test_a_generation_the_registry_wrote_is_a_record(generation: keys.KeyGeneration) -> None:
    secret = stored.to_secret(generation, namespace=SYS)
    assert stored.not_a_record(secret, stored.from_secret(secret)) is None


@pytest.mark.parametrize("tamper", [
    lambda s: s["metadata"].update(name="evil"),
    lambda s: s["metadata"].update(ownerReferences=[{"kind": "SealedSecret", "uid": "u"}]),
    lambda s: s["metadata"].setdefault("annotations", {}).update(
        {desired.SKIP_OWNER: "true"}),
    lambda s: s["metadata"]["labels"].update({objects.OWNER_LABEL: "app"}),
    lambda s: s.update(type="Opaque"),
])
def test_a_labelled_lookalike_is_not_a_record(generation: keys.KeyGeneration,
                                              tamper: Any) -> None:
    secret = stored.to_secret(generation, namespace=SYS)
    tamper(secret)
    assert stored.not_a_record(secret, stored.from_secret(secret)) is not None
