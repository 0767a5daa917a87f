"""Every kustomization under examples/ renders, and renders what its README promises."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from controller.gitops import spec as gitops_spec
from controller.vault import store as vault_store
from tests.integration.examples.conftest import (
    BIN,
    EXAMPLES,
    GITOPS_REPO,
    ROOT,
    kustomizations,
    load_all,
    run,
)

OVERLAYS = ("dev", "staging", "prod")


def render(directory: Path) -> list[dict[str, Any]]:
    result = run("kubectl", "kustomize", "--load-restrictor", "LoadRestrictionsRootOnly",
                 directory)
    assert result.returncode == 0, result.stderr
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def by_kind(objects: list[dict[str, Any]]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for obj in objects:
        found.setdefault(obj["kind"], []).append(obj["metadata"]["name"])
    return {kind: sorted(names) for kind, names in found.items()}


def test_there_is_a_kustomization_per_base_and_overlay() -> None:
    found = {str(p.relative_to(GITOPS_REPO)) for p in kustomizations(GITOPS_REPO)}
    assert {"apps/shop/base", "infrastructure/vault/base"} <= found
    assert {f"apps/shop/overlays/{e}" for e in OVERLAYS} <= found
    assert {f"infrastructure/vault/overlays/{e}" for e in OVERLAYS} <= found


@pytest.mark.parametrize("directory", kustomizations(),
                         ids=lambda p: str(p.relative_to(EXAMPLES)))
def test_every_kustomization_renders_with_the_controllers_load_restrictor(
        directory: Path) -> None:
    objects = render(directory)
    assert objects, f"{directory} rendered nothing"
    if "overlays" in directory.parts:
        env = directory.name
        assert {o["metadata"].get("namespace") for o in objects} == {f"shop-{env}"}


@pytest.mark.parametrize("env", OVERLAYS)
def test_each_shop_overlay_has_its_own_secrets_config_and_workload(env: str) -> None:
    kinds = by_kind(render(GITOPS_REPO / "apps/shop/overlays" / env))
    prefix = "dev-" if env == "dev" else ""
    assert kinds["SealedSecret"] == [f"{prefix}db"]
    assert kinds["VaultSecret"] == [f"{prefix}payment-api"]
    assert f"{prefix}shop-config" in kinds["ConfigMap"]
    assert f"{prefix}shop" in kinds["Deployment"]
    assert "Secret" not in kinds


def test_the_dev_rename_reaches_the_deployments_secret_and_config_references() -> None:
    objects = render(GITOPS_REPO / "apps/shop/overlays/dev")
    shop = next(o for o in objects if o["kind"] == "Deployment"
                and o["metadata"]["name"] == "dev-shop")
    container = shop["spec"]["template"]["spec"]["containers"][0]
    secret_refs = sorted(e["valueFrom"]["secretKeyRef"]["name"] for e in container["env"])
    assert secret_refs == ["dev-db", "dev-payment-api"]
    assert container["envFrom"][0]["configMapRef"]["name"] == "dev-shop-config"
    assert shop["spec"]["replicas"] == 1
    store_refs = {o["spec"]["storeRef"]["name"] for o in objects if o["kind"] == "VaultSecret"}
    assert store_refs == {"vault"}  # the platform's VaultStore keeps its name


def test_only_the_renamed_overlay_seals_namespace_wide() -> None:
    for env in OVERLAYS:
        sealed = load_all(GITOPS_REPO / "apps/shop/overlays" / env / "db.sealedsecret.yaml")[0]
        annotations = sealed["metadata"].get("annotations") or {}
        wide = annotations.get("sealedsecrets.bitnami.com/namespace-wide") == "true"
        assert wide is (env == "dev"), env


@pytest.mark.parametrize("env", OVERLAYS)
def test_each_environments_gitsyncs_point_at_its_own_overlays(env: str) -> None:
    cluster = GITOPS_REPO / "clusters" / env
    syncs = {d["metadata"]["name"]: d for f in cluster.glob("*.yaml") for d in load_all(f)
             if d["kind"] == "GitSync"}
    assert syncs["shop"]["spec"]["path"] == f"apps/shop/overlays/{env}"
    assert syncs["infrastructure"]["spec"]["path"] == f"infrastructure/vault/overlays/{env}"
    for sync in syncs.values():
        assert sync["metadata"]["namespace"] == f"shop-{env}"
        parsed = gitops_spec.parse(sync["spec"])  # what the controller will accept
        assert parsed.prune is True and parsed.secret_ref == "git-credentials"
        assert (GITOPS_REPO / parsed.path).is_dir()


@pytest.mark.parametrize("env", OVERLAYS)
def test_each_environments_vault_store_is_one_the_controller_accepts(env: str) -> None:
    objects = render(GITOPS_REPO / "infrastructure/vault/overlays" / env)
    store = next(o for o in objects if o["kind"] == "VaultStore")
    config = vault_store.parse_store(store["spec"], kind="VaultStore",
                                     store_namespace=f"shop-{env}")
    assert isinstance(config.auth, vault_store.KubernetesAuth)
    assert config.auth.role == f"shop-{env}"
    assert config.path_prefix == "shop"
    accounts = [o["metadata"]["name"] for o in objects if o["kind"] == "ServiceAccount"]
    assert accounts == [config.auth.service_account]


def test_the_plain_yaml_example_builds_without_kustomize() -> None:
    result = run(BIN / "sealops", "build", EXAMPLES / "plain-yaml", "--path", "app",
                 "-n", "hello", "--name", "hello")
    assert result.returncode == 0, result.stderr
    kinds = by_kind([d for d in yaml.safe_load_all(result.stdout) if d])
    assert kinds == {"SealedSecret": ["api-token"], "ConfigMap": ["hello-config"],
                     "Service": ["hello"], "Deployment": ["hello"]}


def test_the_pre_commit_config_runs_the_seal_check_hook_this_repository_offers() -> None:
    offered = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    config = yaml.safe_load((GITOPS_REPO / ".pre-commit-config.yaml").read_text())
    used = [h["id"] for repo in config["repos"] for h in repo["hooks"]]
    assert "seal-check" in used
    assert offered["seal-check"]["entry"] == "seal check"


def test_the_pre_commit_render_hook_passes_on_the_repository() -> None:
    config = yaml.safe_load((GITOPS_REPO / ".pre-commit-config.yaml").read_text())
    local = next(r for r in config["repos"] if r["repo"] == "local")
    entry = next(h for h in local["hooks"] if h["id"] == "kustomize-build")["entry"]
    result = run(*shlex.split(entry), cwd=GITOPS_REPO)
    assert result.returncode == 0, result.stdout + result.stderr
