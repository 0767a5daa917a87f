"""Fixtures for the dashboard tests: `sealops dashboard` as a real process, and a real headless
Chromium (Debian's `chromium`, installed by scripts/setup-chromium.sh) that loads its pages.

Screenshots go to the test's tmp dir and, when $SEALOPS_ARTEFACTS is set, are copied there.
"""

from __future__ import annotations

import dataclasses
import html.parser
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sealer.kube import client
from tests.harness.controlplane import free_port
from tests.harness.waiting import wait_for

ROOT = Path(__file__).resolve().parents[3]
BROWSER_TIMEOUT = 180  # a hang guard for one browser run on a busy machine, not a budget
SERVICE_ACCOUNTS = client.Resource("", "v1", "ServiceAccount", "serviceaccounts", True)
ROLES = client.Resource("rbac.authorization.k8s.io", "v1", "Role", "roles", True)
ROLE_BINDINGS = client.Resource("rbac.authorization.k8s.io", "v1", "RoleBinding",
                                "rolebindings", True)


@dataclasses.dataclass
class Browser:
    """One headless Chromium run per call, each with its own throw-away profile."""

    executable: str
    work: Path
    artefacts: Path
    _runs: int = 0

    def _run(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        self._runs += 1
        profile = self.work / f"profile-{self._runs}"
        result = subprocess.run(
            [self.executable, "--headless=new", "--no-sandbox", "--disable-gpu",
             "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
             "--disable-extensions", "--disable-background-networking",
             f"--user-data-dir={profile}", *args],
            capture_output=True, timeout=BROWSER_TIMEOUT, check=False,
            env={**os.environ, "HOME": str(self.work)})
        shutil.rmtree(profile, ignore_errors=True)
        return result

    def dom(self, url: str) -> str:
        """The DOM after the page (and its stylesheet) loaded, serialised by the browser."""
        result = self._run("--dump-dom", url)
        assert result.returncode == 0, result.stderr.decode(errors="replace")[-2000:]
        return result.stdout.decode()

    def screenshot(self, url: str, name: str, *, size: str = "1280,900") -> Path:
        path = self.artefacts / name
        result = self._run(f"--screenshot={path}", f"--window-size={size}",
                           "--hide-scrollbars", url)
        assert result.returncode == 0 and path.is_file(), \
            result.stderr.decode(errors="replace")[-2000:]
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        saved = os.environ.get("SEALOPS_ARTEFACTS")
        if saved:
            Path(saved).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(saved) / name)
        return path


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    found = shutil.which("chromium")
    assert found, "chromium is not installed: run `bash scripts/setup-chromium.sh` (make test does)"
    return found


@pytest.fixture
def browser(chromium_executable: str, tmp_path: Path) -> Browser:
    (tmp_path / "screenshots").mkdir()
    return Browser(chromium_executable, tmp_path, tmp_path / "screenshots")


@dataclasses.dataclass
class RunningDashboard:
    proc: subprocess.Popen[bytes]
    url: str
    log: Path

    def get(self, path: str, *, headers: dict[str, str] | None = None,
            method: str = "GET") -> tuple[int, str, dict[str, str]]:
        req = urllib.request.Request(self.url.rstrip("/") + path, headers=headers or {},
                                     method=method)
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return resp.status, resp.read().decode(), dict(resp.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(), dict(exc.headers)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)


StartDashboard = Callable[..., RunningDashboard]
_URL = re.compile(rb"at (http://127\.0\.0\.1:\d+/)")


@pytest.fixture
def start_dashboard(tmp_path: Path) -> Iterator[StartDashboard]:
    started: list[RunningDashboard] = []

    def start(*, kubeconfig: Path, args: tuple[str, ...]) -> RunningDashboard:
        log = tmp_path / f"dashboard-{len(started)}.log"
        port = free_port()
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "controller.cli", "--kubeconfig", str(kubeconfig),
                 "dashboard", "--port", str(port), "--no-open", *args],
                stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"})
        found = wait_for(lambda: proc.poll() is not None or _URL.search(log.read_bytes()),
                         timeout=120, what="the dashboard to listen")
        assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
        running = RunningDashboard(proc, found.group(1).decode(), log)
        started.append(running)
        assert running.url == f"http://127.0.0.1:{port}/"
        return running

    yield start
    for running in started:
        running.stop()


def limited_kubeconfig(kube: Any, admin: Path, *, namespace: str, rules: list[dict[str, Any]],
                       out: Path) -> Path:
    """A kubeconfig for a new ServiceAccount of `namespace` granted only `rules` there."""
    name = "viewer"
    kube.create(SERVICE_ACCOUNTS, {"metadata": {"name": name}}, namespace=namespace)
    kube.create(ROLES, {"metadata": {"name": name}, "rules": rules}, namespace=namespace)
    kube.create(ROLE_BINDINGS, {
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}]},
        namespace=namespace)
    answer = kube.request(
        "POST", f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token",
        body={"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
              "spec": {"expirationSeconds": 3600}})
    config = json.loads(admin.read_text())
    config["users"] = [{"name": "admin", "user": {"token": answer["status"]["token"]}}]
    config["contexts"][0]["context"]["namespace"] = namespace
    out.write_text(json.dumps(config))
    out.chmod(0o600)
    return out


@dataclasses.dataclass
class Row:
    css: str
    kind: str
    name: str
    text: str


class _RowParser(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[Row] = []
        self.problems: list[str] = []
        self._open: list[tuple[Row, list[str]]] = []
        self._problem: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag in ("tr", "table") and found.get("data-name") is not None:
            self._open.append((Row(found.get("class") or "", found.get("data-kind") or "",
                                   found.get("data-name") or "", ""), []))
        if tag == "p" and "problem" in (found.get("class") or ""):
            self._problem = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("tr", "table") and self._open:
            row, parts = self._open.pop()
            self.rows.append(dataclasses.replace(row, text=" ".join(" ".join(parts).split())))
        if tag == "p" and self._problem is not None:
            self.problems.append(" ".join(" ".join(self._problem).split()))
            self._problem = None

    def handle_data(self, data: str) -> None:
        for _row, parts in self._open:
            parts.append(data)
        if self._problem is not None:
            self._problem.append(data)


def rows_of(dom: str) -> list[Row]:
    """Every object row (an element with data-name) of a page, with its class and text."""
    parser = _RowParser()
    parser.feed(dom)
    return parser.rows


def problems_of(dom: str) -> list[str]:
    parser = _RowParser()
    parser.feed(dom)
    return parser.problems


# The GitOps tests' git server and repository fixture (it needs only kube, namespace, tmp_path).
from tests.integration.gitops.conftest import gitops  # noqa: E402,F401


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGB(A) bytes) of an 8-bit non-interlaced PNG, as Chromium
    writes its screenshots; enough to count coloured pixels without an imaging library."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        length = struct.unpack(">I", data[pos:pos + 4])[0]
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        header = body if kind == b"IHDR" else header
        idat += body if kind == b"IDAT" else b""
        pos += 12 + length
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and color in (2, 6) and interlace == 0, (depth, color, interlace)
    step = 3 if color == 2 else 4
    raw, stride = zlib.decompress(idat), width * (3 if color == 2 else 4)
    rows, previous = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = line[i - step] if i >= step else 0
            up, corner = previous[i], previous[i - step] if i >= step else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else (up if pb <= pc else corner)
                line[i] = (line[i] + pred) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, step, rows


def count_colour(png: Path, rgb: tuple[int, int, int]) -> int:
    """How many pixels of the screenshot have exactly this colour."""
    width, step, rows = png_pixels(png.read_bytes())
    target = bytes(rgb)
    return sum(1 for line in rows for x in range(width)
               if line[x * step:x * step + 3] == target)
