"""Serving `controller.http.endpoints` over HTTP with aiohttp, on its own thread and event loop.

aiohttp's server parses requests (a negative or malformed Content-Length, an over-long request
line or header, too many headers: 400 before any handler runs) and enforces the body cap
(`client_max_size`: 413). On top of that, `Limits` bounds everything one unauthenticated client
could hold:

- time: a connection must deliver a request's headers within `header_timeout_s` of opening (or
  of its previous answer; aiohttp's keep-alive timer closes it otherwise), and its body within
  `body_timeout_s` (408), so slow connections are closed instead of held forever;
- connections: beyond `max_connections` open connections a new one gets a 503 and is closed;
- work: verify/rotate and /metrics run on a pool of `workers` threads; at most `max_pending`
  requests wait for or run on it, the next gets a 503 at once. The event loop itself only
  parses and answers.

Any exception a handler raises becomes one 500 (logged with its type, never its text), and a
refusal by aiohttp becomes one short 4xx: a request never ends in a dropped connection.
Started by `controller.operator`; `serve()` returns once the port is listening.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import logging
import threading
from collections.abc import Awaitable, Callable

from aiohttp import web

from controller.http import endpoints as endpoints_mod
from controller.http import hooks as hooks_mod
from controller.http import limits as limits_mod

__all__ = ["MAX_BODY", "Endpoints", "Limits", "RateLimiter", "Server", "serve"]

logger = logging.getLogger(__name__)
# aiohttp logs a refused request with a traceback that quotes the offending request line or
# header, which may carry a caller's credentials: its own logger stays quiet, and every answer
# it gives is still one short 4xx.
_AIOHTTP_LOGGER = logging.getLogger(__name__ + ".aiohttp")
_AIOHTTP_LOGGER.setLevel(logging.CRITICAL)

# The request logic and its rate limiter live in their own modules; these names stay importable
# from here for the callers that know them by it.
Endpoints = endpoints_mod.Endpoints
RateLimiter = limits_mod.RateLimiter
MAX_BODY = endpoints_mod.MAX_BODY
SERVER_HEADER = "sealops"
_REFUSED = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
            b"Content-Length: 21\r\nConnection: close\r\nRetry-After: 1\r\n\r\n"
            b"too many connections\n")


@dataclasses.dataclass(frozen=True)
class Limits:
    header_timeout_s: float = 10.0
    body_timeout_s: float = 15.0
    max_connections: int = 128
    max_pending: int = 64
    workers: int = 4
    max_line_size: int = 8190
    max_field_size: int = 8190
    max_headers: int = 64
    backlog: int = 128


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class _Refuse(asyncio.Protocol):
    """A connection over the limit: one 503, then closed."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.write(_REFUSED)
        transport.close()


class Server:
    """The HTTP server thread. `start()` blocks until listening; `shutdown()` stops it."""

    def __init__(self, endpoints: endpoints_mod.Endpoints, *, host: str, port: int,
                 limits: Limits | None = None, hooks: hooks_mod.Hooks | None = None) -> None:
        self._endpoints = endpoints
        self._hooks = hooks  # Receiver webhooks under /hook/ (controller.http.hooks)
        self._host, self._port = host, port
        self._limits = limits or Limits()
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=self._limits.workers, thread_name_prefix="sealops-http-worker")
        self._pending = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped: asyncio.Event | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="sealops-http", daemon=True)
        self.port = port

    def start(self) -> None:
        self._thread.start()
        self._ready.wait()
        if self._failure is not None:
            raise self._failure

    def alive(self) -> bool:
        return self._thread.is_alive()

    def shutdown(self) -> None:
        loop, stopped = self._loop, self._stopped
        if loop is not None and stopped is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stopped.set)
        self._thread.join(timeout=10)
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self._hooks is not None:
            self._hooks.shutdown()

    # -- the event loop thread -------------------------------------------------------------

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported to start(), or logged once running
            if not self._ready.is_set():
                self._failure = exc
            else:
                logger.error("the HTTP server stopped (%s)", type(exc).__name__)
        finally:
            self._ready.set()
            loop.close()

    async def _serve(self) -> None:
        self._stopped = asyncio.Event()
        lim = self._limits
        app = web.Application(client_max_size=endpoints_mod.MAX_BODY,
                              middlewares=[self._guard])
        app.router.add_route("*", "/{tail:.*}", self._handle)
        app.on_response_prepare.append(_server_header)
        runner = web.AppRunner(
            app, access_log=None, logger=_AIOHTTP_LOGGER, handle_signals=False,
            handler_cancellation=True,
            keepalive_timeout=lim.header_timeout_s, max_line_size=lim.max_line_size,
            max_field_size=lim.max_field_size, max_headers=lim.max_headers)
        await runner.setup()
        factory = runner.server
        assert factory is not None

        def protocol() -> asyncio.BaseProtocol:
            if len(factory.connections) >= lim.max_connections:
                self._endpoints.metrics.observe_http("connection", 503)
                return _Refuse()
            return factory()

        listener = await asyncio.get_running_loop().create_server(
            protocol, self._host, self._port, backlog=lim.backlog, reuse_address=True)
        self.port = int(listener.sockets[0].getsockname()[1])
        self._ready.set()
        try:
            await self._stopped.wait()
        finally:
            listener.close()
            await runner.cleanup()

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path if request.path in endpoints_mod.KNOWN_PATHS else "other"
        try:
            response = await handler(request)
        except web.HTTPException as exc:  # aiohttp's own refusals, e.g. the body cap
            response = web.Response(status=exc.status, text=f"{exc.reason.lower()}\n")
        except Exception as exc:  # one clear answer, never a dropped connection
            logger.error("HTTP %s %s failed (%s)", request.method, path, type(exc).__name__)
            response = web.Response(status=500, text="internal error\n")
        self._endpoints.metrics.observe_http(path, response.status)
        return response

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if self._hooks is not None and request.path.startswith(hooks_mod.PREFIX):
            return await self._hooks.handle(request)
        if request.method in ("GET", "HEAD") and request.path == "/metrics":
            # Rendering grows with the number of objects: off the event loop, like verify.
            return await self._in_pool(self._endpoints.answer_get, request.path)
        if request.method in ("GET", "HEAD"):
            return _response(self._endpoints.answer_get(request.path))
        if request.method != "POST":
            return web.Response(status=405, text="method not allowed\n",
                                headers={"Allow": "GET, HEAD, POST"})
        if request.path not in endpoints_mod.POST_PATHS:
            return web.Response(status=404, text="not found\n")
        return await self._post(request)

    async def _post(self, request: web.Request) -> web.StreamResponse:
        if (request.content_length or 0) > endpoints_mod.MAX_BODY:
            return web.Response(status=413, text="request body too large\n",
                                headers={"Connection": "close"})
        try:
            async with asyncio.timeout(self._limits.body_timeout_s):
                body = await request.read()
        except TimeoutError:
            return web.Response(status=408, text="request body not received in time\n",
                                headers={"Connection": "close"})
        return await self._in_pool(self._endpoints.answer_post, request.path, body)

    async def _in_pool(self, work: Callable[..., endpoints_mod.Answer],
                       *args: object) -> web.StreamResponse:
        """Run `work` on the worker pool; 503 at once when `max_pending` already wait."""
        if self._pending >= self._limits.max_pending:
            return web.Response(status=503, text="busy; retry later\n",
                                headers={"Retry-After": "1"})
        self._pending += 1
        try:
            answer = await asyncio.get_running_loop().run_in_executor(self._pool, work, *args)
        finally:
            self._pending -= 1
        return _response(answer)


def _response(answer: endpoints_mod.Answer) -> web.Response:
    return web.Response(status=answer.status, body=answer.body,
                        headers={"Content-Type": answer.content_type, **answer.headers})


async def _server_header(_request: web.Request, response: web.StreamResponse) -> None:
    response.headers["Server"] = SERVER_HEADER


def serve(endpoints: endpoints_mod.Endpoints, *, host: str, port: int,
          limits: Limits | None = None, hooks: hooks_mod.Hooks | None = None) -> Server:
    """Start serving on a thread of its own; returns once listening (`.shutdown()` stops)."""
    server = Server(endpoints, host=host, port=port, limits=limits, hooks=hooks)
    server.start()
    return server
