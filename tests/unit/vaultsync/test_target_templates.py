"""VaultSecret `spec.target.template.data`: parsed strictly, rendered over the fetched keys."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from controller.vaultsync import objects, target
from sealer import errors, templating

OWNER: dict[str, Any] = {"apiVersion": "sealops.dev/v1alpha1", "kind": "VaultSecret",
                         "metadata": {"name": "db", "namespace": "shop", "uid": "u-1"}}


def _target(data: object) -> objects.Target:
    return objects.target({"target": {"template": {"data": data}}}, default_name="db")


def test_templates_render_over_the_fetched_keys_and_null_removes_one() -> None:
    spec = _target({"dsn": "postgres://{{ username }}:{{ password }}@db", "password": None})
    body = target.desired(OWNER, spec, {"username": b"app", "password": b"pw"})
    assert {k: base64.b64decode(v) for k, v in body["data"].items()} == {
        "username": b"app", "dsn": b"postgres://app:pw@db"}


def test_a_template_error_names_the_vault_secret_and_the_key() -> None:
    spec = _target({"dsn": "{{ nope }}"})
    with pytest.raises(templating.TemplateError) as info:
        target.desired(OWNER, spec, {"password": b"canary-55aa"})
    assert str(info.value).startswith(
        "VaultSecret shop/db spec.target.template.data key 'dsn': the template reads item "
        "'nope'")
    assert "canary-55aa" not in str(info.value)


@pytest.mark.parametrize("data", [["x"], {"k": 3}, {"k": {"nested": "x"}}])
def test_template_data_must_map_keys_to_text_or_null(data: object) -> None:
    with pytest.raises(errors.VaultError, match=r"spec\.target\.template\.data must map") as info:
        _target(data)
    assert info.value.reason == "InvalidSpec"


def test_without_templates_the_fetched_keys_are_the_data() -> None:
    body = target.desired(OWNER, objects.target({}, default_name="db"), {"a": b"1"})
    assert body["data"] == {"a": base64.b64encode(b"1").decode()}
