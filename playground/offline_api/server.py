"""The offline stand-in of the OpenAI Images API: a threaded HTTP server speaking the wire protocol.

    api = OfflineImagesAPI(latency=0.2).start()
    client = openai.OpenAI(api_key="sk-test", base_url=api.base_url)
    ...
    api.stop()

Routes: POST /v1/images/generations (JSON), POST /v1/images/edits (multipart), GET /v1/models,
GET /healthz, and the test-only /_control/* endpoints (see `ControlRoutes`): off unless
enable_control is set, since anyone who can reach the port could queue faults or read the log.
"""

import itertools
import queue
import socket
import sys
import threading
import time
import weakref
from collections import deque
from collections.abc import Iterable
from http.server import ThreadingHTTPServer
from typing import Any

from playground.offline_api import payloads
from playground.offline_api.handler import Handler, cut
from playground.offline_api.wire import parse_fault

REQUEST_LOG_SIZE = 5000  # small entries (no image bytes): a long benchmark reads them all
DEFAULT_TIMEOUT_FAULT_SECONDS = 30.0


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 256
    allow_reuse_address = True
    api: "OfflineImagesAPI"
    accepted_at: "weakref.WeakKeyDictionary[Any, tuple[float, float]]"

    def server_activate(self) -> None:
        self.accepted_at = weakref.WeakKeyDictionary()
        # Starting a connection's thread waits for that thread to run, which in a process
        # busy drawing can take milliseconds: a thread of its own starts them, so the
        # accepting loop takes a burst of connections at once.
        self._to_start: queue.SimpleQueue[tuple[Any, Any]] = queue.SimpleQueue()
        threading.Thread(target=self._start_handlers, name="start-handlers", daemon=True).start()
        super().server_activate()

    def _start_handlers(self) -> None:
        while True:
            request, client_address = self._to_start.get()
            try:
                super().process_request(request, client_address)
            except Exception:
                self.handle_error(request, client_address)
                self.shutdown_request(request)

    def process_request(self, request: Any, client_address: Any) -> None:
        # Stamped in the accepting thread: the connection's first request is timed from here,
        # before its own thread waits for a turn in a process busy drawing other pictures.
        self.accepted_at[request] = (time.monotonic(), time.time())
        self._to_start.put((request, client_address))

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-answer (a cancelled job) is routine, not a traceback.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class OfflineImagesAPI:
    """Owns the listening socket, the runtime knobs (faults, latency) and the request log."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
        moderation_words: Iterable[str] = payloads.DEFAULT_MODERATION_WORDS,
        fail_next: Iterable[str] = (),
        invalid_keys: Iterable[str] = payloads.DEFAULT_INVALID_KEYS,
        enable_control: bool = False,
        timeout_fault_seconds: float = DEFAULT_TIMEOUT_FAULT_SECONDS,
        log: bool = True,
    ) -> None:
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._initial = (float(latency), list(moderation_words), list(fail_next))
        self._faults: deque[tuple[str, float | None]] = deque()
        self.latency = 0.0
        self.moderation_words: list[str] = []
        self.invalid_keys = frozenset(invalid_keys)
        self.enable_control = enable_control
        self.timeout_fault_seconds = timeout_fault_seconds
        self.log = log
        self._requests: deque[dict[str, Any]] = deque(maxlen=REQUEST_LOG_SIZE)
        self._last_mask: bytes | None = None
        self._ids = itertools.count(1)
        self._connections: set[socket.socket] = set()
        self._thread: threading.Thread | None = None
        self._serving = False
        self.reset()
        self._server = _Server((host, port), Handler)
        self._server.api = self

    # -- addresses -------------------------------------------------------------------------
    @property
    def host(self) -> str:
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> "OfflineImagesAPI":
        """Serve in a background daemon thread; returns self."""
        self._serving = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until stop() or KeyboardInterrupt."""
        self._serving = True
        try:
            self._server.serve_forever(poll_interval=0.2)
        finally:
            self._serving = False
            self._close()

    def stop(self) -> None:
        self._stopping.set()
        if self._serving:  # shutdown() would wait forever for a loop that never ran
            self._server.shutdown()
            self._serving = False
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._close()

    def _close(self) -> None:
        self._stopping.set()
        self._server.server_close()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            cut(connection)

    def __enter__(self) -> "OfflineImagesAPI":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait(self, seconds: float) -> None:
        """Sleep that stop() interrupts."""
        if seconds > 0:
            self._stopping.wait(seconds)

    # -- runtime knobs ---------------------------------------------------------------------
    def set_faults(self, faults: Iterable[str]) -> None:
        """Replace the queue of faults served to the next image requests, one each."""
        parsed = [parse_fault(spec) for spec in faults]
        with self._lock:
            self._faults = deque(parsed)

    def add_fault(self, fault: str) -> None:
        parsed = parse_fault(fault)
        with self._lock:
            self._faults.append(parsed)

    @property
    def faults(self) -> list[str]:
        with self._lock:
            return [name if arg is None else f"{name}:{arg:g}" for name, arg in self._faults]

    def pop_fault(self) -> tuple[str, float | None] | None:
        with self._lock:
            return self._faults.popleft() if self._faults else None

    def set_latency(self, seconds: float) -> None:
        self.latency = max(0.0, float(seconds))

    def set_moderation_words(self, words: Iterable[str]) -> None:
        self.moderation_words = [word.lower() for word in words if word]

    def reset(self) -> None:
        """Back to the construction settings; clears the request log and last mask."""
        latency, words, faults = self._initial
        self.set_latency(latency)
        self.set_moderation_words(words)
        self.set_faults(faults)
        self.clear_requests()

    # -- what arrived ----------------------------------------------------------------------
    @property
    def requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(entry) for entry in self._requests]

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()
            self._last_mask = None

    def record(self, entry: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            entry["id"] = next(self._ids)
            self._requests.append(entry)
        return entry

    @property
    def last_mask(self) -> bytes | None:
        return self._last_mask

    def remember_mask(self, mask: bytes) -> None:
        self._last_mask = mask

    def track(self, connection: socket.socket, active: bool) -> None:
        with self._lock:
            if active:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def state(self) -> dict[str, Any]:
        return {
            "fail_next": self.faults,
            "latency": self.latency,
            "moderation_words": sorted(self.moderation_words),
        }
