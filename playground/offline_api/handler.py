"""The request handler of the offline Images API: routing, auth, faults, JSON and SSE replies."""

import contextlib
import json
import socket
import sys
import time
import traceback
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from playground.core.errors import ApiError
from playground.offline_api import payloads, pictures
from playground.offline_api.control import ControlRoutes, form_summary
from playground.offline_api.validation import ImageRequest, reference_models, validate_request
from playground.offline_api.wire import (
    FormBody,
    parse_generation_body,
    parse_multipart,
    read_body,
)

if TYPE_CHECKING:
    from playground.offline_api.server import OfflineImagesAPI

IMAGE_ROUTES = {"/v1/images/generations": "generations", "/v1/images/edits": "edits"}


class Disconnected(Exception):
    """The connection was cut on purpose (disconnect/timeout fault) or by the client."""


def cut(connection: socket.socket) -> None:
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "offline-images-api"
    timeout = 120  # idle keep-alive connections give their thread back after this

    # -- plumbing --------------------------------------------------------------------------
    @property
    def api(self) -> "OfflineImagesAPI":
        return self.server.api  # type: ignore[attr-defined]

    def setup(self) -> None:
        super().setup()
        self.api.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.api.track(self.connection, False)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Replaced by the single line `dispatch` writes."""

    def log_message(self, format: str, *args: Any) -> None:
        if self.api.log:
            sys.stderr.write(f"offline-images-api: {format % args}\n")

    def do_GET(self) -> None:
        self.dispatch()

    def do_POST(self) -> None:
        self.dispatch()

    def do_DELETE(self) -> None:
        self.dispatch()

    def dispatch(self) -> None:
        started = time.monotonic()
        # When the request came in: the latency counts from here, as a real service's would,
        # even while this process is busy drawing other requests' pictures.
        # (for a connection's first request, from when it was accepted: see _Server)
        self.received_at, self.received_wall = started, time.time()
        accepted = self.server.accepted_at.pop(self.connection, None)  # type: ignore[attr-defined]
        if accepted is not None:  # a next request on this connection is timed from its own
            self.received_at, self.received_wall = accepted
        self.status = 0
        self.entry: dict[str, Any] | None = None
        self.disconnect = False
        path = urlsplit(self.path).path.rstrip("/") or "/"
        try:
            body = self.read_body()
            self.route(path, body)
        except ApiError as error:
            self.reply_error(error)
        except (Disconnected, ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception:
            traceback.print_exc()  # a bug in the stand-in: answer like the API's 500
            self.reply_error(payloads.server_error(500))
        finally:
            duration = time.monotonic() - started
            if self.entry is not None:
                self.entry.update(status=self.status or None, duration_ms=round(duration * 1000))
            if self.api.log:
                status = self.status or "-"
                line = f"{self.command} {path} {status} {duration * 1000:.0f}ms"
                sys.stderr.write(f"offline-images-api: {line}\n")

    def route(self, path: str, body: bytes) -> None:
        method = self.command
        if path == "/healthz" and method == "GET":
            self.send_json(200, {"status": "ok"})
        elif path in IMAGE_ROUTES and method == "POST":
            self.images(IMAGE_ROUTES[path], body)
        elif path == "/v1/models" and method == "GET":
            self.check_auth()
            self.send_json(200, payloads.model_list(reference_models()))
        elif path.startswith("/_control/") and self.api.enable_control:
            ControlRoutes(self.api, self).handle(method, path, body)
        else:
            raise payloads.not_found(method, path)

    def reply_error(self, error: ApiError) -> None:
        if self.status:  # headers already sent (mid-stream): all that is left is to hang up
            self.close_connection = True
            return
        with contextlib.suppress(Disconnected, ConnectionError):
            self.send_json(error.status, error.body(), error.headers)

    def read_body(self) -> bytes:
        try:
            return read_body(self.rfile, self.headers)
        except ApiError:
            self.close_connection = True  # the rest of the body was never read
            raise

    # -- responses -------------------------------------------------------------------------
    def start_response(self, status: int, content_type: str, headers: dict[str, str]) -> None:
        self.status = status
        if self.entry is not None:  # before the reply leaves, so a client never sees it unset
            self.entry["status"] = status
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("x-request-id", f"req_offline_{self.entry['id'] if self.entry else 0}")
        self.send_header("openai-processing-ms", "1")
        for name, value in headers.items():
            self.send_header(name, value)

    def send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_bytes(status, "application/json", data, headers or {})

    def send_bytes(self, status: int, content_type: str, data: bytes, headers: dict) -> None:
        self.start_response(status, content_type, headers)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.disconnect:
            self.wfile.write(data[: len(data) // 2])
            self.cut()
        self.wfile.write(data)

    def cut(self) -> None:
        self.close_connection = True
        self.wfile.flush()
        cut(self.connection)
        raise Disconnected

    def write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    # -- the Images API --------------------------------------------------------------------
    def check_auth(self) -> None:
        scheme, _, key = self.headers.get("Authorization", "").strip().partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            raise payloads.missing_key_error()
        if key in self.api.invalid_keys:
            raise payloads.bad_key_error(key)

    def images(self, kind: str, body: bytes) -> None:
        content_type = self.headers.get("Content-Type", "")
        self.entry = self.api.record(
            {"method": "POST", "path": self.path, "kind": kind, "status": None}
        )
        try:
            parse = parse_multipart if kind == "edits" else parse_generation_body
            form, problem = parse(content_type, body), None
        except ApiError as error:
            form, problem = FormBody(), error
        self.entry.update(form_summary(form, self.received_wall))
        if form.mask is not None:
            self.api.remember_mask(form.mask)
        self.check_auth()
        if problem is not None:
            raise problem
        self.apply_fault(str(form.params.get("model") or ""))
        request = validate_request(kind, form.params, form.images, form.mask)
        if payloads.moderation_hit(request.prompt, self.api.moderation_words):
            raise payloads.moderation_error()
        if request.stream:
            self.stream(request)
        else:
            # The latency is the time to the answer: the pictures are drawn within it, as a
            # real model's work is, not after it.
            answer_at = self.received_at + self.api.latency
            data = [pictures.picture_bytes(request, i) for i in range(request.n)]
            self.api.wait(answer_at - time.monotonic())
            created = int(time.time())
            self.send_json(200, payloads.images_response(request, data, created))

    def apply_fault(self, model: str) -> None:
        fault = self.api.pop_fault()
        if fault is None:
            return
        name, argument = fault
        if self.entry is not None:
            self.entry["fault"] = name
        if name == "disconnect":
            self.disconnect = True  # honoured by whatever response comes next
        elif name == "timeout":
            self.api.wait(self.api.timeout_fault_seconds if argument is None else argument)
            self.close_connection = True
            raise Disconnected
        else:
            raise payloads.fault_error(name, argument, model)

    def stream(self, request: ImageRequest) -> None:
        """SSE over chunked transfer encoding; latency is spread over the events."""
        self.start_response(200, "text/event-stream; charset=utf-8", {"Cache-Control": "no-cache"})
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        step = self.api.latency / (request.n * (request.partial_images + 1))
        created = int(time.time())
        for index in range(request.n):
            final = pictures.render(request, index)
            previews = pictures.partial_renditions(final, request.partial_images)
            for number, preview in enumerate(previews):
                picture = pictures.encode_for(request, preview)
                self.send_event(step, payloads.partial_event(request, picture, number, created))
            picture = pictures.encode_for(request, final)
            self.send_event(step, payloads.completed_event(request, picture, created))
        self.write_chunk(b"")

    def send_event(self, delay: float, event: dict[str, Any]) -> None:
        self.api.wait(delay)
        self.write_chunk(payloads.sse(event))
        if self.disconnect:
            self.cut()
