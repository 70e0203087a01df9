"""Request bodies over ASGI: refused before they are read unless the caller is signed in, and
never read past REQUEST_BODY_MAX_BYTES; nothing of a refused request reaches the disk.

Raw sockets against the live ASGI server, as an attacker would send them.
"""

import asyncio
import http.client
import io
import json
import os
import re
import select
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import encode_multipart
from PIL import Image as PILImage

from playground.apikeys.models import ApiKey
from playground.core.asgi_files import FileStreamingASGIHandler
from playground.core.body_limits import first_form_field
from playground.generations.models import Generation
from tests.jobs import FORM_FIELDS

pytestmark = pytest.mark.django_db(transaction=True)

MB = 1024 * 1024
GB = 1024 * MB
BOUNDARY = "BoUnDaRyStRiNg"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
MADE_UP_CSRF = "madeupcsrfsecretmadeupcsrfsecret"  # 32 characters, like a real secret
PROMPT_DELAY_SECONDS = 5.0


# -- what is on disk ----------------------------------------------------------------------------


@pytest.fixture
def spool_dir(tmp_path, settings, monkeypatch) -> Path:  # type: ignore[no-untyped-def]
    """Where every temporary file of the server goes; any body over 1 KB would spool to disk."""
    where = tmp_path / "spool"
    where.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(where)
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024
    monkeypatch.setattr(tempfile, "tempdir", str(where))
    return where


def on_disk(where: Path) -> list[str]:
    """Files in `where`, and files this process holds open there (unlinked ones included:
    an anonymous temporary file never shows in a directory listing)."""
    held = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(where)):
            held.append(target)
    return sorted(os.listdir(where)) + held


def on_disk_once_finished(where: Path, seconds: float = 3.0) -> list[str]:
    """on_disk(), once a request that was answered has also finished (its files closed)."""
    deadline = time.monotonic() + seconds
    while (files := on_disk(where)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return files


# -- a raw HTTP client --------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    sent: int  # body bytes sent before the answer came
    seconds: float  # from the end of the request head to the answer

    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class RawRequest:
    """One request on its own connection: the head, then as much body as the server takes."""

    url: str
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)

    def send(
        self,
        body: Iterator[bytes] | None = None,
        most: int = 256 * MB,
        while_sending: Callable[[], None] = lambda: None,
    ) -> Answer:
        host, port = self.url.removeprefix("http://").split(":")
        sock = socket.create_connection((host, int(port)), timeout=10)
        try:
            head = f"{self.method} {self.path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            head += "".join(f"{name}: {value}\r\n" for name, value in self.headers.items())
            sock.sendall(head.encode("latin1") + b"\r\n")
            started = time.monotonic()
            sent = self._pump(sock, body or iter(()), most, while_sending)
            return self._answer(sock, sent, started)
        finally:
            sock.close()

    @staticmethod
    def _pump(
        sock: socket.socket, body: Iterator[bytes], most: int, while_sending: Callable[[], None]
    ) -> int:
        """Send until the server answers (or stops reading), the body ends or `most` is sent."""
        sent = 0
        pending = b""
        while sent < most:
            if not pending:
                pending = next(body, b"")
                if not pending:
                    break
            readable, writable, _ = select.select([sock], [sock], [], PROMPT_DELAY_SECONDS)
            if readable:
                break
            if not writable:
                raise AssertionError(f"the server neither read nor answered after {sent} bytes")
            try:
                done = sock.send(pending[: 256 * 1024])
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += done
            pending = pending[done:]
            while_sending()
        return sent

    @staticmethod
    def _answer(sock: socket.socket, sent: int, started: float) -> Answer:
        data = b""
        try:
            while chunk := sock.recv(65536):
                data += chunk
                if b"\r\n\r\n" in data and _complete(data):
                    break
        except ConnectionResetError:
            pass  # a server that closes with unread data resets; what came first is kept
        seconds = time.monotonic() - started
        assert data, f"no answer after sending {sent} bytes"
        head, _, body = data.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin1").split("\r\n")
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        return Answer(int(status_line.split()[1]), headers, body, sent, seconds)


def _complete(data: bytes) -> bool:
    head, _, body = data.partition(b"\r\n\r\n")
    match = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    return match is not None and len(body) >= int(match.group(1))


def zeros(total: int, block: int = MB) -> Iterator[bytes]:
    chunk = bytes(block)
    for _ in range(total // block):
        yield chunk


def chunked(blocks: Iterator[bytes]) -> Iterator[bytes]:
    for block in blocks:
        yield b"%x\r\n" % len(block) + block + b"\r\n"
    yield b"0\r\n\r\n"


# -- a signed-in browser ------------------------------------------------------------------------


@dataclass
class Browser:
    """What a signed-in browser holds: its cookies and the page's CSRF token."""

    cookie: str
    csrf_token: str

    def headers(self, **more: str) -> dict[str, str]:
        return {"Cookie": self.cookie, **more}


@pytest.fixture
def browser(live_server, client, alice, provider) -> Browser:  # type: ignore[no-untyped-def]
    """Signed in as alice, with the CSRF cookie and token the playground page hands out."""
    client.force_login(alice)
    name = django_settings.SESSION_COOKIE_NAME
    session = f"{name}={client.cookies[name].value}"
    host, port = live_server.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request("GET", "/", headers={"Cookie": session})
    response = conn.getresponse()
    page = response.read().decode()
    assert response.status == 200
    csrf_cookie = re.search(r"csrftoken=(\w+)", response.getheader("Set-Cookie", ""))
    token = re.search(r'"X-CSRFToken": "(\w+)"', page)
    assert csrf_cookie and token
    conn.close()
    return Browser(f"{session}; csrftoken={csrf_cookie.group(1)}", token.group(1))


def noisy_png(size: tuple[int, int]) -> bytes:
    """A PNG that does not compress, so the body passes the allowance for anonymous callers."""
    out = io.BytesIO()
    PILImage.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(out, "PNG")
    return out.getvalue()


def edit_form(**fields: object) -> dict[str, object]:
    image = noisy_png((320, 320))
    return {
        **FORM_FIELDS,
        "model": "gpt-image-1.5",
        "quality": "low",
        "image[]": [SimpleUploadedFile("photo.png", image, content_type="image/png")],
        **fields,
    }


def test_the_asgi_module_loads_as_gunicorn_loads_it(tmp_path):
    """Imported before Django is set up, the gate must not touch models at import time."""
    env = {**os.environ, "DATA_DIR": str(tmp_path)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    loaded = subprocess.run(
        [sys.executable, "-c", "import playground.asgi as m; print(type(m.application).__name__)"],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert loaded.stdout.strip() == "FileStreamingASGIHandler", loaded.stderr


# -- refused before the body is read ------------------------------------------------------------


@pytest.mark.parametrize("path", ["/generations/", "/accounts/login/"])
def test_an_anonymous_gigabyte_is_refused_after_a_few_megabytes(live_server, spool_dir, path):
    seen_on_disk: list[str] = []
    answer = RawRequest(
        live_server.url,
        "POST",
        path,
        {
            "Cookie": f"csrftoken={MADE_UP_CSRF}",
            "X-CSRFToken": MADE_UP_CSRF,
            "Content-Type": MULTIPART,
            "Content-Length": str(GB),
        },
    ).send(zeros(GB), most=64 * MB, while_sending=lambda: seen_on_disk.extend(on_disk(spool_dir)))
    assert answer.status == 403
    assert b"Sign in to send a request body over 64 KB" in answer.body
    assert answer.headers["connection"] == "close"
    assert answer.sent < 32 * MB
    assert answer.seconds < PROMPT_DELAY_SECONDS
    assert seen_on_disk == []
    assert on_disk(spool_dir) == []


def test_an_anonymous_chunked_body_is_refused_past_the_allowance(live_server, spool_dir):
    answer = RawRequest(
        live_server.url,
        "POST",
        "/accounts/login/",
        {"Content-Type": MULTIPART, "Transfer-Encoding": "chunked"},
    ).send(chunked(zeros(GB, 64 * 1024)), most=64 * MB)
    assert answer.status == 403
    assert answer.sent < 32 * MB
    assert on_disk(spool_dir) == []


def test_an_anonymous_api_call_gets_a_json_refusal(live_server, spool_dir):
    answer = RawRequest(
        live_server.url,
        "POST",
        "/v1/images/edits",
        {"Content-Type": MULTIPART, "Content-Length": str(GB)},
    ).send()
    assert answer.status == 403
    assert answer.json()["error"] == {
        "message": "Send an API key ('Authorization: Bearer ...') to send a request body over "
        "64 KB.",
        "type": "permission_error",
        "param": None,
        "code": "authentication_required",
    }


def test_a_refusal_before_any_view_is_in_the_apis_own_envelope(live_server, spool_dir):
    openai = RawRequest(
        live_server.url,
        "POST",
        "/v1/images/generations",
        {"Content-Type": "application/json", "Content-Length": str(GB)},
    ).send()
    assert openai.status == 403 and openai.json()["error"]["code"] == "authentication_required"
    assert re.fullmatch(r"req_[0-9a-f]{32}", openai.headers["x-request-id"])
    task = RawRequest(
        live_server.url,
        "POST",
        "/api/v1/jobs/createTask",
        {"Content-Type": "application/json", "Content-Length": str(GB)},
    ).send()
    assert task.status == 403
    assert task.json() == {
        "code": 403,
        "msg": "Send an API key ('Authorization: Bearer ...') to send a request body over 64 KB.",
        "data": None,
    }


def test_a_small_anonymous_request_still_reaches_the_login_form(live_server, spool_dir):
    answer = RawRequest(
        live_server.url,
        "POST",
        "/accounts/login/",
        {"Content-Type": "application/x-www-form-urlencoded", "Content-Length": "30"},
    ).send(iter([b"username=nobody&password=wrong"]))
    assert answer.status == 403  # Django's CSRF page: the gate let it through
    assert b"CSRF verification failed" in answer.body
    assert b"Sign in to send" not in answer.body


def test_a_bad_csrf_header_is_refused_before_the_body(live_server, browser, spool_dir):
    answer = RawRequest(
        live_server.url,
        "POST",
        "/generations/",
        browser.headers(
            **{"X-CSRFToken": MADE_UP_CSRF, "Content-Type": MULTIPART, "Content-Length": "1000000"}
        ),
    ).send()  # the head alone: the answer may not wait for the body
    assert answer.status == 403
    assert answer.sent == 0
    assert b"CSRF verification failed: CSRF token from the 'X-Csrftoken' HTTP header" in (
        answer.body
    )
    assert answer.headers["connection"] == "close"
    assert on_disk(spool_dir) == []
    assert not Generation.objects.exists()


def test_a_form_without_its_token_first_is_refused_after_its_first_part(
    live_server, browser, spool_dir
):
    content = encode_multipart(BOUNDARY, {**edit_form(), "csrfmiddlewaretoken": "x" * 64})
    assert len(content) > 64 * 1024
    answer = RawRequest(
        live_server.url,
        "POST",
        "/generations/",
        browser.headers(**{"Content-Type": MULTIPART, "Content-Length": str(len(content))}),
    ).send(iter([content]))
    assert answer.status == 403
    assert b"CSRF token missing" in answer.body
    assert not Generation.objects.exists()


# -- signed in: the cap ---------------------------------------------------------------------------


def test_a_body_declared_over_the_cap_gets_413_at_once(live_server, browser, spool_dir):
    over = django_settings.REQUEST_BODY_MAX_BYTES + 1
    answer = RawRequest(
        live_server.url,
        "POST",
        "/generations/",
        browser.headers(
            **{
                "X-CSRFToken": browser.csrf_token,
                "Content-Type": MULTIPART,
                "Content-Length": str(over),
            }
        ),
    ).send()
    assert answer.status == 413
    assert answer.sent == 0
    assert b"is over the limit of 851 MB" in answer.body
    assert answer.headers["connection"] == "close"


def test_a_chunked_body_is_cut_off_at_the_cap(live_server, browser, spool_dir, settings):
    settings.REQUEST_BODY_MAX_BYTES = 4 * MB
    answer = RawRequest(
        live_server.url,
        "POST",
        "/generations/",
        browser.headers(
            **{
                "X-CSRFToken": browser.csrf_token,
                "Content-Type": MULTIPART,
                "Transfer-Encoding": "chunked",
            }
        ),
    ).send(chunked(zeros(GB, 64 * 1024)), most=256 * MB)
    assert answer.status == 413
    assert b"The request body is over the limit of 4 MB" in answer.body
    assert 4 * MB <= answer.sent < 4 * MB + 32 * MB
    assert on_disk(spool_dir) == []


def test_a_body_longer_than_declared_is_cut_off(alice, settings):
    """Past the server's framing (uvicorn cuts a body at its Content-Length), the handler itself
    stops at the limit."""
    settings.REQUEST_BODY_MAX_BYTES = 4 * MB
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/accounts/login/",
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1"), (b"content-length", b"10")],
        "server": ("127.0.0.1", 80),
        "client": ("127.0.0.1", 5000),
    }
    received = 0
    sent: list[dict] = []

    async def receive() -> dict:
        nonlocal received
        received += 64 * 1024
        more = received < 8 * MB
        return {"type": "http.request", "body": bytes(64 * 1024), "more_body": more}

    async def send(message: dict) -> None:
        sent.append(message)

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, FileStreamingASGIHandler()(scope, receive, send)).result()
    assert sent[0]["status"] == 413
    assert received <= 128 * 1024


@pytest.mark.parametrize(
    ("body", "content_type", "ended", "expected"),
    [
        (b"csrfmiddlewaretoken=abc&prompt=x", "application/x-www-form-urlencoded", False, "abc"),
        (b"csrfmiddlewaretoken=ab", "application/x-www-form-urlencoded", False, None),
        (b"csrfmiddlewaretoken=abc", "application/x-www-form-urlencoded", True, "abc"),
        (
            b'--B\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\nabc\r\n--B',
            "multipart/form-data; boundary=B",
            False,
            "abc",
        ),
        (
            b'--B\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\nab',
            "multipart/form-data; boundary=B",
            False,
            None,
        ),
        (b"preamble\r\n--B\r\n", "multipart/form-data; boundary=B", False, ""),
        (b"{}", "application/json", False, ""),
    ],
)
def test_it_reads_the_token_from_the_first_form_field(body, content_type, ended, expected):
    field = first_form_field(body, content_type, ended)
    if expected is None:
        assert field is None  # more of the body is needed
    else:
        assert field is not None
        assert field[1] == expected
        assert field[0] == ("csrfmiddlewaretoken" if expected else "")


# -- signed in: what still works ------------------------------------------------------------------


def test_the_generate_form_sends_its_token_first(logged_in):
    """A form posted without JavaScript carries its token in the body: it must come first."""
    page = logged_in.get("/").content.decode()
    start = page.index('<form id="generate-form"')
    assert 'form="generate-form"' not in page[:start]  # no field of it placed before it
    form = page[start:]
    first_field = re.search(r'\bname="([^"]+)"', form)
    assert first_field and first_field.group(1) == "csrfmiddlewaretoken"


def test_a_generate_and_an_edit_still_work_as_htmx_sends_them(live_server, browser, spool_dir):
    generate = encode_multipart(BOUNDARY, {**FORM_FIELDS})
    edit = encode_multipart(BOUNDARY, edit_form(prompt="the same photo in blue"))
    assert len(edit) > 64 * 1024  # through the gate, not under its allowance
    for content in (generate, edit):
        answer = RawRequest(
            live_server.url,
            "POST",
            "/generations/",
            browser.headers(
                **{
                    "X-CSRFToken": browser.csrf_token,
                    "HX-Request": "true",
                    "Content-Type": MULTIPART,
                    "Content-Length": str(len(content)),
                }
            ),
        ).send(iter([content]))
        assert answer.status == 201, answer.body.decode()
    jobs = Generation.objects.order_by("pk")
    assert [job.operation for job in jobs] == ["generate", "edit"]
    assert [i.original_name for i in jobs[1].inputs.all()] == ["photo.png"]
    assert on_disk_once_finished(spool_dir) == []


def test_a_form_posted_without_javascript_still_works(live_server, browser, spool_dir):
    fields = {"csrfmiddlewaretoken": browser.csrf_token, **edit_form()}
    content = encode_multipart(BOUNDARY, fields)
    assert content.startswith(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="csrf'.encode()
    )
    answer = RawRequest(
        live_server.url,
        "POST",
        "/generations/",
        browser.headers(**{"Content-Type": MULTIPART, "Content-Length": str(len(content))}),
    ).send(iter([content]))
    assert answer.status == 302, answer.body.decode()
    assert Generation.objects.get().operation == "edit"


def test_an_api_key_still_works(live_server, alice, spool_dir):
    _, secret = ApiKey.issue(alice, "laptop", created_by=alice)
    me = RawRequest(live_server.url, "GET", "/api/v1/me", {"Authorization": f"Bearer {secret}"})
    answer = me.send()
    assert answer.status == 200
    assert answer.json()["user"] == "alice"

    # A large body with a key goes on to the view (which takes GET only)...
    big = RawRequest(
        live_server.url,
        "POST",
        "/api/v1/me",
        {"Authorization": f"Bearer {secret}", "Content-Length": str(MB)},
    ).send(zeros(MB))
    assert big.status == 405
    # ...and with an unknown key it is refused before it is read, in OpenAI's shape.
    unknown = RawRequest(
        live_server.url,
        "POST",
        "/api/v1/me",
        {"Authorization": "Bearer pk_unknown0123456789", "Content-Length": str(GB)},
    ).send()
    assert unknown.status == 401 and unknown.sent == 0
    assert unknown.json()["error"]["code"] == "invalid_api_key"
