"""The public surface of sealer.manifests and sealer.cli, pinned (httpx-style)."""

from __future__ import annotations

import sealer.cli
from sealer.manifests import check, rewrite, safeyaml, seal, secrets

SURFACE = {
    safeyaml: [
        "KUBECTL",
        "STRICT",
        "Dialect",
        "Document",
        "ParseError",
        "dump",
        "load_documents",
        "load_located",
        "load_one",
        "split_lines",
    ],
    secrets: [
        "CLUSTER_WIDE_ANNOTATION",
        "NAMESPACE_WIDE_ANNOTATION",
        "SEALED_API_VERSIONS",
        "STRIPPED_ANNOTATIONS",
        "SealedSecretManifest",
        "SecretManifest",
        "SecretTemplate",
        "is_sealed_secret",
        "is_secret",
        "parse_sealed_secret",
        "parse_secret",
        "scope_annotations",
        "scope_from_annotations",
        "validate_item_key",
        "validate_name",
        "validate_namespace",
    ],
    seal: ["base64_rules", "merge_into", "reseal", "seal_secret", "sealed_label", "unseal"],
    check: [
        "Finding",
        "Report",
        "Skipped",
        "check_data",
        "check_paths",
        "envelope_problem",
        "iter_files",
        "objects",
        "scan",
    ],
    rewrite: ["Transform", "rewrite_documents", "sealing_transform"],
    sealer.cli: ["main"],
}


def test_each_module_exports_exactly_its_pinned_names() -> None:
    for module, names in SURFACE.items():
        assert sorted(module.__all__) == sorted(names), module.__name__
        for name in names:
            assert hasattr(module, name), f"{module.__name__}.{name}"


def test_the_safeyaml_entry_points_keep_the_renderers_signature() -> None:
    import inspect

    for function in (safeyaml.load_documents, safeyaml.load_one):
        parameters = inspect.signature(function).parameters
        assert list(parameters) == ["data", "source", "max_bytes", "max_documents", "max_depth"]
        assert parameters["max_bytes"].default == 4 << 20
        assert parameters["max_documents"].default == 10_000
        assert parameters["max_depth"].default == 100
        assert all(p.kind is p.KEYWORD_ONLY for name, p in parameters.items() if name != "data")
