"""A real HTTP server on loopback receiving callbacks, and tasks queued as createTask does."""

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.db import transaction

from playground.api.models import ApiTask
from playground.apikeys.models import ApiKey
from playground.generations.forms import GenerationForm
from playground.generations.queueing import NoInputs, queue_generation
from tests.api.conftest import worker  # noqa: F401 -- the same worker fixture as the API tests
from tests.jobs import FORM_FIELDS

FIELDS = {**FORM_FIELDS, "quality": "low", "output_format": "jpeg"}


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers each callback with the next status of `statuses` (then the last one again);
    "hang" answers nothing until the test ends."""

    statuses: list[int | str] = field(default_factory=lambda: [200])
    received: list[Received] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""
    # Run on the receiving thread before it answers; what it returns is kept in `probed`.
    probe: Callable[[], Any] | None = None
    probed: list[Any] = field(default_factory=list)

    def answer_for(self, request: Received) -> int | str:
        with self.lock:
            self.received.append(request)
            index = min(len(self.received), len(self.statuses)) - 1
            return self.statuses[index]


def verify_signature(secret: str, request: Received) -> bool:
    """What a receiver does, written out from the documented rule."""
    timestamp = request.headers["X-Webhook-Timestamp"]
    task_id = request.json()["data"]["taskId"]
    digest = hmac.new(secret.encode(), f"{task_id}.{timestamp}".encode(), hashlib.sha256)
    expected = base64.b64encode(digest.digest()).decode()
    return hmac.compare_digest(expected, request.headers.get("X-Webhook-Signature", ""))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            request = Received(self.path, dict(self.headers.items()), self.rfile.read(length))
            if state.probe is not None:
                state.probed.append(state.probe())
            answer = state.answer_for(request)
            if answer == "hang":
                state.released.wait(30)
                return
            reply = json.dumps({"received": True, "status": answer}).encode()
            self.send_response(int(answer))
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/kie?token=receiver-own-token"
    yield state
    state.released.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def api_key(alice: Any) -> ApiKey:
    return ApiKey.issue(alice, "script", created_by=alice)[0]


@pytest.fixture
def fast_callbacks(settings: Any) -> Any:
    """Private addresses allowed (the receiver is on loopback), quick retries."""
    settings.API_ALLOW_PRIVATE_URLS = True
    settings.CALLBACK_RETRY_SECONDS = [0.2, 0.4]
    settings.CALLBACK_TIMEOUT_SECONDS = 15
    return settings


def create_task(
    owner: Any, key: ApiKey | None, callback_url: str, base_url: str, prompt: str = "a red kite"
) -> ApiTask:
    """A job and its task, in one transaction, as createTask makes them."""
    form = GenerationForm(data={**FIELDS, "prompt": prompt})
    with transaction.atomic():
        job = queue_generation(owner, form, NoInputs(), api_key=key)
        return ApiTask.objects.create(
            generation=job,
            api_key=key,
            callback_url=callback_url,
            param={"model": FIELDS["model"], "callBackUrl": callback_url},
            base_url=base_url,
        )


@dataclass
class Trickler:
    """A receiver that reads the callback, then answers one byte a second for a minute."""

    url: str = ""
    connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def trickler() -> Iterator[Trickler]:
    import socket
    import time

    state = Trickler()
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 60\r\n\r\n" + b"." * 60

    def serve(conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)  # the request (small: headers and a short body)
            with state.lock:
                state.connections += 1
            for byte in answer:
                if stop.wait(1.0):
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return  # the sender gave up

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    state.url = f"http://127.0.0.1:{listener.getsockname()[1]}/hook"
    yield state
    stop.set()
    listener.close()
    time.sleep(0)
