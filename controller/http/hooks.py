"""`/hook/<digest>`: Receiver webhooks on the controller's HTTP server (aiohttp side only).

Nothing is read before it is needed, so an unauthenticated caller costs little:

    unknown path                       404 from memory (`Service.lookup`), no API call
    not POST                           405
    Content-Length over `auth.MAX_BODY` 413 before the body (and a body that turns out
                                       longer is cut off at the cap: 413)
    the Receiver and its token         read now (`Service.open`; gone or rotated -> 404)
    headers (`auth.precheck`)          401/400 before the body; gitlab's token compared here
    the body, capped, within the body timeout (408)
    signature, replay, trigger         `Service.deliver` (401, 409, or 200)

Blocking calls run on a pool of `WORKERS` threads with at most `MAX_PENDING` requests waiting
(503 beyond), so webhooks never hold the event loop nor the verify/rotate pool. Answers are
short fixed texts; neither the path nor any header value is logged.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time

from aiohttp import web

from controller.receivers import auth, service
from controller.receivers import spec as spec_mod

__all__ = ["PREFIX", "Hooks"]

PREFIX = spec_mod.PATH_PREFIX
WORKERS = 2
MAX_PENDING = 32
CHUNK = 64 << 10


def _text(status: int, message: str, **headers: str) -> web.Response:
    return web.Response(status=status, text=f"{message}\n", headers=headers)


class Hooks:
    def __init__(self, receivers: service.Service, *, body_timeout_s: float = 15.0) -> None:
        self._receivers = receivers
        self._body_timeout_s = body_timeout_s
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=WORKERS, thread_name_prefix="sealops-hooks")
        self._pending = 0

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        key = self._receivers.lookup(request.path)
        if key is None:
            return _text(404, "not found")
        if request.method != "POST":
            return _text(405, "method not allowed", Allow="POST")
        if (request.content_length or 0) > auth.MAX_BODY:
            return _text(413, "request body too large", Connection="close")
        if self._pending >= MAX_PENDING:
            return _text(503, "busy; retry later", **{"Retry-After": "1"})
        self._pending += 1
        try:
            return await self._serve(request, key)
        finally:
            self._pending -= 1

    async def _serve(self, request: web.Request, key: service.Key) -> web.StreamResponse:
        loop = asyncio.get_running_loop()
        opened = await loop.run_in_executor(self._pool, self._receivers.open, key,
                                            request.path)
        if opened is None:
            return _text(404, "not found")
        refused = auth.precheck(opened.spec.type, request.headers, token=opened.token,
                                now=time.time())
        if refused is not None:
            return _text(refused.status, refused.message)
        try:
            async with asyncio.timeout(self._body_timeout_s):
                body = await _capped(request)
        except TimeoutError:
            return _text(408, "request body not received in time", Connection="close")
        if body is None:
            return _text(413, "request body too large", Connection="close")
        verdict = await loop.run_in_executor(self._pool, self._receivers.deliver, opened,
                                             request.headers, body)
        if isinstance(verdict, auth.Refused):
            return _text(verdict.status, verdict.message)
        return _text(200, verdict.note)


async def _capped(request: web.Request) -> bytes | None:
    """The body, or None once it grows past `auth.MAX_BODY` (the rest is never read)."""
    parts: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.read(CHUNK)
        if not chunk:
            return b"".join(parts)
        size += len(chunk)
        if size > auth.MAX_BODY:
            return None
        parts.append(chunk)
