"""The tenant path policy: every path must lie under the store's prefix for the namespace."""

from __future__ import annotations

import pytest

from controller.vault import mapping
from sealer import errors


def _refused(prefix: str | None, path: str, namespace: str = "shop") -> errors.VaultError:
    with pytest.raises(errors.VaultError) as info:
        mapping.resolve_path(prefix, namespace=namespace, path=path)
    assert info.value.reason == "PathNotAllowed"
    assert info.value.retryable is False
    return info.value


def test_path_under_the_namespace_prefix_is_returned_unchanged() -> None:
    assert mapping.resolve_path("tenants/{namespace}", namespace="shop",
                                path="tenants/shop/db") == "tenants/shop/db"


def test_path_equal_to_the_prefix_is_allowed() -> None:
    assert mapping.resolve_path("{namespace}", namespace="shop", path="shop") == "shop"


def test_no_prefix_still_requires_a_clean_relative_path() -> None:
    assert mapping.resolve_path(None, namespace="shop", path="a/b/c") == "a/b/c"
    _refused(None, "../x")


def test_sibling_with_a_shared_name_prefix_is_refused() -> None:
    err = _refused("{namespace}", "shop-evil/db")
    assert "shop-evil/db" in str(err)


def test_another_namespaces_prefix_is_refused() -> None:
    _refused("tenants/{namespace}", "tenants/bank/db")


@pytest.mark.parametrize("path", [
    "../x",
    "shop/../bank/db",
    "shop/a/../../b",
    "a/../../b",
    "shop/./db",
    "./shop/db",
    "shop/%2e%2e/bank",
    "%2e%2e/bank",
    "shop/..%2fbank",
    "/shop/db",
    "//shop/db",
    "shop//db",
    "shop/db/",
    "shop\\..\\bank",
    "shop/d b",
    "shop/db\x00",
    "shop/db\n",
    "shop/d\u0430",  # Cyrillic a
    "",
    "shop/" + "a" * 2000,
])
def test_traversal_and_non_normal_paths_are_refused(path: str) -> None:
    _refused("{namespace}", path)


def test_error_names_the_path_but_stays_short_for_huge_paths() -> None:
    err = _refused("{namespace}", "x" * 900 + "/y")
    assert len(str(err)) < 300


def test_prefix_with_an_unknown_placeholder_is_refused() -> None:
    _refused("tenants/{name}", "tenants/shop/db")


def test_prefix_that_becomes_unclean_after_substitution_is_refused() -> None:
    _refused("tenants/{namespace}/", "tenants/shop/db")


def test_invalid_namespace_name_is_refused_before_substitution() -> None:
    _refused("tenants/{namespace}", "tenants/../db", namespace="..")
    _refused("tenants/{namespace}", "tenants/a/b/db", namespace="a/b")


def test_non_string_path_is_refused() -> None:
    with pytest.raises(errors.VaultError):
        mapping.resolve_path(None, namespace="shop", path=5)  # type: ignore[arg-type]
