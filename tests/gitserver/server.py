"""A real git smart-HTTP server on 127.0.0.1 for tests: `git http-backend` run as CGI.

Switches: HTTP Basic auth (401 + WWW-Authenticate on missing or wrong credentials), `redirect`
(answer every request with a 302 to that base URL plus the request's path and query), `down()`
(refuse connections, or answer 503), `delay` (seconds before each answer), `protocol_v2`
(forward the Git-Protocol header; off forces protocol v0, where unadvertised commits are only
served with uploadpack.allowReachableSHA1InWant). Every request is logged without passwords.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import gzip
import hmac
import http.server
import io
import os
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

__all__ = ["GitHTTPServer", "RequestRecord"]

_CHUNK = 1 << 16


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    query: str
    user: str | None
    status: int
    command: str = ""  # v2 "ls-refs"/"fetch", v0 POSTs "fetch", GETs "advertise"


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    owner: GitHTTPServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout tests) is expected; never print or raise.
        self.owner.errors += 1


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        owner = self.server.owner
        if owner.delay and owner.stopping.wait(owner.delay):
            return
        parts = urlsplit(self.path)
        if owner.redirect is not None:
            self._redirect(parts, owner.redirect)
            return
        if owner.unavailable:
            self._plain(503, parts, None)
            return
        user, authorized = self._authenticate()
        if not authorized:
            self._plain(401, parts, user)
            return
        body = self._body()
        status = self._cgi(parts, user, body)
        owner.log(RequestRecord(self.command, parts.path, parts.query, user, status,
                                _git_command(self.command, body)))

    def _authenticate(self) -> tuple[str | None, bool]:
        owner = self.server.owner
        header = self.headers.get("Authorization", "")
        user = password = None
        if header.startswith("Basic "):
            with contextlib.suppress(binascii.Error, UnicodeDecodeError):
                decoded = base64.b64decode(header[6:], validate=True).decode("utf-8")
                user, _, password = decoded.partition(":")
        if owner.username is None:
            return user, True
        ok = (
            user is not None
            and password is not None
            and hmac.compare_digest(user, owner.username)
            and hmac.compare_digest(password, owner.password or "")
        )
        return user, ok

    def _redirect(self, parts: Any, base: str) -> None:
        user, _ = self._authenticate()
        self.server.owner.log(RequestRecord(self.command, parts.path, parts.query, user, 302))
        self.send_response(302)
        query = f"?{parts.query}" if parts.query else ""
        self.send_header("Location", f"{base.rstrip('/')}{parts.path}{query}")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _plain(self, status: int, parts: Any, user: str | None) -> None:
        self.server.owner.log(RequestRecord(self.command, parts.path, parts.query, user, status))
        self.send_response(status)
        if status == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="git"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _cgi(self, parts: Any, user: str | None, body: bytes) -> int:
        owner = self.server.owner
        env = {
            "PATH": os.environ.get("PATH", os.defpath),
            "GIT_PROJECT_ROOT": str(owner.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "GIT_CONFIG_NOSYSTEM": "1",
            "HOME": str(owner.root),
            "PATH_INFO": parts.path,
            "QUERY_STRING": parts.query,
            "REQUEST_METHOD": self.command,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "REMOTE_USER": user or "",
            "REMOTE_ADDR": self.client_address[0],
        }
        if owner.protocol_v2 and self.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        if self.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
        env["CONTENT_LENGTH"] = str(len(body))
        backend = subprocess.Popen(
            [owner.git, "http-backend"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
        )
        assert backend.stdin is not None and backend.stdout is not None
        feeder = threading.Thread(target=_feed, args=(backend.stdin, body), daemon=True)
        feeder.start()
        try:
            return self._relay(backend.stdout)
        finally:
            backend.stdout.close()
            backend.wait()
            feeder.join()

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return _read_chunked(self.rfile)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _relay(self, output: IO[bytes]) -> int:
        """Send the CGI's headers (`Status:` included) and stream its body, close-delimited."""
        status, headers = 200, []
        while True:
            line = output.readline().decode("latin-1").rstrip("\r\n")
            if not line:
                break
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.strip().split()[0])
            else:
                headers.append((name, value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        while chunk := output.read(_CHUNK):
            self.wfile.write(chunk)
        return status


def _git_command(method: str, body: bytes) -> str:
    if method != "POST":
        return "advertise"
    if body.startswith(b"\x1f\x8b"):
        with contextlib.suppress(OSError, EOFError):
            body = gzip.decompress(body)
    try:
        length = int(body[:4], 16)
    except ValueError:
        return "fetch"
    first = body[4:length].rstrip(b"\n")
    if first.startswith(b"command="):
        return first.removeprefix(b"command=").decode("ascii", "replace")
    return "fetch"


def _feed(stdin: IO[bytes], body: bytes) -> None:
    with contextlib.suppress(BrokenPipeError):
        stdin.write(body)
    with contextlib.suppress(BrokenPipeError):
        stdin.close()


def _read_chunked(stream: io.BufferedIOBase) -> bytes:
    body = bytearray()
    while True:
        size = int(stream.readline().split(b";")[0].strip() or b"0", 16)
        if size == 0:
            stream.readline()
            return bytes(body)
        body += stream.read(size)
        stream.readline()


class GitHTTPServer:
    """Serves every bare repository under `root` at http://127.0.0.1:<port>/<name>."""

    def __init__(
        self, root: Path, *, username: str | None = None, password: str | None = None
    ) -> None:
        self.root = Path(root)
        self.username = username
        self.password = password
        self.delay = 0.0
        self.unavailable = False
        self.redirect: str | None = None
        self.protocol_v2 = True
        self.errors = 0
        self.stopping = threading.Event()
        self.git = shutil.which("git") or "git"
        self._lock = threading.Lock()
        self._requests: list[RequestRecord] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    def __enter__(self) -> GitHTTPServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    @property
    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._requests)

    def log(self, record: RequestRecord) -> None:
        with self._lock:
            self._requests.append(record)

    def start(self) -> None:
        self.stopping.clear()
        server = _Server(("127.0.0.1", self.port), _Handler)
        server.owner = self
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="gitserver", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None

    def down(self, *, refuse: bool = True) -> None:
        """Stop listening (connections refused) or, with `refuse=False`, answer 503."""
        if refuse:
            self.stop()
        else:
            self.unavailable = True

    def up(self) -> None:
        self.unavailable = False
        if self._server is None:
            self.start()
