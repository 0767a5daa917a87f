"""secrets: Secret/SealedSecret parsing, DNS-1123 names (S16), strict values (C1, Y22), L52."""

from __future__ import annotations

from typing import Any

import pytest

from sealer import errors
from sealer.crypto import plaintext, scope
from sealer.manifests import safeyaml, secrets


def secret(**overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": "prod"},
        "stringData": {"password": "s3cret"},
    }
    doc.update(overrides)
    return doc


def from_yaml(text: str) -> secrets.SecretManifest:
    return secrets.parse_secret(safeyaml.load_one(text.encode(), source="in.yaml"))


# --- S16 names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "a/b",
        "",
        "DB",
        "a" * 254,
        "a\x00b",
        "db\u0430",  # Cyrillic a, a confusable
        "db.",
        "-db",
        "db-",
        "db\n",
        "d\u202eb",  # bidi override
        "a..b",
        "db_1",
    ],
)
def test_hostile_names_are_refused(name: str) -> None:
    with pytest.raises(errors.InvalidNameError):
        secrets.validate_name(name)


@pytest.mark.parametrize("name", ["db", "a" * 253, "db-1.prod.example", "0"])
def test_valid_names_pass(name: str) -> None:
    assert secrets.validate_name(name) == name


@pytest.mark.parametrize("namespace", ["a.b", "a/b", "A", "a" * 64, "ns\x00", "ns."])
def test_hostile_namespaces_are_refused(namespace: str) -> None:
    with pytest.raises(errors.InvalidNameError):
        secrets.validate_namespace(namespace)


def test_a_secret_with_a_hostile_name_is_refused_while_parsing() -> None:
    with pytest.raises(errors.InvalidNameError):
        secrets.parse_secret(secret(metadata={"name": "a/b", "namespace": "prod"}))


def test_a_secret_manifest_cannot_be_built_with_a_hostile_namespace() -> None:
    with pytest.raises(errors.InvalidNameError):
        secrets.SecretManifest(name="db", namespace="Prod")


def test_an_invalid_name_error_shows_control_characters_escaped() -> None:
    with pytest.raises(errors.InvalidNameError) as info:
        secrets.validate_name("d\u202eb")
    assert "\u202e" not in str(info.value)
    assert "\\u202e" in str(info.value)


# --- Secret parsing -------------------------------------------------------------------------------


def test_a_secret_parses_into_redacted_values() -> None:
    parsed = secrets.parse_secret(
        secret(data={"user": "YWRtaW4="}, type="kubernetes.io/basic-auth")
    )
    assert parsed.name == "db" and parsed.namespace == "prod"
    assert parsed.type == "kubernetes.io/basic-auth"
    assert parsed.data["user"].reveal() == b"admin"
    assert parsed.data["password"].reveal() == b"s3cret"
    assert "s3cret" not in repr(parsed)


def test_string_data_is_merged_over_data() -> None:
    parsed = secrets.parse_secret(secret(data={"password": "b2xk", "other": "eA=="}))
    assert parsed.data["password"].reveal() == b"s3cret"
    assert parsed.data["other"].reveal() == b"x"


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("pin: 0123", "integer"),
        ("flag: no", "boolean"),
        ("v: 0x1F", "integer"),
        ("d: 2024-01-01", "date"),
        ("n: ~", "null"),
        ("f: 1.5", "float"),
        ("e:", "null"),
    ],
)
def test_yaml_1_1_values_in_string_data_are_refused_never_converted(line: str, kind: str) -> None:
    key = line.split(":", maxsplit=1)[0]
    text = "apiVersion: v1\nkind: Secret\nmetadata: {name: a, namespace: b}\nstringData:\n"
    text += f"  {line}\n"
    with pytest.raises(errors.ManifestError) as info:
        from_yaml(text)
    assert f"stringData item '{key}' is a YAML {kind}" in str(info.value)


def test_quoted_values_in_string_data_are_kept_as_written() -> None:
    parsed = from_yaml(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: a, namespace: b}\n"
        "stringData:\n  pin: '0123'\n  flag: \"no\"\n  n: ''\n"
    )
    assert parsed.data["pin"].reveal() == b"0123"
    assert parsed.data["flag"].reveal() == b"no"
    assert parsed.data["n"].reveal() == b""


@pytest.mark.parametrize("value", ["YWJj\nZA==", "YWJjZA==!!!", "YWJjZA", "_-8=", " YWJjZA==", "é"])
def test_data_must_be_strict_base64(value: str) -> None:
    with pytest.raises(errors.ManifestError, match="data item 'k' is not valid base64"):
        secrets.parse_secret(secret(data={"k": value}))


def test_data_values_must_be_strings() -> None:
    with pytest.raises(errors.ManifestError, match="must be a base64 string"):
        secrets.parse_secret(secret(data={"k": 5}))


@pytest.mark.parametrize("key", ["a/b", "..", "a b", "", "ключ"])
def test_item_keys_must_be_valid_secret_keys(key: str) -> None:
    with pytest.raises(errors.ManifestError, match="not a valid Secret data key"):
        secrets.parse_secret(secret(stringData={key: "x"}))


def test_a_non_string_item_key_is_refused() -> None:
    with pytest.raises(errors.ManifestError, match="data keys must be strings"):
        from_yaml("apiVersion: v1\nkind: Secret\nmetadata: {name: a}\nstringData: {yes: x}\n")


def test_the_last_applied_annotation_is_stripped_l52() -> None:
    parsed = secrets.parse_secret(
        secret(
            metadata={
                "name": "db",
                "namespace": "prod",
                "annotations": {
                    "kubectl.kubernetes.io/last-applied-configuration": '{"stringData": "x"}',
                    "kopf.zalando.org/last-handled-configuration": "{}",
                    "team": "a",
                },
            }
        )
    )
    assert parsed.annotations == {"team": "a"}


def test_labels_and_annotations_must_be_strings() -> None:
    with pytest.raises(errors.ManifestError, match="'cluster-wide' must be a string"):
        from_yaml(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: a\n"
            "  annotations: {cluster-wide: true}\nstringData: {a: b}\n"
        )


def test_a_missing_namespace_is_taken_from_the_command_line() -> None:
    parsed = secrets.parse_secret(secret(metadata={"name": "db"}), namespace="ops")
    assert parsed.namespace == "ops"


def test_a_missing_namespace_stays_missing_without_one_given() -> None:
    assert secrets.parse_secret(secret(metadata={"name": "db", "namespace": ""})).namespace is None


def test_a_declared_namespace_that_differs_from_the_command_line_is_an_error() -> None:
    with pytest.raises(errors.UsageError, match="declares namespace 'prod'"):
        secrets.parse_secret(secret(), namespace="ops")


@pytest.mark.parametrize(
    "doc",
    [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}},
        {"piVersion": "v1", "kind": "Secret", "metadata": {"name": "a"}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": ["a"]},
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "a"}, "immutable": "yes"},
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "a"}, "stringData": ["x"]},
    ],
)
def test_malformed_secrets_are_manifest_errors(doc: dict[str, Any]) -> None:
    with pytest.raises(errors.ManifestError):
        secrets.parse_secret(doc)


def test_secret_values_must_be_secret_bytes() -> None:
    with pytest.raises(TypeError):
        secrets.SecretManifest(name="a", namespace=None, data={"a": b"x"})  # type: ignore[dict-item]
    assert secrets.SecretManifest(name="a", namespace=None, data={"a": plaintext.SecretBytes(b"")})


# --- scope annotations ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("annotations", "expected"),
    [
        ({}, scope.Scope.STRICT),
        ({secrets.CLUSTER_WIDE_ANNOTATION: "true"}, scope.Scope.CLUSTER_WIDE),
        ({secrets.NAMESPACE_WIDE_ANNOTATION: "true"}, scope.Scope.NAMESPACE_WIDE),
        ({secrets.CLUSTER_WIDE_ANNOTATION: "True"}, scope.Scope.STRICT),
        ({secrets.NAMESPACE_WIDE_ANNOTATION: "false"}, scope.Scope.STRICT),
    ],
)
def test_scope_annotations_read_like_kubeseal(
    annotations: dict[str, str], expected: scope.Scope
) -> None:
    assert secrets.scope_from_annotations(annotations) is expected


def test_both_scope_annotations_at_once_are_refused() -> None:
    with pytest.raises(errors.ManifestError, match="both"):
        secrets.scope_from_annotations(
            {secrets.CLUSTER_WIDE_ANNOTATION: "true", secrets.NAMESPACE_WIDE_ANNOTATION: "true"}
        )


def test_scope_annotations_are_replaced_by_the_one_the_scope_needs() -> None:
    before = {secrets.CLUSTER_WIDE_ANNOTATION: "true", "x": "y"}
    assert secrets.scope_annotations(before, scope.Scope.STRICT) == {"x": "y"}
    assert secrets.scope_annotations(before, scope.Scope.NAMESPACE_WIDE) == {
        "x": "y",
        secrets.NAMESPACE_WIDE_ANNOTATION: "true",
    }


# --- SealedSecret parsing -------------------------------------------------------------------------


def sealed(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "bitnami.com/v1alpha1",
        "kind": "SealedSecret",
        "metadata": {"name": "db", "namespace": "prod"},
        "spec": {"encryptedData": {"a": "AAAA"}, **spec},
    }


def test_sealed_secrets_of_both_api_groups_parse() -> None:
    parsed = secrets.parse_sealed_secret(sealed(template={"type": "kubernetes.io/tls"}))
    assert parsed.kind == "bitnami"
    assert parsed.ref == "prod/db"
    assert parsed.template.type == "kubernetes.io/tls"
    assert parsed.annotated_scope is scope.Scope.STRICT
    other = {**sealed(), "apiVersion": "sealops.dev/v1alpha1"}
    assert secrets.parse_sealed_secret(other).kind == "sealops"


@pytest.mark.parametrize(
    "doc",
    [
        {**sealed(), "apiVersion": "evil.example/v1alpha1"},
        {**sealed(), "metadata": {"name": "DB"}},
        sealed(encryptedData={"a/b": "AAAA"}),
        sealed(encryptedData={"a": 5}),
        sealed(template=["x"]),
    ],
)
def test_malformed_sealed_secrets_are_refused(doc: dict[str, Any]) -> None:
    with pytest.raises(errors.ManifestError):
        secrets.parse_sealed_secret(doc)
