"""The committed SealedSecrets: `seal check` passes on them (and catches a plaintext Secret
added to a copy), every one opens with the demo key, and the Bitnami migration steps of
examples/bitnami-migration/README.md turn the "before" file into the "after" one."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from examples import reseal
from tests.integration.examples.conftest import (
    DEMO_PRIVATE,
    DEMO_PUBLIC,
    EXAMPLES,
    GITOPS_REPO,
    load_all,
    seal,
    sealed_files,
)

CANARY = "plaintext-canary-7f3a9c"


def unseal(path: Path) -> dict[str, Any]:
    """The Secret `seal unseal --key <demo key>` prints for `path` (kept in memory only)."""
    result = seal("unseal", path, "--key", DEMO_PRIVATE, "--format", "json")
    assert result.returncode == 0, f"{path}: {result.stderr}"
    opened: dict[str, Any] = json.loads(result.stdout)
    return opened


def test_seal_check_passes_on_the_gitops_repository_and_on_all_examples() -> None:
    for target in (GITOPS_REPO, EXAMPLES):
        result = seal("check", target)
        assert result.returncode == 0, result.stdout + result.stderr


def test_seal_check_fails_on_a_copy_with_a_plaintext_secret_and_never_prints_it(
        tmp_path: Path) -> None:
    copy = tmp_path / "gitops-repo"
    shutil.copytree(GITOPS_REPO, copy)
    leaked = copy / "apps/shop/overlays/dev/leaked-secret.yaml"
    leaked.write_text("apiVersion: v1\nkind: Secret\nmetadata:\n  name: oops\n"
                      f"  namespace: shop-dev\nstringData:\n  apiKey: {CANARY}\n")

    result = seal("check", copy)

    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert "leaked-secret.yaml" in output and "apiKey" in output
    assert CANARY not in output
    assert base64.b64encode(CANARY.encode()).decode() not in output


def test_reseal_knows_every_committed_sealed_secret() -> None:
    committed = {str(p.relative_to(EXAMPLES)) for p in sealed_files()}
    assert committed == {t.path for t in reseal.TARGETS}


@pytest.mark.parametrize("target", reseal.TARGETS, ids=lambda t: t.path)
def test_every_committed_sealed_secret_opens_with_the_demo_key(target: reseal.Target) -> None:
    path = EXAMPLES / target.path
    sealed = load_all(path)[0]
    assert sealed["metadata"]["namespace"] == target.namespace
    assert sealed["metadata"]["name"] == target.name

    secret = unseal(path)

    assert secret["kind"] == "Secret"
    assert (secret["metadata"]["namespace"], secret["metadata"]["name"]) == (
        target.namespace, target.name)
    assert sorted(secret["data"]) == sorted(target.items)
    assert all(base64.b64decode(v) for v in secret["data"].values())


def test_the_demo_public_key_is_the_public_half_of_the_demo_private_key(
        tmp_path: Path) -> None:
    secret = tmp_path / "secret.json"
    secret.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x", "namespace": "y"},
        "stringData": {"k": "round-trip"}}))
    sealed = seal("secret", secret, "--cert", DEMO_PUBLIC, "-w", tmp_path / "sealed.yaml")
    assert sealed.returncode == 0, sealed.stderr
    opened = unseal(tmp_path / "sealed.yaml")
    assert base64.b64decode(opened["data"]["k"]) == b"round-trip"


def test_the_bitnami_migration_steps_turn_before_into_after(tmp_path: Path) -> None:
    before = EXAMPLES / "bitnami-migration/before/db.sealedsecret.yaml"
    after = EXAMPLES / "bitnami-migration/after/db.sealedsecret.yaml"
    assert load_all(before)[0]["apiVersion"] == "bitnami.com/v1alpha1"
    assert load_all(after)[0]["apiVersion"] == "sealops.dev/v1alpha1"
    migrated = tmp_path / "db.sealedsecret.yaml"
    # README step 3: switch the apiVersion, then re-seal under the new key (here: the same
    # demo key pair, standing in for both the old Bitnami key and the new cluster's key).
    migrated.write_text(before.read_text().replace("bitnami.com/v1alpha1",
                                                   "sealops.dev/v1alpha1"))
    result = seal("reencrypt", migrated, "--key", DEMO_PRIVATE, "--cert", DEMO_PUBLIC)
    assert result.returncode == 0, result.stderr

    assert migrated.read_text() != before.read_text().replace("bitnami.com", "sealops.dev")
    assert unseal(migrated)["data"] == unseal(before)["data"] == unseal(after)["data"]
