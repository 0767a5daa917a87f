"""A total-time limit per Vault HTTP request (used only by `controller.vault.transport`).

urllib3's timeouts bound the connect and each single socket read, so a Vault (or anything in
between) that sends one byte per second holds a thread forever. Every request `transport.Adapter`
makes runs inside `limit(seconds)`; the connection pools that `DeadlineAdapter` installs
register each connection a request uses, and a watchdog shuts those sockets down once the
limit has passed. The blocked read fails at once, and `limit` turns whatever the HTTP stack
raised into `requests.exceptions.Timeout`, so the caller reports a timeout and the thread is
free again (the broken connection is discarded by its pool).

Per request, not per sync: a sync of many paths has its own deadline (`Bulkhead.run`).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import requests
import requests.adapters
import urllib3.exceptions
from urllib3 import connectionpool

__all__ = ["DeadlineAdapter", "limit"]

_WATCH_AGAIN_S = 0.2  # a connection still connecting at the deadline is shut down next round
_local = threading.local()


class _Request:
    """One request's deadline and the connections it has used so far."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds
        self.seconds = seconds
        self.expired = False
        self.done = threading.Event()
        self._conns: list[Any] = []
        self._lock = threading.Lock()

    def register(self, conn: Any) -> None:
        with self._lock:
            self._conns.append(conn)
            expired = self.expired
        if expired:
            _shut(conn)

    def watch(self) -> None:
        if self.done.wait(max(0.0, self.deadline - time.monotonic())):
            return
        with self._lock:
            self.expired = True
        while True:
            with self._lock:
                conns = list(self._conns)
            for conn in conns:
                _shut(conn)
            if self.done.wait(_WATCH_AGAIN_S):
                return


def _shut(conn: Any) -> None:
    sock = getattr(conn, "sock", None)
    if isinstance(sock, socket.socket):
        # The plain socket's shutdown, also under TLS: it wakes a blocked read without
        # touching the SSL object the reading thread is using.
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


@contextlib.contextmanager
def limit(seconds: float) -> Iterator[None]:
    """Fail the HTTP request(s) made inside with `requests.exceptions.Timeout` after
    `seconds` in total, whatever the server trickles."""
    request = _Request(seconds)
    previous = getattr(_local, "request", None)
    _local.request = request
    watchdog = threading.Thread(target=request.watch, name="vault-request-deadline",
                                daemon=True)
    watchdog.start()
    try:
        yield
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError):
        if not request.expired:
            raise
        raised = True
    else:
        raised = False
    finally:
        request.done.set()
        _local.request = previous
    if raised:
        raise requests.exceptions.Timeout(f"no complete answer within {seconds}s")


class _Registering:
    """Pool mixin: every connection a request uses is known to that request's watchdog."""

    def _make_request(self, conn: Any, *args: Any, **kwargs: Any) -> Any:
        request = getattr(_local, "request", None)
        if request is not None:
            request.register(conn)
        return super()._make_request(conn, *args, **kwargs)  # type: ignore[misc]


class _Pool(_Registering, connectionpool.HTTPConnectionPool):
    pass


class _TLSPool(_Registering, connectionpool.HTTPSConnectionPool):
    pass


class DeadlineAdapter(requests.adapters.HTTPAdapter):
    """requests' adapter whose pools register connections for `limit`'s watchdog."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _Pool, "https": _TLSPool}

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **kwargs)
        manager.pool_classes_by_scheme = {"http": _Pool, "https": _TLSPool}
        return manager
