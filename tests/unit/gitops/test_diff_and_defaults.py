"""`sealops diff` text never shows a secret value; SSA port defaults (controller.apply)."""

from __future__ import annotations

from typing import Any

from controller.apply import defaults, diff

CANARY = "canary-5f0e1d"


def secret(**data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "db", "namespace": "ns"}, "data": data}


def test_diff_of_a_secret_names_changed_keys_but_never_shows_a_value() -> None:
    before = secret(user="YWRtaW4=", password=CANARY)
    after = secret(user="YWRtaW4=", password=CANARY + "x", token="dG9r")
    text = diff.unified(before, after)
    assert CANARY not in text and "YWRtaW4=" not in text and "dG9r" not in text
    assert "+  password: '*** (changed)'" in text
    assert "+  token: '*** (changed)'" in text
    assert "user: '***'" in text


def test_diff_masks_ciphertext_and_the_client_side_apply_annotation() -> None:
    sealed = {"apiVersion": "sealops.dev/v1alpha1", "kind": "SealedSecret",
              "metadata": {"name": "db", "namespace": "ns", "annotations": {
                  diff.LAST_APPLIED: '{"data":{"password":"' + CANARY + '"}}'}},
              "spec": {"encryptedData": {"password": CANARY}}}
    text = diff.unified(None, sealed)
    assert CANARY not in text
    assert "password: '*** (changed)'" in text


def test_diff_of_equal_objects_is_empty_and_ignores_metadata_noise() -> None:
    live: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "namespace": "ns", "resourceVersion": "1",
                         "managedFields": [{"manager": "x"}]}, "data": {"a": "1"}}
    applied = {**live, "metadata": {**live["metadata"], "resourceVersion": "2"}}
    assert diff.unified(live, applied) == ""
    changed = {**applied, "data": {"a": "2"}}
    assert "-  a: '1'\n+  a: '2'" in diff.unified(live, changed)


def test_mask_pair_leaves_the_inputs_untouched() -> None:
    before = secret(password=CANARY)
    diff.mask_pair(before, before)
    assert before["data"]["password"] == CANARY


def test_missing_port_protocols_default_to_tcp_on_services_and_pod_templates() -> None:
    service: dict[str, Any] = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
                               "spec": {"ports": [{"port": 80}, {"port": 53, "protocol": "UDP"}]}}
    fixed = defaults.with_defaults(service)
    assert [p["protocol"] for p in fixed["spec"]["ports"]] == ["TCP", "UDP"]
    assert "protocol" not in service["spec"]["ports"][0]
    cron = {"apiVersion": "batch/v1beta1", "kind": "CronJob", "metadata": {"name": "j"},
            "spec": {"jobTemplate": {"spec": {"template": {"spec": {
                "initContainers": [{"name": "i", "ports": [{"containerPort": 1}]}],
                "containers": [{"name": "c", "ports": [{"containerPort": 2}]}]}}}}}}
    pod = defaults.with_defaults(cron)["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["initContainers"][0]["ports"][0]["protocol"] == "TCP"
    assert pod["containers"][0]["ports"][0]["protocol"] == "TCP"


def test_objects_without_ports_are_returned_unchanged() -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}
    assert defaults.with_defaults(cm) == cm
