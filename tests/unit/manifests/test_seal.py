"""seal: Secret -> SealedSecret -> Secret, merge, and re-seal that keeps the proven scope."""

from __future__ import annotations

import base64
import copy
import json
import os
from typing import Any

import pytest

from sealer import errors
from sealer.crypto import envelope, keyring, keys, plaintext, scope
from sealer.manifests import safeyaml, seal, secrets

from .conftest import KUBESEAL

CLUSTER = secrets.CLUSTER_WIDE_ANNOTATION
NAMESPACE = secrets.NAMESPACE_WIDE_ANNOTATION
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def make_secret(
    data: dict[str, bytes] | None = None,
    *,
    name: str = "db",
    namespace: str | None = "prod",
    annotations: dict[str, str] | None = None,
    **fields: Any,
) -> secrets.SecretManifest:
    values = {"password": b"s3cret", "user": b"admin"} if data is None else data
    return secrets.SecretManifest(
        name=name,
        namespace=namespace,
        annotations=annotations or {},
        data={k: plaintext.SecretBytes(v) for k, v in values.items()},
        **fields,
    )


def opened(secret_doc: dict[str, Any]) -> dict[str, bytes]:
    return {k: base64.b64decode(v) for k, v in secret_doc["data"].items()}


def blob(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


# --- the document ---------------------------------------------------------------------------------


def test_a_sealed_secret_carries_metadata_into_the_template(generation: keys.KeyGeneration) -> None:
    secret = make_secret(
        labels={"app": "db"},
        annotations={"team": "a", LAST_APPLIED: "{}"},
        type="kubernetes.io/basic-auth",
        immutable=True,
    )
    doc = seal.seal_secret(secret, public=generation.public(), scope=None)
    assert list(doc) == ["apiVersion", "kind", "metadata", "spec"]
    assert doc["apiVersion"] == "sealops.dev/v1alpha1"
    assert doc["kind"] == "SealedSecret"
    assert doc["metadata"] == {"name": "db", "namespace": "prod"}
    assert list(doc["spec"]["encryptedData"]) == ["password", "user"]
    assert doc["spec"]["template"] == {
        "metadata": {"labels": {"app": "db"}, "annotations": {"team": "a"}},
        "immutable": True,
        "type": "kubernetes.io/basic-auth",
    }


def test_the_last_applied_annotation_never_reaches_the_sealed_secret_l52(
    generation: keys.KeyGeneration,
) -> None:
    # A SecretManifest built directly (not parsed) still gets the annotation dropped.
    secret = make_secret(annotations={LAST_APPLIED: '{"data": {"password": "czNjcmV0"}}'})
    doc = seal.seal_secret(secret, public=generation.public(), scope=None)
    assert LAST_APPLIED not in json.dumps(doc)
    assert "czNjcmV0" not in json.dumps(doc)


def test_sealing_twice_differs_only_in_ciphertexts(generation: keys.KeyGeneration) -> None:
    secret = make_secret(labels={"b": "2", "a": "1"}, annotations={"z": "1", "y": "2"})
    first = seal.seal_secret(secret, public=generation.public(), scope=None)
    second = seal.seal_secret(secret, public=generation.public(), scope=None)
    assert first["spec"]["encryptedData"] != second["spec"]["encryptedData"]
    for doc in (first, second):
        doc["spec"]["encryptedData"] = dict.fromkeys(doc["spec"]["encryptedData"], "X")
    assert safeyaml.dump([first]) == safeyaml.dump([second])
    assert list(first["spec"]["template"]["metadata"]["labels"]) == ["a", "b"]


def test_the_scope_annotation_of_the_secret_is_honoured(generation: keys.KeyGeneration) -> None:
    secret = make_secret(annotations={NAMESPACE: "true"})
    doc = seal.seal_secret(secret, public=generation.public(), scope=None)
    assert doc["metadata"]["annotations"] == {NAMESPACE: "true"}
    assert doc["spec"]["template"]["metadata"]["annotations"] == {NAMESPACE: "true"}


def test_an_explicit_scope_wins_over_the_annotations(generation: keys.KeyGeneration) -> None:
    secret = make_secret(annotations={CLUSTER: "true", "x": "y"})
    doc = seal.seal_secret(secret, public=generation.public(), scope=scope.Scope.STRICT)
    assert "annotations" not in doc["metadata"]
    assert doc["spec"]["template"]["metadata"]["annotations"] == {"x": "y"}


@pytest.mark.parametrize("sealed_scope", [scope.Scope.STRICT, scope.Scope.NAMESPACE_WIDE])
def test_a_scope_that_needs_a_namespace_refuses_a_secret_without_one(
    generation: keys.KeyGeneration, sealed_scope: scope.Scope
) -> None:
    with pytest.raises(errors.ManifestError, match="secret must declare a namespace"):
        seal.seal_secret(
            make_secret(namespace=None), public=generation.public(), scope=sealed_scope
        )


def test_a_cluster_wide_secret_needs_no_namespace(
    generation: keys.KeyGeneration, ring: keyring.Keyring
) -> None:
    secret = make_secret(namespace=None)
    doc = seal.seal_secret(secret, public=generation.public(), scope=scope.Scope.CLUSTER_WIDE)
    assert doc["metadata"] == {"name": "db", "annotations": {CLUSTER: "true"}}
    assert opened(seal.unseal(doc, keyring=ring))["password"] == b"s3cret"


def test_the_label_is_never_built_from_a_hostile_name() -> None:
    with pytest.raises(errors.InvalidNameError):
        seal.sealed_label(scope.Scope.STRICT, namespace="prod", name="a/b")
    with pytest.raises(errors.InvalidNameError):
        seal.sealed_label(scope.Scope.CLUSTER_WIDE, namespace="", name="db")


# --- formats --------------------------------------------------------------------------------------


def test_the_bitnami_kind_writes_v1_envelopes(
    generation: keys.KeyGeneration, ring: keyring.Keyring
) -> None:
    doc = seal.seal_secret(make_secret(), public=generation.public(), scope=None, kind="bitnami")
    assert doc["apiVersion"] == "bitnami.com/v1alpha1"
    for value in doc["spec"]["encryptedData"].values():
        assert blob(value)[:2] == (256).to_bytes(2, "big")
    assert opened(seal.unseal(doc, keyring=ring)) == {"password": b"s3cret", "user": b"admin"}


def test_the_bitnami_kind_refuses_v2_envelopes(generation: keys.KeyGeneration) -> None:
    with pytest.raises(ValueError, match="v1"):
        seal.seal_secret(
            make_secret(), public=generation.public(), scope=None, kind="bitnami", version=2
        )


def test_a_bare_kubeseal_certificate_gives_v1_envelopes(kubeseal_key: keys.LegacyKey) -> None:
    doc = seal.seal_secret(make_secret(), public=kubeseal_key.public(), scope=None)
    value = blob(doc["spec"]["encryptedData"]["password"])
    assert envelope.envelope_key_id(value) is None
    ring = keyring.Keyring([kubeseal_key])
    assert opened(seal.unseal(doc, keyring=ring))["password"] == b"s3cret"


@pytest.mark.parametrize("suite", [envelope.Suite.PQ, envelope.Suite.X25519])
def test_v2_envelopes_name_the_suite_and_key(
    generation: keys.KeyGeneration, suite: envelope.Suite
) -> None:
    doc = seal.seal_secret(make_secret(), public=generation.public(), scope=None, suite=suite)
    value = blob(doc["spec"]["encryptedData"]["user"])
    assert value[:4] == b"SO\x02" + bytes([suite])
    assert envelope.envelope_key_id(value) == generation.key_id


# --- Y25 binary data round trips ------------------------------------------------------------------


@pytest.mark.parametrize("version", [1, 2])
def test_binary_values_round_trip_byte_exact(
    generation: keys.KeyGeneration, ring: keyring.Keyring, version: int
) -> None:
    data = {
        "all-bytes": bytes(range(256)),
        "invalid-utf8": b"\xff\xfe\xc0\xaf\xed\xa0\x80",
        "empty": b"",
        "nul": b"\x00",
        "random": os.urandom(4096),
    }
    doc = seal.seal_secret(
        make_secret(data), public=generation.public(), scope=None, version=version
    )
    assert opened(seal.unseal(doc, keyring=ring)) == data


def test_a_one_mebibyte_value_round_trips(
    generation: keys.KeyGeneration, ring: keyring.Keyring
) -> None:
    big = os.urandom(1 << 20)
    doc = seal.seal_secret(make_secret({"big": big}), public=generation.public(), scope=None)
    assert opened(seal.unseal(doc, keyring=ring))["big"] == big


# --- merge ----------------------------------------------------------------------------------------


def test_merge_into_adds_and_replaces_items_and_keeps_the_rest(
    generation: keys.KeyGeneration,
) -> None:
    existing = seal.seal_secret(
        make_secret(labels={"app": "db"}), public=generation.public(), scope=None
    )
    existing["metadata"]["labels"] = {"owner": "me"}
    before = copy.deepcopy(existing)
    merged = seal.merge_into(existing, {"user": "bmV3", "extra": "ZXh0cmE="})
    assert existing == before  # the input is not modified
    assert list(merged["spec"]["encryptedData"]) == ["extra", "password", "user"]
    assert merged["spec"]["encryptedData"]["user"] == "bmV3"
    assert (
        merged["spec"]["encryptedData"]["password"] == before["spec"]["encryptedData"]["password"]
    )
    assert merged["metadata"]["labels"] == {"owner": "me"}
    assert merged["spec"]["template"] == before["spec"]["template"]


def test_merge_into_refuses_a_bad_item_key(generation: keys.KeyGeneration) -> None:
    existing = seal.seal_secret(make_secret(), public=generation.public(), scope=None)
    with pytest.raises(errors.ManifestError):
        seal.merge_into(existing, {"../x": "AAAA"})


# --- S13 wrong-scope replay -----------------------------------------------------------------------


@pytest.fixture
def strict_doc(generation: keys.KeyGeneration) -> dict[str, Any]:
    return seal.seal_secret(make_secret(), public=generation.public(), scope=scope.Scope.STRICT)


def test_a_copy_in_another_namespace_does_not_open(
    strict_doc: dict[str, Any], ring: keyring.Keyring
) -> None:
    strict_doc["metadata"]["namespace"] = "attacker"
    with pytest.raises(errors.UnsealError):
        seal.unseal(strict_doc, keyring=ring)


def test_a_renamed_copy_does_not_open(strict_doc: dict[str, Any], ring: keyring.Keyring) -> None:
    strict_doc["metadata"]["name"] = "other"
    with pytest.raises(errors.UnsealError):
        seal.unseal(strict_doc, keyring=ring)


@pytest.mark.parametrize("annotation", [CLUSTER, NAMESPACE])
def test_a_widening_annotation_on_a_copy_does_not_open(
    strict_doc: dict[str, Any], ring: keyring.Keyring, annotation: str
) -> None:
    strict_doc["metadata"]["annotations"] = {annotation: "true"}
    with pytest.raises(errors.UnsealError):
        seal.unseal(strict_doc, keyring=ring)


def test_a_value_moved_to_another_item_key_does_not_open(
    strict_doc: dict[str, Any], ring: keyring.Keyring
) -> None:
    items = strict_doc["spec"]["encryptedData"]
    items["user"] = items["password"]
    with pytest.raises(errors.UnsealError) as info:
        seal.unseal(strict_doc, keyring=ring)
    assert info.value.item == "user"


def test_unseal_refuses_template_data_rather_than_evaluate_it(
    strict_doc: dict[str, Any], ring: keyring.Keyring
) -> None:
    strict_doc["spec"]["template"]["data"] = {"x": '{{ index . "password" }}'}
    with pytest.raises(errors.ManifestError, match=r"template\.data"):
        seal.unseal(strict_doc, keyring=ring)


# --- S14 re-seal keeps the proven scope -----------------------------------------------------------


@pytest.mark.parametrize(
    ("sealed_scope", "claims"),
    [
        (scope.Scope.STRICT, {CLUSTER: "true"}),
        (scope.Scope.STRICT, {NAMESPACE: "true"}),
        (scope.Scope.NAMESPACE_WIDE, {CLUSTER: "true"}),
        (scope.Scope.CLUSTER_WIDE, {}),
        (scope.Scope.NAMESPACE_WIDE, {}),
    ],
)
def test_reseal_keeps_the_scope_bound_in_the_old_ciphertext(
    generation: keys.KeyGeneration,
    new_generation: keys.KeyGeneration,
    sealed_scope: scope.Scope,
    claims: dict[str, str],
) -> None:
    doc = seal.seal_secret(make_secret(), public=generation.public(), scope=sealed_scope)
    doc["metadata"]["annotations"] = dict(claims)  # the lie, on both places kubeseal reads
    doc["spec"]["template"]["metadata"] = {"annotations": {**claims, "keep": "me"}}
    resealed = seal.reseal(
        doc, keyring=keyring.Keyring([generation]), public=new_generation.public()
    )
    expected = secrets.scope_annotations({}, sealed_scope)
    assert resealed["metadata"].get("annotations", {}) == expected
    assert resealed["spec"]["template"]["metadata"]["annotations"] == {**expected, "keep": "me"}
    new_ring = keyring.Keyring([new_generation])
    assert opened(seal.unseal(resealed, keyring=new_ring))["password"] == b"s3cret"
    for value in resealed["spec"]["encryptedData"].values():
        assert envelope.envelope_key_id(blob(value)) == new_generation.key_id


def test_a_resealed_strict_value_still_does_not_open_cluster_wide(
    generation: keys.KeyGeneration, new_generation: keys.KeyGeneration
) -> None:
    doc = seal.seal_secret(make_secret(), public=generation.public(), scope=scope.Scope.STRICT)
    doc["metadata"]["annotations"] = {CLUSTER: "true"}
    resealed = seal.reseal(
        doc, keyring=keyring.Keyring([generation]), public=new_generation.public()
    )
    resealed["metadata"]["annotations"] = {CLUSTER: "true"}
    resealed["metadata"]["namespace"] = "elsewhere"
    with pytest.raises(errors.UnsealError):
        seal.unseal(resealed, keyring=keyring.Keyring([new_generation]))


def test_reseal_refuses_items_sealed_for_different_scopes(
    generation: keys.KeyGeneration, new_generation: keys.KeyGeneration
) -> None:
    public = generation.public()
    doc = seal.seal_secret(make_secret(), public=public, scope=scope.Scope.STRICT)
    wide = seal.seal_secret(make_secret(), public=public, scope=scope.Scope.CLUSTER_WIDE)
    doc["spec"]["encryptedData"]["user"] = wide["spec"]["encryptedData"]["user"]
    with pytest.raises(errors.ManifestError, match="different scopes"):
        seal.reseal(doc, keyring=keyring.Keyring([generation]), public=new_generation.public())


def test_reseal_with_the_wrong_key_is_an_unseal_error(
    generation: keys.KeyGeneration, new_generation: keys.KeyGeneration
) -> None:
    doc = seal.seal_secret(make_secret(), public=generation.public(), scope=None, version=1)
    with pytest.raises(errors.UnsealError):
        seal.reseal(doc, keyring=keyring.Keyring([new_generation]), public=new_generation.public())


def test_reseal_names_an_unknown_key_id(
    generation: keys.KeyGeneration, new_generation: keys.KeyGeneration
) -> None:
    doc = seal.seal_secret(make_secret(), public=generation.public(), scope=None)
    with pytest.raises(errors.UnknownKeyError) as info:
        seal.reseal(doc, keyring=keyring.Keyring([new_generation]), public=new_generation.public())
    assert info.value.key_id == generation.key_id_hex


def test_reseal_of_a_bitnami_sealed_secret_stays_v1(
    generation: keys.KeyGeneration, new_generation: keys.KeyGeneration
) -> None:
    doc = seal.seal_secret(make_secret(), public=generation.public(), scope=None, kind="bitnami")
    resealed = seal.reseal(
        doc, keyring=keyring.Keyring([generation]), public=new_generation.public()
    )
    assert resealed["apiVersion"] == "bitnami.com/v1alpha1"
    for value in resealed["spec"]["encryptedData"].values():
        assert envelope.envelope_key_id(blob(value)) is None


# --- kubeseal vectors -----------------------------------------------------------------------------


def kubeseal_documents() -> list[dict[str, Any]]:
    vectors = json.loads((KUBESEAL / "pub2048.vectors.json").read_text())
    docs: dict[tuple[str, str, str], dict[str, Any]] = {}
    for v in vectors:
        doc = docs.setdefault(
            (v["namespace"], v["name"], v["scope"]),
            {
                "apiVersion": "bitnami.com/v1alpha1",
                "kind": "SealedSecret",
                "metadata": {
                    "name": v["name"],
                    "namespace": v["namespace"],
                    "annotations": secrets.scope_annotations({}, scope.Scope(v["scope"])),
                },
                "spec": {"encryptedData": {}, "template": {"type": "Opaque"}},
            },
        )
        doc["spec"]["encryptedData"][v["item"]] = v["ciphertext_b64"]
        doc.setdefault("expected", {})[v["item"]] = base64.b64decode(v["plaintext_b64"])
    return list(docs.values())


def test_sealed_secrets_written_by_kubeseal_unseal(kubeseal_key: keys.LegacyKey) -> None:
    ring = keyring.Keyring([kubeseal_key])
    docs = kubeseal_documents()
    assert len(docs) >= 5
    for doc in docs:
        expected = doc.pop("expected")
        assert opened(seal.unseal(doc, keyring=ring)) == expected


def test_kubeseal_values_reseal_under_their_own_scope(
    kubeseal_key: keys.LegacyKey, new_generation: keys.KeyGeneration
) -> None:
    ring = keyring.Keyring([kubeseal_key])
    for doc in kubeseal_documents():
        expected = doc.pop("expected")
        claimed = doc["metadata"]["annotations"]
        doc["metadata"]["annotations"] = {CLUSTER: "true"}  # lie: claim the widest scope
        resealed = seal.reseal(doc, keyring=ring, public=new_generation.public())
        assert resealed["metadata"].get("annotations", {}) == claimed
        assert opened(seal.unseal(resealed, keyring=keyring.Keyring([new_generation]))) == expected
