"""The pure parts of `sealops get|reconcile|version`: tables, ages, request stamps."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from controller import status
from controller.commands import control
from controller.commands import status as commands
from sealer import errors

NOW = datetime.datetime(2026, 1, 2, 12, 0, 0, tzinfo=datetime.UTC)


def _obj(name: str, *, namespace: str = "shop", ready: str | None = "True",
         reason: str = "Succeeded", **state: object) -> dict[str, object]:
    conditions = [] if ready is None else [{"type": "Ready", "status": ready, "reason": reason,
                                            "message": "m"}]
    return {"metadata": {"name": name, "namespace": namespace,
                         "creationTimestamp": "2026-01-02T11:55:00Z"},
            "status": {"conditions": conditions, **state}}


def test_a_sealedsecret_table_shows_ready_reason_key_and_age() -> None:
    table = commands.rows(commands.KINDS["sealedsecret"],
                          [_obj("b", keyId="ab" * 16), _obj("a", ready=None)],
                          all_namespaces=False, prefix=False, now=NOW)
    assert table == [["NAME", "READY", "REASON", "KEY", "AGE"],
                     ["a", "Unknown", "", "", "5m"],
                     ["b", "True", "Succeeded", "ab" * 8, "5m"]]


def test_all_namespaces_puts_the_namespace_first_and_gitsyncs_show_suspended() -> None:
    sync = _obj("app", lastAppliedRevision="main@sha1:abc")
    sync["spec"] = {"suspend": True}
    table = commands.rows(commands.KINDS["gitsync"], [sync], all_namespaces=True, prefix=True,
                          now=NOW)
    assert table == [["NAMESPACE", "NAME", "READY", "REASON", "REVISION", "SUSPENDED", "AGE"],
                     ["shop", "gitsync/app", "True", "Succeeded", "main@sha1:abc", "true",
                      "5m"]]
    assert commands.render(table).splitlines()[1].split() == table[1]


def test_ages_read_like_kubectls() -> None:
    assert [commands.age(t, now=NOW) for t in ("2026-01-02T11:59:15Z", "2026-01-02T09:00:00Z",
                                                "2025-12-30T12:00:00Z", None, "garbage")] == \
        ["45s", "3h", "3d", "", ""]


def test_each_reconcile_request_is_a_new_value_the_status_must_echo() -> None:
    first = control.request_stamp(NOW)
    second = control.request_stamp(NOW + datetime.timedelta(microseconds=1))
    assert first != second and first.endswith("Z")
    obj = {"metadata": {"annotations": {status.RECONCILE_REQUESTED_AT: first}},
           "status": {status.LAST_HANDLED: second}}
    assert status.requested_at(obj) == first and status.request_pending(obj)
    obj["status"] = {status.LAST_HANDLED: first}
    assert not status.request_pending(obj)
    assert status.requested_at({"metadata": {"annotations": {
        status.RECONCILE_REQUESTED_AT: 7}}}) is None


def test_the_controller_build_comes_from_its_deployment() -> None:
    lines = commands.describe_deployment({
        "metadata": {"name": "sealops-controller", "namespace": "sealops-system",
                     "labels": {"app.kubernetes.io/version": "0.1.0"}},
        "spec": {"replicas": 2, "template": {"spec": {"containers": [
            {"image": "registry.example/sealops:0.1.0"}]}}},
        "status": {"readyReplicas": 1}})
    assert lines == ["controller: registry.example/sealops:0.1.0 (Deployment "
                     "sealops-system/sealops-controller, 1/2 ready)",
                     "controller version label: 0.1.0"]


def test_the_default_namespace_is_the_kubeconfig_contexts(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: a\n"
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        "users: [{name: u, user: {}}]\n"
        "contexts:\n- {name: a, context: {cluster: c, user: u, namespace: shop}}\n"
        "- {name: b, context: {cluster: c, user: u}}\n")
    assert commands.default_namespace(str(config)) == "shop"
    assert commands.default_namespace(str(config), "b") == "default"
    with pytest.raises(errors.ClusterError, match="no such file"):  # as kubectl: named, an error
        commands.default_namespace(str(tmp_path / "missing"))


def test_status_text_cannot_drive_the_operators_terminal() -> None:
    hostile = _obj("x", reason="Bad\x1b[2J\u202eevil")
    line = commands.render(commands.rows(commands.KINDS["vaultsecret"], [hostile],
                                         all_namespaces=False, prefix=False, now=NOW))
    assert "\x1b" not in line and "\u202e" not in line and "Bad?[2J?evil" in line
