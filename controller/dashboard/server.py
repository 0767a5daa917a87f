"""The dashboard's aiohttp application: read-only pages rendered by Jinja2 templates.

Templates and the stylesheet are package data (`templates/`, `static/`) loaded through the
package, so they ship in the wheel. Autoescaping is on for every template, and every page is
sent with a Content-Security-Policy that allows no script, no inline style and no frame, so a
hostile object name or message is inert text. Only GET (and HEAD) exist: there is nothing to
write. A request whose Host is not the address the dashboard listens on is refused, so a web
page the user visits cannot reach the dashboard through DNS rebinding.

One snapshot (`collect.collect`, run in a worker thread) serves every page for
`Settings.cache_seconds`, so several tabs refreshing do not multiply the API reads.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import enum
import importlib.resources
import json
from collections.abc import Awaitable, Callable
from typing import Any

import jinja2
from aiohttp import web

from controller.dashboard import collect, common, rows, timeline
from controller.loopback import is_loopback
from sealer.kube import client

__all__ = ["Dashboard", "Settings", "allowed_hosts", "environment", "is_loopback", "serve"]

Now = Callable[[], datetime.datetime]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
       "form-action 'none'; frame-ancestors 'none'")
PAGES = (("/", "overview", "Overview"), ("/gitsyncs", "gitsyncs", "GitSyncs"),
         ("/secrets", "secrets", "Secrets"), ("/stores", "stores", "Stores"),
         ("/keys", "keys", "Key generations"), ("/events", "events", "Events"))


@dataclasses.dataclass(frozen=True)
class Settings:
    namespace: str | None  # None: all namespaces
    controller_namespace: str
    refresh_seconds: int = 10  # 0: no auto-refresh
    cache_seconds: float = 2.0


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _plain(value: Any) -> Any:
    """JSON for the view-model: datetimes as RFC 3339, enums by value."""
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, enum.Enum):
        return value.value
    raise TypeError(f"not JSON: {type(value).__name__}")


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("controller.dashboard", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
        lstrip_blocks=True)
    env.filters["age"] = common.age
    env.globals["State"] = common.State
    env.globals["stages"] = rows.STAGES
    env.globals["run_bars"] = timeline.run_bars
    env.globals["stage_segments"] = timeline.stage_segments
    env.globals["longest"] = timeline.longest
    return env


class Dashboard:
    """Holds the user's client, the templates and the cached snapshot."""

    def __init__(self, kube: client.KubeClient, settings: Settings, *,
                 now: Now = _utcnow) -> None:
        self._kube = kube
        self._settings = settings
        self._now = now
        self._env = environment()
        self._css = importlib.resources.files("controller.dashboard").joinpath(
            "static", "dashboard.css").read_bytes()
        self._lock = asyncio.Lock()
        self._cached: tuple[float, collect.Snapshot] | None = None
        self.allowed_hosts: frozenset[str] | None = frozenset()  # set by `serve`

    async def snapshot(self) -> collect.Snapshot:
        loop = asyncio.get_running_loop()
        async with self._lock:
            if self._cached and loop.time() - self._cached[0] < self._settings.cache_seconds:
                return self._cached[1]
            snap = await asyncio.to_thread(
                collect.collect, self._kube, namespace=self._settings.namespace,
                controller_namespace=self._settings.controller_namespace, now=self._now())
            self._cached = (loop.time(), snap)
            return snap

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._guard])
        for path, template, _title in PAGES:
            app.router.add_get(path, self._page(template))
        app.router.add_get("/gitsyncs/{namespace}/{name}", self._gitsync)
        app.router.add_get("/api/snapshot.json", self._json)
        app.router.add_get("/static/dashboard.css", self._stylesheet)
        return app

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        allowed = self.allowed_hosts
        if allowed is not None and request.host.lower() not in allowed:
            response: web.StreamResponse = web.Response(status=421, text="wrong host\n")
        else:
            try:
                response = await handler(request)
            except web.HTTPException as exc:
                response = web.Response(status=exc.status, text=f"{exc.reason}\n")
        for name, value in (("Content-Security-Policy", CSP), ("X-Frame-Options", "DENY"),
                            ("X-Content-Type-Options", "nosniff"),
                            ("Referrer-Policy", "no-referrer"), ("Cache-Control", "no-store")):
            response.headers[name] = value
        return response

    def _render(self, template: str, snap: collect.Snapshot, **extra: Any) -> web.Response:
        html = self._env.get_template(f"{template}.html").render(
            snap=snap, page=template, pages=PAGES, refresh=self._settings.refresh_seconds,
            **extra)
        return web.Response(text=html, content_type="text/html", charset="utf-8")

    def _page(self, template: str) -> Handler:
        async def handle(_request: web.Request) -> web.StreamResponse:
            return self._render(template, await self.snapshot())
        return handle

    async def _gitsync(self, request: web.Request) -> web.StreamResponse:
        snap = await self.snapshot()
        wanted = (request.match_info["namespace"], request.match_info["name"])
        for row in snap.gitsyncs.rows:
            if (row.namespace, row.name) == wanted:
                return self._render("gitsync", snap, row=row)
        raise web.HTTPNotFound()

    async def _json(self, _request: web.Request) -> web.StreamResponse:
        snap = await self.snapshot()
        body = json.dumps(dataclasses.asdict(snap), default=_plain, sort_keys=True)
        return web.Response(text=body, content_type="application/json")

    async def _stylesheet(self, _request: web.Request) -> web.StreamResponse:
        return web.Response(body=self._css, content_type="text/css")


def allowed_hosts(host: str, port: int) -> frozenset[str] | None:
    """Host header values a browser sends for this address (loopback names included);
    None (any) for a wildcard address, which only `--allow-non-loopback` permits."""
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 - recognising the wildcard, not binding
        return None
    names = {host, "localhost", "127.0.0.1", "[::1]"} if is_loopback(host) else {host}
    names = {f"[{n}]" if ":" in n and not n.startswith("[") else n for n in names}
    return frozenset(f"{n}:{port}".lower() for n in names)



async def serve(dashboard: Dashboard, *, host: str, port: int,
                ready: Callable[[str], None], stop: asyncio.Event) -> None:
    """Listen on host:port (0: any free port), call `ready(url)`, serve until `stop` is set."""
    runner = web.AppRunner(dashboard.app(), access_log=None, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = int(runner.addresses[0][1])
        dashboard.allowed_hosts = allowed_hosts(host, bound)
        shown = f"[{host}]" if ":" in host else host
        ready(f"http://{shown}:{bound}/")
        await stop.wait()
    finally:
        await runner.cleanup()

