"""The public surface of controller.vault, pinned (httpx habit): changes here are deliberate."""

from __future__ import annotations

import ast
import pathlib
import types

import pytest

from controller.vault import bulkhead, client, mapping, store, sync

SURFACE: dict[types.ModuleType, list[str]] = {
    mapping: ["DataFromRef", "DataRef", "MAX_SECRET_BYTES", "Plan", "ReadResult", "build_data",
              "canonical_encoding", "clean_path", "data_hash", "detach", "expand_prefix",
              "parse_spec", "resolve_path", "show", "validate_secret_key"],
    store: ["AppRoleAuth", "Auth", "CLUSTER_VAULT_STORE", "CaProvider", "KubernetesAuth",
            "LabelSelector", "NAME_LABEL", "ObjectKeyRef", "Requirement", "StoreConfig",
            "TokenAuth", "VAULT_STORE", "admits", "parse_server", "parse_store"],
    client: ["DEFAULT_TIMEOUT_S", "Observer", "RENEW_FRACTION", "VaultSession"],
    sync: ["FetchResult", "Reader", "backoff", "fetch", "next_refresh"],
    bulkhead: ["Bulkhead"],
}


@pytest.mark.parametrize("module", list(SURFACE), ids=lambda m: m.__name__)
def test_public_names_are_exactly_the_pinned_ones(module: types.ModuleType) -> None:
    exported = module.__all__
    assert sorted(exported) == sorted(SURFACE[module])
    assert all(hasattr(module, name) for name in exported)


def _imports(module: types.ModuleType) -> set[str]:
    path = pathlib.Path(module.__file__ or "")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("module", [mapping, store, sync, bulkhead], ids=lambda m: m.__name__)
def test_pure_modules_do_not_import_hvac_or_requests(module: types.ModuleType) -> None:
    assert not _imports(module) & {"hvac", "requests", "urllib3", "kubernetes", "kopf"}
