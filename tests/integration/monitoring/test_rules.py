"""The shipped monitoring (deploy/monitoring) checked by Prometheus' own tool: the rules load,
every alert's unit tests pass, the PrometheusRule carries exactly those rules, and the
PodMonitor, PrometheusRule and dashboard ConfigMap build with kustomize."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import yaml

from tests.integration.monitoring.prometheus import MONITORING, PROMTOOL, RULES

HERE = Path(__file__).resolve().parent
UNIT_TESTS = [HERE / "alerts_test.yaml", HERE / "alerts_keys_test.yaml"]


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(PROMTOOL), *args], capture_output=True, text=True, timeout=600,
                          check=False)


def test_promtool_checks_the_rules() -> None:
    result = promtool("check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 6 rules found" in result.stdout


def test_every_alert_has_promtool_unit_tests_and_they_pass() -> None:
    alerts = {r["alert"] for g in yaml.safe_load(RULES.read_text())["groups"]
              for r in g["rules"] if "alert" in r}
    tested = {case["alertname"] for path in UNIT_TESTS
              for group in yaml.safe_load(path.read_text())["tests"]
              for case in group["alert_rule_test"] if case["exp_alerts"]}
    assert tested == alerts
    result = subprocess.run([str(PROMTOOL), "test", "rules", *map(str, UNIT_TESTS)],
                            capture_output=True, text=True, timeout=600, cwd=HERE, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(UNIT_TESTS)


def test_a_broken_alert_expectation_fails_promtool(tmp_path: Path) -> None:
    """Positive control: promtool test rules does fail on a wrong expectation."""
    doc = yaml.safe_load(UNIT_TESTS[0].read_text())
    doc["rule_files"] = [str(RULES)]
    first = doc["tests"][0]["alert_rule_test"][-1]["exp_alerts"][0]["exp_labels"]
    first["name"] = "someone-else"
    broken = tmp_path / "broken_test.yaml"
    broken.write_text(yaml.safe_dump(doc))
    assert promtool("test", "rules", str(broken)).returncode != 0


def test_the_prometheus_rule_holds_exactly_the_plain_rules() -> None:
    rule = yaml.safe_load((MONITORING / "prometheusrule.yaml").read_text())
    assert (rule["apiVersion"], rule["kind"]) == ("monitoring.coreos.com/v1", "PrometheusRule")
    assert rule["spec"]["groups"] == yaml.safe_load(RULES.read_text())["groups"]


def test_the_monitoring_kustomization_builds_a_pod_monitor_rule_and_dashboard() -> None:
    built = subprocess.run(["kubectl", "kustomize", str(MONITORING)], capture_output=True,
                           text=True, timeout=120, check=True).stdout
    objects = {(o["kind"], o["metadata"]["name"]): o for o in yaml.safe_load_all(built)}
    assert set(objects) == {("PodMonitor", "sealops-controller"),
                            ("PrometheusRule", "sealops"),
                            ("ConfigMap", "sealops-grafana-dashboard")}
    monitor = objects[("PodMonitor", "sealops-controller")]["spec"]
    deployment = yaml.safe_load((MONITORING.parent / "deployment.yaml").read_text())
    pod = deployment["spec"]["template"]
    assert monitor["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    ports = {p["name"] for c in pod["spec"]["containers"] for p in c.get("ports") or []}
    assert {e["port"] for e in monitor["podMetricsEndpoints"]} <= ports
    assert all(e["path"] == "/metrics" for e in monitor["podMetricsEndpoints"])
    board = objects[("ConfigMap", "sealops-grafana-dashboard")]
    assert board["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(board["data"]["sealops.json"])["uid"] == "sealops-overview"
