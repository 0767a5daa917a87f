"""The view-model rows: what is shown of each kind, and what never is."""

from __future__ import annotations

import datetime
import json
from typing import Any

from controller.dashboard import common, rows

CANARY = "canary-value-7d1f"


def _gitsync(**status: Any) -> dict[str, Any]:
    return {"apiVersion": "sealops.dev/v1alpha1", "kind": "GitSync",
            "metadata": {"namespace": "shop", "name": "app",
                         "creationTimestamp": "2026-12-03T10:00:00Z",
                         "annotations": {"kubectl.kubernetes.io/last-applied-configuration":
                                         CANARY}},
            "spec": {"url": f"https://bob:{CANARY}@git.example/app.git",
                     "ref": {"tag": "v1.2", "commit": "a" * 40}, "path": "apps/shop",
                     "interval": "1m", "suspend": False},
            "status": status}


def test_a_failing_gitsync_row_is_red_with_its_reason_and_message() -> None:
    row = rows.gitsync_row(_gitsync(conditions=[
        {"type": "Ready", "status": "False", "reason": "FetchFailed",
         "message": "GitSync shop/app: cannot fetch the source",
         "lastTransitionTime": "2026-12-03T10:05:00Z"}],
        lastAttemptedRevision="main@sha1:" + "b" * 40))
    assert row.state is common.State.FAILED
    assert row.ready is not None and row.ready.reason == "FetchFailed"
    assert row.last_error == "GitSync shop/app: cannot fetch the source"
    assert row.ref == "tag v1.2 @ aaaaaaaaaaaa"
    assert row.url == "https://git.example/app.git"
    assert row.applied_revision == "" and row.attempted_revision.endswith("b" * 40)


def test_a_gitsync_row_holds_no_annotation_and_no_url_credential() -> None:
    row = rows.gitsync_row(_gitsync())
    assert CANARY not in json.dumps(row, default=str)
    assert row.last_error == "" and row.state is common.State.UNKNOWN


def test_inventory_entries_are_shown_as_kind_and_name_and_bad_ones_as_unreadable() -> None:
    row = rows.gitsync_row(_gitsync(inventory={"entries": [
        {"id": "shop_web_apps_Deployment", "v": "v1"}, {"id": "_ns1__Namespace", "v": "v1"},
        {"id": "nonsense", "v": "v1"}, "junk"]}))
    assert row.inventory == ("Deployment shop/web", "Namespace ns1", "(unreadable entry)",
                             "(unreadable entry)")
    assert row.inventory_count == 4


def test_history_as_the_controller_writes_it_is_newest_first_with_stages_in_order() -> None:
    row = rows.gitsync_row(_gitsync(history=[
        {"revision": "main@sha1:2", "reason": "ApplyFailed", "ready": False,
         "time": "2026-12-03T11:00:00Z", "durationSeconds": 0.4,
         "stages": [{"name": "fetch", "durationSeconds": 0.1},
                    {"name": "render", "durationSeconds": 0.05},
                    {"name": "apply", "durationSeconds": 0.25}]},
        {"revision": "main@sha1:1", "reason": "Succeeded", "ready": True,
         "time": "2026-12-03T10:00:00Z", "durationSeconds": 1.5,
         "stages": [{"name": "fetch", "durationSeconds": 1}, {"name": "x<y", "durationSeconds": 0},
                    {"name": "bad", "durationSeconds": "soon"}]},
    ]))
    failed, ok = row.runs
    assert (failed.revision, failed.outcome, failed.reason, failed.state, failed.seconds) == \
        ("main@sha1:2", "Not ready", "ApplyFailed", common.State.FAILED, 0.4)
    assert [(s.name, s.css) for s in failed.stages] == [
        ("fetch", "stage-fetch"), ("render", "stage-render"), ("apply", "stage-apply")]
    assert ok.state is common.State.OK and ok.outcome == "Ready"
    assert [(s.name, s.css) for s in ok.stages] == [("fetch", "stage-fetch"),
                                                    ("x<y", "stage-other")]


def test_other_history_shapes_are_read_leniently_and_sorted_by_time() -> None:
    row = rows.gitsync_row(_gitsync(history=[
        {"revision": "main@sha1:1", "outcome": "Succeeded", "duration": "1.5s",
         "time": "2026-12-03T10:00:00Z", "stages": {"fetch": "250ms", "apply": "1s"}},
        {"revision": "main@sha1:2", "outcome": "Failed", "time": "2026-12-03T11:00:00Z"},
        {"metadata": {"revision": "main@sha1:3"}, "lastReconciledStatus": "Ready",
         "lastReconciledDuration": "2m3s", "lastReconciled": "2026-12-03T09:00:00Z"},
        "not an entry"]))
    assert [r.revision for r in row.runs] == ["main@sha1:2", "main@sha1:1", "main@sha1:3"]
    failed, ok, flux = row.runs
    assert failed.state is common.State.FAILED and failed.seconds is None
    assert ok.stages == (rows.Stage("fetch", 0.25), rows.Stage("apply", 1.0))
    assert flux.state is common.State.OK and flux.seconds == 123.0


def test_no_history_and_hostile_history_give_no_runs() -> None:
    assert rows.gitsync_row(_gitsync()).runs == ()
    assert rows.gitsync_row(_gitsync(history={"a": 1})).runs == ()
    assert len(rows.history({"history": [{"outcome": "Succeeded"}] * 50})) == rows.MAX_RUNS


def test_durations() -> None:
    assert rows.seconds("1h2m3.5s") == 3723.5
    assert rows.seconds("250ms") == 0.25
    assert rows.seconds(-1) is None and rows.seconds(True) is None
    assert rows.seconds("1.5") is None and rows.seconds("s") is None


def test_a_sealed_secret_row_shows_item_keys_and_key_id_but_no_value_or_template_data() -> None:
    obj = {"apiVersion": "sealops.dev/v1alpha1", "kind": "SealedSecret",
           "metadata": {"namespace": "shop", "name": "db"},
           "spec": {"encryptedData": {"password": "U08C" + "A" * 40, "user": "U08C" + "B" * 40},
                    "template": {"data": {"static": CANARY}}},
           "status": {"keyId": "0123456789abcdef", "conditions": [
               {"type": "Ready", "status": "True", "reason": "Unsealed", "message": "ok",
                "lastTransitionTime": "2026-12-03T10:00:00Z",
                "lastUpdateTime": "2026-12-03T11:00:00Z"}]}}
    row = rows.sealed_secret_row(obj)
    assert row.items == ("password", "user") and row.key_id == "0123456789abcdef"
    assert row.state is common.State.OK and row.group == "sealops.dev"
    assert row.updated == datetime.datetime(2026, 12, 3, 11, 0, tzinfo=datetime.UTC)
    dumped = json.dumps(row, default=str)
    assert CANARY not in dumped and "A" * 40 not in dumped


def test_a_vault_secret_row_names_store_paths_and_last_refresh() -> None:
    row = rows.vault_secret_row({
        "metadata": {"namespace": "shop", "name": "db"},
        "spec": {"storeRef": {"name": "vault"}, "refreshInterval": "15m",
                 "target": {"name": "db-creds"},
                 "data": [{"secretKey": "pw", "remoteRef": {"path": "shop/db",
                                                            "property": "password"}}],
                 "dataFrom": [{"path": "shop/all"}, "junk"]},
        "status": {"refreshTime": "2026-12-03T11:59:00Z", "dataHash": CANARY}})
    assert row.store == "VaultStore vault" and row.target == "db-creds"
    assert row.paths == ("shop/db#password", "shop/all (all keys)")
    assert row.refreshed is not None and CANARY not in json.dumps(row, default=str)


def test_a_store_row_names_the_auth_method_but_not_its_references() -> None:
    row = rows.store_row({
        "kind": "ClusterVaultStore", "metadata": {"name": "shared"},
        "spec": {"server": "https://vault.example:8200", "pathPrefix": "{namespace}",
                 "kv": {"mount": "kv", "version": 1},
                 "auth": {"appRole": {"roleId": CANARY, "secretRef": {"name": "x"}}}},
        "status": {"conditions": [{"type": "Ready", "status": "False", "reason": "LoginFailed",
                                   "message": "login refused"}]}})
    assert (row.kind, row.namespace, row.auth, row.mount) == \
        ("ClusterVaultStore", "", "appRole", "kv (KV v1)")
    assert row.state is common.State.FAILED and CANARY not in json.dumps(row, default=str)


def test_an_event_row_uses_the_newest_timestamp_it_has() -> None:
    row = rows.event_row({
        "metadata": {"creationTimestamp": "2026-12-03T09:00:00Z"},
        "involvedObject": {"kind": "GitSync", "namespace": "shop", "name": "app"},
        "type": "Warning", "reason": "FetchFailed", "message": "m", "count": True,
        "eventTime": "2026-12-03T10:00:00Z"})
    assert row.warning and row.count == 1
    assert row.time == datetime.datetime(2026, 12, 3, 10, 0, tzinfo=datetime.UTC)
