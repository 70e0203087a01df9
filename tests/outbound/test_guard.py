"""One guard for every request the server makes: addresses, redirects, one deadline."""

import http.server
import ipaddress
import socket
import threading
import time
from collections.abc import Iterator

import httpx2
import pytest

from playground.audit.models import AuditEvent
from playground.core import outbound
from playground.providers.client import list_models
from playground.providers.errors import Outcome, UpstreamError
from playground.providers.models import Provider

KEY = "sk-proj-outbound-0123456789abcdef"
REFUSED = [
    "100.64.0.1",  # shared address space (carrier-grade NAT)
    "100.100.100.200",  # a cloud metadata address inside it
    "192.88.99.1",  # 6to4 relay anycast
    "2002:7f00:1::",  # 6to4 embedding 127.0.0.1
    "2002:a9fe:a9fe::",  # 6to4 embedding 169.254.169.254
    "::ffff:100.100.100.200",  # IPv4-mapped
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
    "64:ff9b::a9fe:a9fe",  # NAT64 embedding 169.254.169.254
    "64:ff9b::7f00:1",  # NAT64 embedding 127.0.0.1
    "64:ff9b:1::1",  # NAT64 for local use
    "::7f00:1",  # IPv4-compatible 127.0.0.1
    "169.254.169.254",  # link-local
    "fe80::1",
    "127.0.0.1",  # loopback
    "::1",
    "10.0.0.1",
    "fd00::1",
    "0.0.0.0",
    "224.0.0.1",  # multicast
    "ff02::1",
]
PUBLIC = ["8.8.8.8", "93.184.216.34", "2606:4700:4700::1111", "2002:808:808::", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("address", REFUSED)
def test_it_refuses_every_address_that_is_not_globally_routable(settings, address):
    settings.API_ALLOW_PRIVATE_URLS = False
    assert not outbound.is_public(ipaddress.ip_address(address))
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(outbound.RefusedUrl, match="such addresses are refused"):
        outbound.check_url(f"http://{host}/hook")


@pytest.mark.parametrize("address", PUBLIC)
def test_it_lets_a_public_address_pass(settings, address):
    settings.API_ALLOW_PRIVATE_URLS = False
    assert outbound.is_public(ipaddress.ip_address(address))


# -- servers on loopback ------------------------------------------------------------------


class Trickle(http.server.BaseHTTPRequestHandler):
    """Answers 200 with 60 bytes announced, then sends one byte a second."""

    def _trickle(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", "60")
        self.end_headers()
        try:
            for _ in range(60):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(1)
        except OSError:
            pass

    def do_GET(self) -> None:
        self._trickle()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self._trickle()

    def log_message(self, *args: object) -> None:
        pass


class Target(http.server.BaseHTTPRequestHandler):
    """Where a redirect points: records that it was reached and lists a model."""

    reached: list[str] = []

    def do_GET(self) -> None:
        Target.reached.append(self.path)
        body = (
            b'{"object": "list", "data": '
            b'[{"id": "leaked", "object": "model", "created": 0, "owned_by": "x"}]}'
        )
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *args: object) -> None:
        pass


def serve(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def trickle() -> Iterator[str]:
    yield from serve(Trickle)


@pytest.fixture
def target() -> Iterator[str]:
    Target.reached = []
    yield from serve(Target)


@pytest.fixture
def redirector(target: str) -> Iterator[str]:
    class Redirect(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(307)
            self.send_header("Location", target + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_POST = do_GET

        def log_message(self, *args: object) -> None:
            pass

    yield from serve(Redirect)


# -- one deadline per attempt -------------------------------------------------------------


def test_it_cuts_a_trickling_fetch_off_at_the_deadline(settings, trickle):
    settings.API_ALLOW_PRIVATE_URLS = True  # the server is on loopback; this is about time
    started = time.monotonic()
    with pytest.raises(outbound.RefusedUrl, match="longer than 2 s"):
        outbound.fetch(trickle + "/a.png", max_bytes=10_000, timeout=2)
    assert time.monotonic() - started < 3.5


def test_it_cuts_a_trickling_callback_off_at_the_deadline(settings, trickle):
    settings.API_ALLOW_PRIVATE_URLS = True
    started = time.monotonic()
    with pytest.raises(httpx2.TimeoutException):
        # Reads the whole of a short answer: 60 bytes, under the 500 kept.
        outbound.post_json(trickle + "/hook", b"{}", {}, timeout=2)
    assert time.monotonic() - started < 3.5


# -- no redirects, providers included -----------------------------------------------------


def compatible(base_url: str, name: str = "Redirecting") -> Provider:
    provider = Provider(name=name, kind=Provider.Kind.COMPATIBLE, base_url=base_url)
    provider.set_api_key(KEY)
    provider.save()
    return provider


@pytest.mark.django_db
def test_it_refuses_a_provider_that_redirects_to_loopback(settings, redirector):
    settings.API_ALLOW_PRIVATE_URLS = True  # to reach the redirecting server at all
    provider = compatible(redirector + "/v1")
    with pytest.raises(UpstreamError) as caught:
        list_models(provider)
    assert caught.value.outcome == Outcome.PRIVATE_ADDRESS
    assert "redirect (HTTP 307" in caught.value.message
    assert Target.reached == []


@pytest.mark.django_db
def test_it_reports_the_redirect_in_test_connection(admin_client, settings, redirector):
    settings.API_ALLOW_PRIVATE_URLS = True
    provider = compatible(redirector + "/v1")
    response = admin_client.post(
        "/admin/providers/provider/",
        {"action": "test_connection", "_selected_action": [provider.pk]},
        follow=True,
    )
    page = response.content.decode()
    assert "Redirecting: The provider answered with a redirect (HTTP 307" in page
    assert "connection works" not in page and "leaked" not in page
    assert Target.reached == []
    assert AuditEvent.objects.get(action="tested").details["status"] == 307


def test_it_does_not_follow_a_redirect_of_a_fetch(settings, redirector):
    settings.API_ALLOW_PRIVATE_URLS = True
    with pytest.raises(outbound.RefusedUrl, match="HTTP 307"):
        outbound.fetch(redirector + "/a.png", max_bytes=10_000, timeout=5)
    assert Target.reached == []


# -- the address connected to -------------------------------------------------------------


@pytest.fixture
def public_answer(monkeypatch, settings):
    """The check before the call hears a public address, as from a name that rebinds; the
    connection then really goes to loopback (`localhost`)."""
    settings.API_ALLOW_PRIVATE_URLS = False
    monkeypatch.setattr(outbound, "_addresses", lambda host: [ipaddress.ip_address("8.8.4.4")])


@pytest.fixture
def listener() -> Iterator[tuple[int, list[bytes]]]:
    """A loopback listener that records whatever it is sent."""
    received: list[bytes] = []
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()

    def accept() -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    while data := conn.recv(4096):
                        received.append(data)
                except OSError:
                    pass

    threading.Thread(target=accept, daemon=True).start()
    yield sock.getsockname()[1], received
    sock.close()


def test_it_refuses_a_name_resolving_to_loopback_at_connect_time(public_answer, listener):
    port, received = listener
    with pytest.raises(outbound.RefusedUrl, match="loopback"):
        outbound.post_json(f"http://localhost:{port}/hook", b"{}", {}, timeout=5)
    with pytest.raises(outbound.RefusedUrl, match="loopback"):
        outbound.fetch(f"http://localhost:{port}/a.png", max_bytes=10_000, timeout=5)
    time.sleep(0.2)
    assert received == []


@pytest.mark.django_db
def test_it_refuses_a_provider_whose_name_resolves_to_loopback_at_connect_time(
    public_answer, listener
):
    port, received = listener
    provider = compatible(f"http://localhost:{port}/v1", name="Rebinding")
    with pytest.raises(UpstreamError) as caught:
        list_models(provider)
    assert caught.value.outcome == Outcome.PRIVATE_ADDRESS
    assert "loopback" in caught.value.message and KEY not in caught.value.message
    time.sleep(0.2)
    assert received == []  # the key was never sent
