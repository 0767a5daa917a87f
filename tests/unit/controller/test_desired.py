"""The pure rules that decide which Secret a SealedSecret yields and whether it may be written."""

from __future__ import annotations

import base64
import datetime
from typing import Any

import pytest

from controller.unseal import desired
from sealer import errors, templating
from sealer.crypto import keyring, keys, scope

NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


@pytest.fixture(scope="module")
def ring() -> keyring.Keyring:
    return keyring.Keyring([keys.generate(now=NOW, rsa_bits=2048)])


def _sealed(ring: keyring.Keyring, *, namespace: str = "shop", name: str = "db",
            data: dict[str, bytes] | None = None, annotations: dict[str, str] | None = None,
            template: dict[str, Any] | None = None,
            sealed_scope: scope.Scope = scope.Scope.STRICT) -> dict[str, Any]:
    label = scope.label(sealed_scope, namespace=namespace, name=name)
    items = data if data is not None else {"password": b"pw"}
    return {
        "apiVersion": "sealops.dev/v1alpha1", "kind": "SealedSecret",
        "metadata": {"name": name, "namespace": namespace, "uid": "u-1",
                     "annotations": annotations or {}},
        "spec": {"encryptedData": {k: ring.encrypt(v, label=label, item=k)
                                   for k, v in items.items()},
                 "template": template or {}},
    }


def test_every_item_opens_with_the_strict_label(ring: keyring.Keyring) -> None:
    opened = desired.open_items(_sealed(ring, data={"a": b"1", "b": b""}), ring=ring)
    assert opened.data == {"a": b"1", "b": b""}
    assert opened.key_id == ring.newest.key_id


def test_one_bad_item_fails_the_whole_object_naming_only_that_item(
    ring: keyring.Keyring
) -> None:
    sealed = _sealed(ring, data={"a": b"secret-a", "b": b"secret-b"})
    sealed["spec"]["encryptedData"]["b"] = sealed["spec"]["encryptedData"]["a"]
    with pytest.raises(errors.UnsealError) as info:
        desired.open_items(sealed, ring=ring)
    assert "'b'" in str(info.value)
    assert "secret" not in str(info.value).replace("unseal", "")


def test_a_widened_scope_annotation_does_not_open_a_strict_value(ring: keyring.Keyring) -> None:
    sealed = _sealed(ring, annotations={desired.CLUSTER_WIDE: "true"})
    with pytest.raises(errors.UnsealError):
        desired.open_items(sealed, ring=ring)


def test_namespace_wide_values_open_under_any_name(ring: keyring.Keyring) -> None:
    sealed = _sealed(ring, sealed_scope=scope.Scope.NAMESPACE_WIDE,
                     annotations={desired.NAMESPACE_WIDE: "true"})
    sealed["metadata"]["name"] = "renamed"
    assert desired.open_items(sealed, ring=ring).data == {"password": b"pw"}


def test_the_secret_carries_template_metadata_type_and_an_owner(ring: keyring.Keyring) -> None:
    sealed = _sealed(ring, template={
        "type": "kubernetes.io/basic-auth", "immutable": True,
        "metadata": {"labels": {"app": "shop"}, "annotations": {
            "note": "x", "kubectl.kubernetes.io/last-applied-configuration": "{}"}}})
    body = desired.secret_for(sealed, desired.open_items(sealed, ring=ring))
    assert body["type"] == "kubernetes.io/basic-auth"
    assert body["immutable"] is True
    assert body["metadata"]["labels"] == {"app": "shop"}
    assert body["metadata"]["annotations"] == {"note": "x"}
    assert body["data"] == {"password": base64.b64encode(b"pw").decode()}
    assert body["metadata"]["ownerReferences"][0]["uid"] == "u-1"


def test_skip_owner_references_is_honoured(ring: keyring.Keyring) -> None:
    sealed = _sealed(ring, template={"metadata": {"annotations": {desired.SKIP_OWNER: "true"}}})
    body = desired.secret_for(sealed, desired.open_items(sealed, ring=ring))
    assert "ownerReferences" not in body["metadata"]


@pytest.mark.parametrize("secret_type", sorted(desired.REFUSED_TYPES))
def test_privileged_secret_types_are_refused(ring: keyring.Keyring, secret_type: str) -> None:
    sealed = _sealed(ring, template={"type": secret_type})
    with pytest.raises(desired.RefusedError) as info:
        desired.secret_for(sealed, desired.open_items(sealed, ring=ring))
    assert info.value.reason == "TypeNotAllowed"


def _live(*, uid: str | None = None, annotations: dict[str, str] | None = None,
          labels: dict[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "db", "namespace": "shop", "annotations": annotations or {},
                            "labels": labels or {}}
    if uid:
        meta["ownerReferences"] = [{"uid": uid}]
    return {"metadata": meta, "data": {}, "type": "Opaque"}


@pytest.mark.parametrize(("live", "mode"), [
    (None, "create"),
    (_live(uid="u-1"), "owned"),
    (_live(annotations={desired.MANAGED: "true"}), "takeover"),
    (_live(annotations={desired.PATCH: "true"}), "patch"),
])
def test_the_target_mode_follows_ownership(ring: keyring.Keyring, live: Any, mode: str) -> None:
    assert desired.check_target(_sealed(ring), live, controller_namespace="sys") == mode


@pytest.mark.parametrize("live", [
    _live(),
    _live(uid="someone-else"),
    _live(labels={"sealops.dev/sealing-key": "active"}, annotations={desired.MANAGED: "true"}),
])
def test_foreign_secrets_and_key_secrets_are_never_overwritten(
    ring: keyring.Keyring, live: Any
) -> None:
    with pytest.raises(desired.RefusedError):
        desired.check_target(_sealed(ring), live, controller_namespace="sys")


def test_a_name_like_a_key_secret_in_the_controller_namespace_is_refused(
    ring: keyring.Keyring
) -> None:
    sealed = _sealed(ring, namespace="sys", name="sealops-key-0011223344556677")
    with pytest.raises(desired.RefusedError):
        desired.check_target(sealed, None, controller_namespace="sys")


def test_nothing_is_written_when_the_live_secret_matches(ring: keyring.Keyring) -> None:
    sealed = _sealed(ring)
    body = desired.secret_for(sealed, desired.open_items(sealed, ring=ring))
    live = {"metadata": {**body["metadata"], "labels": {"extra": "kept"}}, "type": "Opaque",
            "data": dict(body["data"])}
    assert desired.needs_write(body, live, mode="owned") is False
    live["data"]["added"] = "eA=="
    assert desired.needs_write(body, live, mode="owned") is True
    assert desired.needs_write(body, live, mode="patch") is False


# --- templated data (issue 13) -------------------------------------------------------------------


def _data(body: dict[str, Any]) -> dict[str, bytes]:
    return {k: base64.b64decode(v) for k, v in body["data"].items()}


def test_template_data_is_rendered_from_the_opened_items(ring: keyring.Keyring) -> None:
    sealed = _sealed(ring, data={"user": b"app", "password": b"pw"}, template={"data": {
        "dsn": "postgres://{{ user }}:{{ password }}@db/shop", "password": None,
        "note": "{{ data.user|upper }}"}})
    body = desired.secret_for(sealed, desired.open_items(sealed, ring=ring))
    assert _data(body) == {"user": b"app", "dsn": b"postgres://app:pw@db/shop", "note": b"APP"}


def test_bitnami_objects_render_the_go_forms(ring: keyring.Keyring) -> None:
    sealed = _sealed(ring, data={"db-user": b"app"}, template={"data": {
        "dsn": 'u={{ index . "db-user" }}'}})
    sealed["apiVersion"] = "bitnami.com/v1alpha1"
    body = desired.secret_for(sealed, desired.open_items(sealed, ring=ring))
    assert _data(body)["dsn"] == b"u=app"
    sealed["spec"]["template"]["data"] = {"dsn": "{{ user }}"}  # Jinja is not Go
    with pytest.raises(templating.TemplateError, match="Go template action"):
        desired.secret_for(sealed, desired.open_items(sealed, ring=ring))


def test_a_template_error_names_object_field_and_key_never_the_value(
    ring: keyring.Keyring
) -> None:
    canary = b"canary-42c0ffee"
    sealed = _sealed(ring, data={"password": canary}, template={"data": {
        "dsn": "{{ password|b64dec }}{{ pasword }}"}})
    with pytest.raises(templating.TemplateError) as info:
        desired.secret_for(sealed, desired.open_items(sealed, ring=ring))
    assert str(info.value).startswith("SealedSecret shop/db spec.template.data key 'dsn': ")
    assert canary.decode() not in str(info.value)
    assert info.value.reason == "TemplateError"


def test_template_metadata_is_copied_never_rendered(ring: keyring.Keyring) -> None:
    sealed = _sealed(ring, template={"metadata": {
        "labels": {"l": "{{ password }}"}, "annotations": {"a": "{{ password }}"}}})
    body = desired.secret_for(sealed, desired.open_items(sealed, ring=ring))
    assert body["metadata"]["labels"] == {"l": "{{ password }}"}
    assert body["metadata"]["annotations"] == {"a": "{{ password }}"}


def test_template_data_that_is_not_a_mapping_is_an_invalid_spec(ring: keyring.Keyring) -> None:
    sealed = _sealed(ring, template={"data": ["x"]})
    with pytest.raises(errors.ManifestError, match="must be a mapping"):
        desired.secret_for(sealed, desired.open_items(sealed, ring=ring))
