"""One upstream client per provider per process, and cutting one call's own connection.

Building an SDK client costs about 20 ms of CPU and memory that is not given back, so every
job of a process shares one per provider. Its connection pool keeps no idle connections:
each request opens its own, and a cancel shuts down that socket only (`CancelHandle`), never
the shared client, which other jobs are using at the same time.
"""

import contextlib
import hashlib
import socket
import threading
from collections.abc import Callable, Hashable, Iterator
from typing import Any, Generic, TypeVar

Client = TypeVar("Client")

# httpcore's `trace` events whose return value is the network stream just opened: the TCP
# connection, then (for https) the TLS stream wrapping it.
CONNECTED_EVENTS = frozenset({"connection.connect_tcp.complete", "connection.start_tls.complete"})


def key_fingerprint(api_key: str) -> str:
    """Tells keys apart without keeping another copy of the key itself."""
    return hashlib.sha256(api_key.encode()).hexdigest()


class ClientCache(Generic[Client]):
    """The current client of each provider; a changed fingerprint (key, URL...) builds anew.

    A replaced client is not closed: calls in flight may still be using it. It is dropped and
    collected once they are done."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clients: dict[Hashable, tuple[Hashable, Client]] = {}

    def get(self, owner: Hashable, fingerprint: Hashable, build: Callable[[], Client]) -> Client:
        with self._lock:
            cached = self._clients.get(owner)
            if cached is not None and cached[0] == fingerprint:
                return cached[1]
            client = build()
            self._clients[owner] = (fingerprint, client)
            return client

    def clear(self) -> None:
        with self._lock:
            self._clients.clear()


def _shut(sock: socket.socket) -> None:
    # socket.socket's own shutdown, also for TLS sockets: it wakes a read blocked in another
    # thread at once and sends FIN upstream, and leaves closing to the thread that reads.
    with contextlib.suppress(OSError):  # already closed, or a TCP socket that TLS took over
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class CancelHandle:
    """The connections one call opened, so that another thread can cut them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._cancelled = False

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def record(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            cancelled = self._cancelled
        if cancelled:  # cancelled while it was connecting
            _shut(sock)

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore's `trace` request extension: called on the thread making the request."""
        if event in CONNECTED_EVENTS and info.get("return_value") is not None:
            sock = info["return_value"].get_extra_info("socket")
            if isinstance(sock, socket.socket):
                self.record(sock)


_calling = threading.local()


@contextlib.contextmanager
def cancellable(handle: CancelHandle) -> Iterator[None]:
    """Requests this thread makes inside the block record their connections on `handle`."""
    previous = getattr(_calling, "handle", None)
    _calling.handle = handle
    try:
        yield
    finally:
        _calling.handle = previous


def current_handle() -> CancelHandle | None:
    return getattr(_calling, "handle", None)


def watch_connections(extensions: dict[str, Any]) -> None:
    """Add the calling thread's handle, if any, to a request's extensions (before sending)."""
    handle = current_handle()
    if handle is not None:
        extensions["trace"] = handle.trace
