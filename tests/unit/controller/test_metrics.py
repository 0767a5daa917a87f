"""The controller's metrics (controller.metrics): every family, object series that go away with
their object, values per key generation, and labels that never carry a status message."""

from __future__ import annotations

import datetime

from prometheus_client.parser import text_string_to_metric_families

from controller import metrics
from controller.metrics import collectors


def samples(m: metrics.Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(m.render().decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(m: metrics.Metrics, family: str, /, **labels: str) -> float | None:
    return samples(m).get((family, tuple(sorted(labels.items()))))


def sealed(name: str, *, ready: str, message: str = "ok") -> dict[str, object]:
    return {"metadata": {"namespace": "shop", "name": name},
            "status": {"conditions": [{"type": "Ready", "status": ready, "reason": "X",
                                       "message": message}]}}


def test_unseals_are_counted_by_outcome_with_durations() -> None:
    m = metrics.Metrics(process=False)
    m.observe_unseal("Succeeded", 0.02)
    m.observe_unseal("UnsealFailed", 3.0)
    m.set_generations(2)
    assert value(m, "sealops_unseal_total", outcome="Succeeded") == 1
    assert value(m, "sealops_unseal_duration_seconds_bucket", le="0.025") == 1
    assert value(m, "sealops_unseal_duration_seconds_count") == 2
    assert value(m, "sealops_key_generations") == 2
    assert value(m, "sealops_reconcile_duration_seconds_count", kind="SealedSecret",
                 outcome="UnsealFailed") == 1


def test_the_condition_gauge_shows_the_current_status_and_goes_with_the_object() -> None:
    m = metrics.Metrics(process=False)
    m.observe_object("SealedSecret", sealed("db", ready="False"))
    ident = {"kind": "SealedSecret", "namespace": "shop", "name": "db", "type": "Ready"}
    assert value(m, "sealops_condition", **ident, status="False") == 1
    assert value(m, "sealops_condition", **ident, status="True") is None
    m.observe_object("SealedSecret", sealed("db", ready="True"))
    assert value(m, "sealops_condition", **ident, status="True") == 1
    assert value(m, "sealops_condition", **ident, status="False") is None
    m.observe_object("SealedSecret", sealed("db", ready="True"), deleted=True)
    assert not [k for k in samples(m) if k[0] == "sealops_condition"]


def test_condition_messages_and_hostile_types_never_become_labels() -> None:
    m = metrics.Metrics(process=False)
    body = sealed("db", ready="True", message="CANARY-message")
    body["status"]["conditions"] += [  # type: ignore[index]
        {"type": "CANARY type with spaces", "status": "True"},
        {"type": "Synced", "status": "CANARY-status"}, "not a mapping"]
    m.observe_object("SealedSecret", body)
    text = m.render().decode()
    assert "CANARY" not in text
    assert value(m, "sealops_condition", kind="SealedSecret", namespace="shop", name="db",
                 type="Synced", status="Unknown") == 1


def test_values_are_counted_per_key_generation_across_objects() -> None:
    m = metrics.Metrics(process=False)
    m.set_sealed_values("SealedSecret", "shop", "a", {"k1": 2, "k2": 1})
    m.set_sealed_values("SealedSecret", "shop", "b", {"k1": 3})
    assert value(m, "sealops_sealed_values", key_id="k1") == 5
    m.set_sealed_values("SealedSecret", "shop", "b", {"k2": 3})  # re-sealed under k2
    assert value(m, "sealops_sealed_values", key_id="k1") == 2
    assert value(m, "sealops_sealed_values", key_id="k2") == 4
    m.forget("SealedSecret", "shop", "a")
    assert value(m, "sealops_sealed_values", key_id="k1") is None


def test_key_generations_are_read_at_each_scrape_with_the_renewal_period() -> None:
    m = metrics.Metrics(process=False)
    infos = [collectors.KeyInfo("aa", 1000.0, "sealops")]
    m.watch_keys(lambda: infos, renewal=datetime.timedelta(days=30))
    assert value(m, "sealops_key_generation_created_timestamp_seconds", key_id="aa",
                 kind="sealops") == 1000.0
    infos.append(collectors.KeyInfo("bb", 2000.0, "bitnami"))
    assert value(m, "sealops_key_generation_created_timestamp_seconds", key_id="bb",
                 kind="bitnami") == 2000.0
    assert value(m, "sealops_key_renewal_period_seconds") == 30 * 86400


def test_a_key_registry_not_yet_loaded_exports_no_generation() -> None:
    m = metrics.Metrics(process=False)

    def unloaded() -> list[collectors.KeyInfo]:
        raise RuntimeError("the key registry has not been loaded")
    m.watch_keys(unloaded, renewal=None)
    assert not [k for k in samples(m) if k[0].startswith("sealops_key_generation_created")]
    assert value(m, "sealops_key_renewal_period_seconds") is None


def test_gitsync_stages_and_object_counters_and_their_removal() -> None:
    m = metrics.Metrics(process=False)
    m.observe_gitsync("shop", "app", outcome="Succeeded", seconds=2.0,
                      stages=[("fetch", 0.5), ("render", 0.1), ("apply", 1.0)],
                      applied={"created": 3, "configured": 0, "unchanged": 1}, pruned=2)
    assert value(m, "sealops_gitsync_stage_duration_seconds_count", stage="fetch") == 1
    assert value(m, "sealops_gitsync_objects_applied_total", namespace="shop", name="app",
                 action="created") == 3
    assert value(m, "sealops_gitsync_objects_pruned_total", namespace="shop", name="app") == 2
    assert value(m, "sealops_reconcile_duration_seconds_count", kind="GitSync",
                 outcome="Succeeded") == 1
    m.forget("GitSync", "shop", "app")
    assert value(m, "sealops_gitsync_objects_applied_total", namespace="shop", name="app",
                 action="created") is None


def test_vault_requests_logins_and_renewals_are_counted_per_store() -> None:
    m = metrics.Metrics(process=False)
    seen = m.vault_observer("VaultStore/shop/vault")
    seen.request("200")
    seen.request("403")
    seen.login("Succeeded")
    seen.renewal("PermissionDenied")
    store = "VaultStore/shop/vault"
    assert value(m, "sealops_vault_requests_total", store=store, code="403") == 1
    assert value(m, "sealops_vault_logins_total", store=store, outcome="Succeeded") == 1
    assert value(m, "sealops_vault_token_renewals_total", store=store,
                 outcome="PermissionDenied") == 1


def test_every_documented_family_is_exported_with_build_and_process_metrics() -> None:
    m = metrics.Metrics(version="9.9.9")
    m.observe_object("GitSync", sealed("app", ready="True"))
    m.set_sealed_values("SealedSecret", "shop", "a", {"k1": 1})
    m.watch_keys(lambda: [collectors.KeyInfo("aa", 1.0, "sealops")],
                 renewal=datetime.timedelta(hours=1))
    m.observe_unseal("Succeeded", 0.1)
    m.queue_delta(1)
    m.observe_http("/metrics", 200)
    m.observe_gitsync("shop", "app", outcome="Succeeded", seconds=1.0, stages=[("fetch", 1.0)],
                      applied={"created": 1}, pruned=0)
    observer = m.vault_observer("VaultStore/shop/v")
    observer.request("200")
    observer.login("Succeeded")
    observer.renewal("Succeeded")
    names = {f.name for f in text_string_to_metric_families(m.render().decode())}
    for family in metrics.FAMILIES:
        assert family.removesuffix("_total") in names, family
    assert value(m, "sealops_build_info", version="9.9.9",
                 python_version=__import__("platform").python_version()) == 1
    assert "process_cpu_seconds" in names and "python_info" in names


def test_the_readme_documents_every_family() -> None:
    readme = (__import__("pathlib").Path(__file__).resolve().parents[3] / "README.md").read_text()
    section = readme.split("## Metrics and alerts", 1)[1].split("\n## ", 1)[0]
    for family in metrics.FAMILIES:
        assert f"| `{family}` |" in section, family
