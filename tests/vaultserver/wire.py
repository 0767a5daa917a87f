"""HTTP of the Vault test server: parse, record, apply socket-level faults, answer JSON.

Paths must start with `/v1/`; `//` collapses to `/`; `X-Vault-Namespace` (with or without a
trailing slash) is prefixed to the path. `X-Vault-Token` or `Authorization: Bearer` carry the
token. `LIST` is a method like any other and `GET ?list=true` is the same; PUT is POST. Every
error, including the ones `http.server` itself produces, is JSON with `Content-Type:
application/json`.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import re
import socket
import threading
import urllib.parse
from typing import Any, cast

from tests.vaultserver import api, routes, state

MAX_BODY = 32 << 20


class HTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], core: state.Core) -> None:
        self.core = core
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()
        super().__init__(address, Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        # Headers and body go out in two writes; without NODELAY, Nagle plus delayed ACKs
        # would add ~40 ms to every keep-alive request.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.sockets_lock:
            self.open_sockets.add(sock)
        return sock, address

    def shutdown_request(self, request: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet: TLS handshakes refused by clients and dropped sockets are expected here."""

    def close_all(self) -> None:
        with self.sockets_lock:
            socks, self.open_sockets = list(self.open_sockets), set()
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def _namespace(header: str | None) -> str:
    value = (header or "").strip().strip("/")
    return value + "/" if value else ""


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "VaultTestServer"
    timeout = 30

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: tests read `server.requests` instead."""

    def do_GET(self) -> None:
        self._serve()

    do_HEAD = do_POST = do_PUT = do_DELETE = do_LIST = do_PATCH = do_GET

    def do_OPTIONS(self) -> None:
        self._send(api.unsupported().reply())

    def send_error(self, code: int, message: str | None = None,
                   explain: str | None = None) -> None:
        if code == 501:  # unsupported method: Vault answers 405
            code, message = 405, "unsupported operation"
        self.close_connection = True
        self._send(api.Reply(code, {"errors": [message or "error"]}))

    @property
    def core(self) -> state.Core:
        return cast(HTTPServer, self.server).core

    def _read_body(self) -> bytes | None:
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        if not length.isdigit() or int(length) > MAX_BODY:
            self.close_connection = True
            self._send(api.Reply(413, {"errors": ["request body too large"]}))
            return None
        return self.rfile.read(int(length))

    def _serve(self) -> None:
        raw = self._read_body()
        if raw is None:
            return
        split = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(split.query, keep_blank_values=True))
        token = self.headers.get("X-Vault-Token")
        bearer = self.headers.get("Authorization", "")
        if not token and bearer.lower().startswith("bearer "):
            token = bearer[7:].strip()
        header_ns = self.headers.get("X-Vault-Namespace")
        core = self.core
        with core.lock:
            core.requests.append(state.RecordedRequest(
                method=self.command, path=split.path, query=tuple(sorted(query.items())),
                had_token=bool(token), namespace=header_ns, time=core.clock()))
        path = re.sub("/{2,}", "/", urllib.parse.unquote(split.path))
        if not path.startswith("/v1/"):
            self._send(api.no_route(path.lstrip("/")).reply())
            return
        logical = _namespace(header_ns) + path[len("/v1/"):].lstrip("/")
        if core.faults.take("drop", logical) is not None:
            self._drop()
            return
        delay = core.faults.take("delay", logical)
        if delay is not None and core.stopping.wait(delay.seconds):
            self._drop()
            return
        forced = core.faults.take("raw", logical)
        if forced is not None:
            self._send_raw(forced.status, forced.body, forced.headers)
            return
        drip = core.faults.take("drip", logical)
        if drip is not None:
            self._drip(self._answer(logical, query, raw, token, header_ns), drip.seconds)
            return
        self._send(self._answer(logical, query, raw, token, header_ns))

    def _answer(self, logical: str, query: dict[str, str], raw: bytes, token: str | None,
                header_ns: str | None) -> api.Reply:
        method = {"PUT": "POST", "HEAD": "GET"}.get(self.command, self.command)
        if method == "GET" and query.get("list") in ("true", "1"):
            method = "LIST"
        if method == "LIST" and not logical.endswith("/"):
            logical += "/"
        body: Any = {}
        if raw and method in ("POST", "PATCH"):
            try:
                body = json.loads(raw)
            except ValueError:
                return api.Reply(400, {"errors": ["failed to parse JSON input"]})
            if not isinstance(body, dict):
                return api.Reply(400, {"errors": ["failed to parse JSON input: not an object"]})
        call = api.Call(method=method, path=logical, namespace=_namespace(header_ns),
                        query=query, body=body, token=token, head=self.command == "HEAD")
        return routes.handle(self.core, call)

    def _drip(self, reply: api.Reply, interval: float) -> None:
        """The whole response, one byte per `interval`, until done, the client gives up or
        the server stops."""
        payload = b"" if reply.body is None else json.dumps(reply.body).encode()
        head = [f"HTTP/1.1 {reply.status} OK", "Content-Type: application/json",
                f"Content-Length: {len(payload)}", "Connection: close",
                *(f"{k}: {v}" for k, v in reply.headers.items())]
        data = ("\r\n".join(head) + "\r\n\r\n").encode() + payload
        self.close_connection = True
        for i in range(len(data)):
            if self.core.stopping.wait(interval):
                break
            try:
                self.wfile.write(data[i:i + 1])
                self.wfile.flush()
            except OSError:
                break

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _send_raw(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            self.close_connection = True

    def _send(self, reply: api.Reply) -> None:
        payload = b"" if reply.body is None else json.dumps(reply.body).encode()
        try:
            self.send_response(reply.status)
            if reply.body is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "no-store")
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(0 if self.command == "HEAD" else len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
        except OSError:
            self.close_connection = True
