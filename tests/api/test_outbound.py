"""The address rules for URLs the API is given: what is refused, and that fetches are capped."""

import http.server
import ipaddress
import threading
import time
from collections.abc import Iterator

import pytest

from playground.api.models import AllowedFetchHost
from playground.api.outbound import RefusedUrl, check_url, fetch, host_allowed_for_fetch, post_json
from playground.core import outbound

INTERNAL_URLS = [
    "http://127.0.0.1/hook",
    "http://127.8.9.10:8080/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.1.2.3/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://0.0.0.0/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[fe80::1]/",
    "http://[fd00::1]/",
    "http://224.0.0.1/",
    "http://localhost/",
    "http://LOCALHOST./",
    "http://2130706433/",  # 127.0.0.1 as one decimal number
    "http://0x7f.1/",  # ... in hex, shortened
    "http://0177.0.0.1/",  # ... in octal
    "http://2852039166/",  # 169.254.169.254 as one decimal number
]
MALFORMED_URLS = [
    ("ftp://example.com/a.png", "Only http and https"),
    ("file:///etc/passwd", "Only http and https"),
    ("gopher://127.0.0.1:6379/_", "Only http and https"),
    ("http://user:pass@example.com/", "user name or password"),
    ("http:///nohost", "no host"),
    ("http://example.com:99999/", "not valid"),
    ("javascript:alert(1)", "Only http and https"),
]


@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_internal_addresses_are_refused(settings, url):
    settings.API_ALLOW_PRIVATE_URLS = False
    with pytest.raises(RefusedUrl, match="private, loopback or link-local"):
        check_url(url)


@pytest.mark.parametrize("url", ["http://127.0.0.1/hook", "http://169.254.169.254/"])
def test_the_setting_allows_internal_addresses(settings, url):
    settings.API_ALLOW_PRIVATE_URLS = True
    assert check_url(url) in ("127.0.0.1", "169.254.169.254")


@pytest.mark.parametrize(("url", "reason"), MALFORMED_URLS)
def test_malformed_urls_are_refused_with_a_reason(settings, url, reason):
    settings.API_ALLOW_PRIVATE_URLS = True
    with pytest.raises(RefusedUrl, match=reason):
        check_url(url)


def test_a_public_address_passes(settings):
    settings.API_ALLOW_PRIVATE_URLS = False
    assert check_url("https://8.8.8.8/callback") == "8.8.8.8"


def test_a_name_that_does_not_resolve_is_refused(settings):
    with pytest.raises(RefusedUrl, match="cannot be resolved"):
        check_url("http://no-such-host.invalid/")


@pytest.mark.django_db
def test_allowed_hosts_match_names_and_parent_domains():
    AllowedFetchHost.objects.create(host="Images.Example.com.")
    AllowedFetchHost.objects.create(host=".cdn.example.org")
    assert host_allowed_for_fetch("images.example.com")
    assert not host_allowed_for_fetch("other.example.com")
    assert host_allowed_for_fetch("a.b.cdn.example.org")
    assert not host_allowed_for_fetch("cdn.example.org.evil.test")


class _Handler(http.server.BaseHTTPRequestHandler):
    body = b"\x89PNG" + b"x" * 4000
    received: list[bytes] = []

    def do_GET(self) -> None:
        if self.path == "/slow":
            time.sleep(3)
        if self.path == "/missing":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        if self.path == "/gzipped":
            self.send_header("Content-Encoding", "gzip")
        if self.path == "/chunked":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for _ in range(10):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(self.body), self.body))
            self.wfile.write(b"0\r\n\r\n")
            return
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        _Handler.received.append(self.rfile.read(length))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def local_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_loopback_fetch_is_refused_without_the_setting(settings, local_server):
    settings.API_ALLOW_PRIVATE_URLS = False
    with pytest.raises(RefusedUrl, match="loopback"):
        fetch(local_server + "/a.png", max_bytes=10_000, timeout=5)


def test_a_fetch_reads_the_body_within_the_cap(settings, local_server):
    settings.API_ALLOW_PRIVATE_URLS = True
    fetched = fetch(local_server + "/a.png", max_bytes=10_000, timeout=5)
    assert fetched.content == _Handler.body
    assert fetched.content_type == "image/png"


def test_a_fetch_over_the_cap_is_refused_declared_or_not(settings, local_server):
    settings.API_ALLOW_PRIVATE_URLS = True
    with pytest.raises(RefusedUrl, match="larger than"):
        fetch(local_server + "/a.png", max_bytes=1000, timeout=5)
    with pytest.raises(RefusedUrl, match="larger than"):
        fetch(local_server + "/chunked", max_bytes=10_000, timeout=5)


def test_a_slow_or_failing_fetch_is_refused_with_the_reason(settings, local_server):
    settings.API_ALLOW_PRIVATE_URLS = True
    started = time.monotonic()
    with pytest.raises(RefusedUrl, match="longer than 1 s"):
        fetch(local_server + "/slow", max_bytes=10_000, timeout=1)
    assert time.monotonic() - started < 2.5
    with pytest.raises(RefusedUrl, match="HTTP 404"):
        fetch(local_server + "/missing", max_bytes=10_000, timeout=5)


def test_a_name_that_turns_private_after_the_check_is_refused_at_connect(
    settings, local_server, monkeypatch
):
    # DNS cannot be changed here: the first lookup is made to answer a public address, as a
    # rebinding name would, while the connection really goes to loopback.
    settings.API_ALLOW_PRIVATE_URLS = False
    monkeypatch.setattr(outbound, "_addresses", lambda host: [ipaddress.ip_address("8.8.4.4")])
    _Handler.received.clear()
    with pytest.raises(RefusedUrl, match="loopback"):
        post_json(local_server + "/hook", b"{}", {}, timeout=5)
    assert _Handler.received == []  # nothing was sent


def test_post_json_delivers_when_allowed(settings, local_server):
    settings.API_ALLOW_PRIVATE_URLS = True
    _Handler.received.clear()
    posted = post_json(local_server + "/hook", b'{"a": 1}', {"X-Test": "1"}, timeout=5)
    assert posted.status == 204
    assert _Handler.received == [b'{"a": 1}']


def test_a_huge_answer_to_a_callback_is_not_read_whole(settings):
    settings.API_ALLOW_PRIVATE_URLS = True

    class Flood(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(200)
            self.send_header("Content-Length", str(10 * 1024**3))  # claims 10 GiB
            self.end_headers()
            try:
                for _ in range(64):  # sends 64 MiB, then gives up
                    self.wfile.write(b"x" * 1024 * 1024)
            except OSError:
                pass

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Flood)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        started = time.monotonic()
        posted = post_json(f"http://127.0.0.1:{server.server_address[1]}/", b"{}", {}, timeout=5)
    finally:
        server.shutdown()
        server.server_close()
    assert posted.status == 200
    assert posted.body_excerpt == "x" * 500
    assert time.monotonic() - started < 3


def test_a_compressed_answer_is_refused(settings, local_server):
    settings.API_ALLOW_PRIVATE_URLS = True
    with pytest.raises(RefusedUrl, match="compressed"):
        fetch(local_server + "/gzipped", max_bytes=10_000, timeout=5)
