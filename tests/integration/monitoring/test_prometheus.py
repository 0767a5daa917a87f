"""A real Prometheus scrapes a real controller: the target is up, the shipped rules load, and
every query of the Grafana dashboard returns series once a SealedSecret, a failing GitSync and
a Vault-synced Secret exist (HOSTILE-INPUTS L51: the scraped page is a canary sink too)."""

from __future__ import annotations

import contextlib
import json
import secrets
from pathlib import Path
from typing import Any

import pytest

from tests.harness.waiting import wait_for
from tests.integration.controller_fixtures import (
    SEALOPS,
    StartController,
    ready_condition,
    sealed_secret,
)
from tests.integration.gitops.conftest import GitOpsEnv, configmap, dump
from tests.integration.monitoring import prometheus
from tests.integration.vaultsync import helpers
from tests.vaultserver import VaultTestServer

# Generous hang guards: a busy 2-core machine, a 5-minute rate() window filling up.
SERIES_TIMEOUT_S = 240.0


def _objects(kube: Any, namespace: str, gitops: GitOpsEnv, vault: VaultTestServer,
             ctl: Any, canary: str) -> None:
    """A Ready SealedSecret, a GitSync failing to fetch, a VaultStore and a synced VaultSecret."""
    kube.create(SEALOPS, sealed_secret(namespace=namespace, name="db", public=ctl.public(),
                                       data={"password": canary.encode()}),
                namespace=namespace)
    gitops.push({"app/cm.yaml": dump(configmap("one"))})
    gitops.credentials_secret("wrong-creds", password=gitops.password[::-1])
    gitops.create_gitsync("broken", path="app", interval="10m",
                          secretRef={"name": "wrong-creds"})
    helpers.allow_shop(vault)
    vault.kv2_put(path="shop/db", data={"password": canary})
    helpers.token_store(kube, namespace, vault, vault.create_token(policies=["shop"], ttl=3600))
    helpers.vault_secret(kube, namespace, "db-vault", helpers.simple_spec(interval="1m"))
    wait_for(lambda: ready_condition(kube.get(SEALOPS, "db", namespace=namespace)),
             timeout=120, what="SealedSecret db Ready")
    gitops.wait_reason("FetchFailed", name="broken", timeout=120)
    helpers.wait_data(kube, namespace, "db-vault", {"password": canary.encode()}, timeout=120)


def test_prometheus_scrapes_the_controller_and_every_dashboard_query_returns_series(
        kube: Any, namespace: str, start_controller: StartController, gitops: GitOpsEnv,
        vault: VaultTestServer, tmp_path: Path) -> None:
    if not prometheus.PROMETHEUS.exists():
        pytest.fail("Prometheus is not installed: run scripts/setup-prometheus.sh (make test)")
    ctl = start_controller(watch=namespace)
    canary = f"canary-metrics-{secrets.token_hex(8)}"
    _objects(kube, namespace, gitops, vault, ctl, canary)
    target = ctl.url.removeprefix("http://")
    with prometheus.running(tmp_path / "prometheus", target=target,
                            rule_files=[prometheus.RULES]) as prom:
        wait_for(lambda: prom.query('up{job="sealops"} == 1'), timeout=SERIES_TIMEOUT_S,
                 what="the controller scraped")
        rules = [r for g in prom.api("rules")["groups"] for r in g["rules"]]
        assert len(rules) == 6 and all(r["health"] != "err" for r in rules), rules
        empty = _dashboard_queries_without_series(prom)
        assert empty == []
        broken = prom.query('max by (kind, namespace, name) (sealops_condition{type="Ready", '
                            'status="False"}) == 1')
        assert {(s["metric"]["kind"], s["metric"]["name"]) for s in broken} == {
            ("GitSync", "broken")}
        scraped = json.dumps(prom.api("series", **{"match[]": '{job="sealops"}'}))
    for form in (canary, gitops.password, gitops.password[::-1]):
        assert form not in scraped
        assert form not in ctl.get("/metrics")[1].decode()


def _dashboard_queries_without_series(prom: prometheus.Prometheus) -> list[str]:
    """Poll every query until it returns series; the ones that never did (after the guard)."""
    pending = prometheus.dashboard_exprs()
    assert len(pending) >= 15

    def settle() -> bool:
        pending[:] = [expr for expr in pending if not prom.query(expr)]
        return not pending

    with contextlib.suppress(AssertionError):  # reported as the list of empty queries
        wait_for(settle, timeout=SERIES_TIMEOUT_S, interval=2.0, what="dashboard series")
    return pending
