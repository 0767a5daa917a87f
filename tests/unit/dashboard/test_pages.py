"""Templates render every page from a snapshot; autoescape makes hostile names inert text;
the server's host check and the CLI's address check refuse what they must."""

from __future__ import annotations

import dataclasses
import datetime
import html.parser
from typing import Any

import pytest
from click.testing import CliRunner

from controller import cli
from controller.dashboard import collect, keygens, rows, server

NOW = datetime.datetime(2026, 12, 3, 12, 0, tzinfo=datetime.UTC)
HOSTILE = '<img src=x onerror="alert(1)">'


def _gitsync(name: str, ready: str, reason: str, message: str) -> dict[str, Any]:
    return {"metadata": {"namespace": "shop", "name": name,
                         "creationTimestamp": "2026-12-03T11:00:00Z"},
            "spec": {"url": "https://git.example/app.git"},
            "status": {"conditions": [{"type": "Ready", "status": ready, "reason": reason,
                                       "message": message}],
                       "history": [{"revision": "main@sha1:1", "reason": "FetchFailed",
                                    "ready": False, "durationSeconds": 2,
                                    "time": "2026-12-03T11:30:00Z",
                                    "stages": [{"name": "fetch", "durationSeconds": 2}]}]}}


def _snapshot(**sections: Any) -> collect.Snapshot:
    empty: collect.Section[Any] = collect.Section()
    base: dict[str, Any] = dict(
        now=NOW, server="https://127.0.0.1:6443", namespace="shop",
        controller_namespace="sealops-system", gitsyncs=empty, sealed_secrets=empty,
        vault_secrets=empty, vault_stores=empty, cluster_vault_stores=empty,
        keys=keygens.KeyView(()), keys_problem="", events=empty)
    base.update(sections)
    return collect.Snapshot(**base)


class _Rows(html.parser.HTMLParser):
    """The class attribute and text of every <tr>, and every element name seen."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[str, str]] = []
        self.tags: set[str] = set()
        self._row: list[str] | None = None
        self._css = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        if tag == "tr":
            self._row, self._css = [], dict(attrs).get("class") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr" and self._row is not None:
            self.rows.append((self._css, " ".join(" ".join(self._row).split())))
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._row is not None:
            self._row.append(data)


def _render(page: str, snap: collect.Snapshot, **extra: Any) -> _Rows:
    text = server.environment().get_template(f"{page}.html").render(
        snap=snap, page=page, pages=server.PAGES, refresh=5, **extra)
    parsed = _Rows()
    parsed.feed(text)
    return parsed


@pytest.mark.parametrize("page", [p[1] for p in server.PAGES])
def test_every_page_renders_a_failing_gitsync_red_and_a_hostile_name_as_text(
        page: str) -> None:
    failing = rows.gitsync_row(_gitsync(HOSTILE, "False", "FetchFailed", "cannot fetch"))
    snap = _snapshot(gitsyncs=collect.Section((failing,)),
                     sealed_secrets=collect.Section(problem=collect.NOT_PERMITTED))
    parsed = _render(page, snap)
    assert "img" not in parsed.tags and "script" not in parsed.tags
    if page in ("overview", "gitsyncs"):
        (css, text), = [r for r in parsed.rows if HOSTILE in r[1]]
        assert css == "status-failed"
        assert "FetchFailed" in text and "cannot fetch" in text


def test_a_section_the_user_may_not_list_says_so() -> None:
    snap = _snapshot(sealed_secrets=collect.Section(problem=collect.NOT_PERMITTED))
    text = server.environment().get_template("secrets.html").render(
        snap=snap, page="secrets", pages=server.PAGES, refresh=0)
    assert "SealedSecrets: not permitted" in text
    assert "No VaultSecrets in namespace shop." in text
    assert 'http-equiv="refresh"' not in text


def test_the_gitsync_page_shows_the_run_history_and_the_inventory() -> None:
    obj = _gitsync("app", "True", "Succeeded", "Applied revision")
    obj["status"]["inventory"] = {"entries": [{"id": "shop_web_apps_Deployment", "v": "v1"}]}
    row = rows.gitsync_row(obj)
    text = server.environment().get_template("gitsync.html").render(
        snap=_snapshot(gitsyncs=collect.Section((row,))), page="gitsync", pages=server.PAGES,
        refresh=0, row=row)
    parsed = _Rows()
    parsed.feed(text)
    assert ("status-failed", "30m main@sha1:1 Not ready FetchFailed 2.00 s fetch 2.0 s") \
        in parsed.rows
    assert '<rect class="stage-fetch" x="0" y="0" width="400" height="14">' in text
    assert "<li>Deployment shop/web</li>" in text and "Inventory (1)" in text


@pytest.mark.parametrize(("host", "header", "allowed"), [
    ("127.0.0.1", "127.0.0.1:9333", True), ("127.0.0.1", "localhost:9333", True),
    ("127.0.0.1", "LOCALHOST:9333", True), ("::1", "[::1]:9333", True),
    ("127.0.0.1", "evil.example:9333", False), ("127.0.0.1", "127.0.0.1:80", False),
    ("192.0.2.7", "192.0.2.7:9333", True), ("192.0.2.7", "localhost:9333", False),
])
def test_only_the_listening_address_passes_the_host_check(host: str, header: str,
                                                            allowed: bool) -> None:
    hosts = server.allowed_hosts(host, 9333)
    assert hosts is not None and (header.lower() in hosts) is allowed


def test_a_wildcard_address_disables_the_host_check_and_is_not_loopback() -> None:
    assert server.allowed_hosts("0.0.0.0", 1) is None
    assert not server.is_loopback("0.0.0.0") and not server.is_loopback("example.com")
    assert server.is_loopback("127.0.0.2") and server.is_loopback("::1")


def test_the_cli_refuses_a_non_loopback_address_without_the_explicit_flag() -> None:
    result = CliRunner().invoke(cli.cli, ["dashboard", "--address", "0.0.0.0", "--no-open"])
    assert result.exit_code == 2
    assert "not a loopback address" in result.output and "--allow-non-loopback" in result.output


def test_the_cli_refuses_a_namespace_with_all_namespaces() -> None:
    result = CliRunner().invoke(cli.cli, ["dashboard", "-n", "shop", "-A"])
    assert result.exit_code == 2 and "either --namespace or --all-namespaces" in result.output


def test_the_gitsync_list_draws_one_bar_per_run_coloured_by_outcome() -> None:
    obj = _gitsync("app", "True", "Succeeded", "Applied revision")
    obj["status"]["history"].insert(0, {"revision": "main@sha1:2", "reason": "Succeeded",
                                        "ready": True, "durationSeconds": 1,
                                        "time": "2026-12-03T11:40:00Z"})
    row = rows.gitsync_row(obj)
    text = server.environment().get_template("gitsyncs.html").render(
        snap=_snapshot(gitsyncs=collect.Section((row,))), page="gitsyncs",
        pages=server.PAGES, refresh=0)
    assert '<rect class="run-failed" x="0" y="0" width="10" height="24">' in text
    assert '<rect class="run-ok" x="14" y="12" width="10" height="12">' in text


def test_a_forbidden_cluster_wide_list_suggests_one_namespace() -> None:
    forbidden: collect.Section[Any] = collect.Section(problem=collect.NOT_PERMITTED)
    for namespace, hinted in ((None, True), ("shop", False)):
        snap = dataclasses.replace(_snapshot(gitsyncs=forbidden), namespace=namespace)
        text = server.environment().get_template("gitsyncs.html").render(
            snap=snap, page="gitsyncs", pages=server.PAGES, refresh=0)
        assert "GitSyncs: not permitted" in text
        assert ("<code>-n NAMESPACE</code>" in text) is hinted
