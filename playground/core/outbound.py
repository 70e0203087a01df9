"""Every request the server itself makes: one guard for all of them.

Reference images fetched for the task API, callbacks posted to programs, and the calls to the
image providers (the `openai` SDK's client, "Test connection" in the admin) all go through
`GuardedTransport`, which holds three rules:

- Only globally routable addresses. The host is resolved when a URL is accepted, and the
  address actually connected to is checked again at connect time, for every connection: a
  name that answers a public address first and an internal one later is refused then. An
  IPv6 address that embeds an IPv4 one (IPv4-mapped, 6to4, NAT64) is judged by the embedded
  address too. The setting API_ALLOW_PRIVATE_URLS lifts the rule (a receiver or a provider
  on the same machine or network); the bundled offline stand-in is allowed by its own rule
  (see playground/providers/addresses.py), which is no way around this one.
- No redirects: each hop would need the rules again, and none of these requests has any
  business being redirected. A 3xx answer is an answer like any other.
- One deadline for the whole attempt: connecting, sending and every read together. A server
  that trickles a byte a second is cut off when the time is up, not after each read's own
  timeout. Reads past a byte cap are refused as well.
"""

import contextlib
import ipaddress
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

import httpx2 as httpx
from django.conf import settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# Called with the request's host, the address and the port actually connected to; raises
# RefusedUrl to refuse the connection before anything is sent on it.
PeerRule = Callable[[str, Address, int], None]

USER_AGENT = "gpt-image-playground"
ANSWER_KEPT_BYTES = 500  # of a callback receiver's answer
TCP_CONNECTED = "connection.connect_tcp.complete"
# httpcore's `trace` events whose return value is the network stream just opened: the TCP
# connection, then (for https) the TLS stream wrapping it; a deadline shuts both.
CONNECTED_EVENTS = frozenset({TCP_CONNECTED, "connection.start_tls.complete"})

# What `ipaddress.is_global` lets through but is not a destination on the internet.
NOT_GLOBAL = [
    ipaddress.ip_network("192.88.99.0/24"),  # 6to4 relay anycast (deprecated, RFC 7526)
    ipaddress.ip_network("64:ff9b:1::/48"),  # NAT64 for local use (RFC 8215)
    ipaddress.ip_network("::/96"),  # IPv4-compatible IPv6 (deprecated)
]
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class RefusedUrl(ValueError):
    """A URL the rules refuse; the message says why, naming the host but nothing secret."""


class ResponseTooLarge(httpx.TransportError):
    """The answer went past the byte cap of its request."""


def allow_private() -> bool:
    return bool(getattr(settings, "API_ALLOW_PRIVATE_URLS", False))


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (IPv4-mapped, 6to4, NAT64), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: Address) -> bool:
    """Whether `address` is globally routable unicast, and so is any IPv4 address it embeds."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:  # the IPv4 address itself, in IPv6 clothes
            return is_public(address.ipv4_mapped)
        inner = embedded_ipv4(address)
        if inner is not None and not is_public(inner):
            return False
    return (
        address.is_global
        and not address.is_multicast
        and not any(
            address in network for network in NOT_GLOBAL if network.version == address.version
        )
    )


def refuse_unless_public(host: str, address: Address) -> None:
    if not allow_private() and not is_public(address):
        raise RefusedUrl(
            f"The host '{host}' is a private, loopback or link-local address ({address}), "
            "or another that is not on the internet; such addresses are refused."
        )


def public_peer(host: str, address: Address, port: int) -> None:
    """The rule for every connection, unless a client is given another."""
    del port
    refuse_unless_public(host, address)


def split_http_url(url: str) -> tuple[SplitResult, str]:
    """The parts of an http(s) URL and its host (lower case, no trailing dot); RefusedUrl
    saying what is wrong otherwise. Every URL the server is given goes through here."""
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError for a bad port
    except ValueError as error:
        raise RefusedUrl("The URL is not valid.") from error
    if parts.scheme not in ("http", "https"):
        raise RefusedUrl("Only http and https URLs are allowed.")
    if parts.username or parts.password:
        raise RefusedUrl("A URL may not carry a user name or password.")
    if not parts.hostname:
        raise RefusedUrl("The URL has no host name.")
    del port
    return parts, parts.hostname.lower().rstrip(".")


def parse_address(text: str) -> Address:
    return ipaddress.ip_address(str(text).split("%")[0])


def _addresses(host: str) -> list[Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, OSError) as error:
        raise RefusedUrl(f"The host '{host}' cannot be resolved.") from error
    return [parse_address(info[4][0]) for info in infos]


def check_url(url: str) -> str:
    """Raise RefusedUrl unless `url` is http(s) to a host with only public addresses.
    Returns the host name. The connection is checked again when it is made."""
    _parts, host = split_http_url(url)
    for address in _addresses(host):
        refuse_unless_public(host, address)
    return host


# -- the transport ------------------------------------------------------------------------


def _shut(sock: socket.socket) -> None:
    # socket.socket's own shutdown, also for TLS sockets: it wakes a read blocked in another
    # thread at once, and leaves closing to the thread that reads.
    with contextlib.suppress(OSError):  # already closed, or a TCP socket TLS took over
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class Attempt:
    """One request's connections and its deadline: when the time is up, its sockets are shut,
    which ends a read that is waiting on a server however slowly it sends."""

    def __init__(self, seconds: float | None) -> None:
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self.expired = False
        self._timer: threading.Timer | None = None
        if seconds is not None:
            self._timer = threading.Timer(max(0.0, seconds), self._expire)
            self._timer.daemon = True
            self._timer.start()

    def record(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            expired = self.expired
        if expired:
            _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)

    def finish(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


def _deadline_seconds(request: httpx.Request) -> float | None:
    """The request's timeout (the largest of its parts) taken as one deadline for all."""
    parts = request.extensions.get("timeout") or {}
    values = [float(value) for value in parts.values() if value is not None]
    return max(values) if values else None


def _timed_out(request: httpx.Request, seconds: float | None) -> httpx.ReadTimeout:
    return httpx.ReadTimeout(f"The deadline of {seconds:g} s passed.", request=request)


class _GuardedStream(httpx.SyncByteStream):
    def __init__(
        self,
        stream: httpx.SyncByteStream,
        attempt: Attempt,
        request: httpx.Request,
        seconds: float | None,
        max_bytes: int | None,
    ) -> None:
        self._stream = stream
        self._attempt = attempt
        self._request = request
        self._seconds = seconds
        self._max_bytes = max_bytes

    def __iter__(self) -> Iterator[bytes]:
        total = 0
        try:
            for chunk in self._stream:
                total += len(chunk)
                if self._max_bytes is not None and total > self._max_bytes:
                    raise ResponseTooLarge(
                        f"The answer is larger than {self._max_bytes} bytes.",
                        request=self._request,
                    )
                if self._attempt.expired:
                    raise _timed_out(self._request, self._seconds)
                yield chunk
        except httpx.TransportError as error:
            if self._attempt.expired and not isinstance(error, httpx.TimeoutException):
                raise _timed_out(self._request, self._seconds) from error
            raise
        # A socket shut at the deadline can look like the end of an answer without a length.
        if self._attempt.expired:
            raise _timed_out(self._request, self._seconds)

    def close(self) -> None:
        self._attempt.finish()
        self._stream.close()


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport with the rules above: `peer_rule` checks every connection when it is
    made (before anything is sent on it), the request's timeout is one deadline for the whole
    attempt, and an answer may not exceed `max_bytes`. Any `trace` extension a caller set is
    still called."""

    def __init__(
        self, *, peer_rule: PeerRule = public_peer, max_bytes: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self._peer_rule = peer_rule
        self._max_bytes = max_bytes

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        seconds = _deadline_seconds(request)
        attempt = Attempt(seconds)
        host = request.url.host
        earlier = request.extensions.get("trace")
        rule = self._peer_rule

        def trace(event: str, info: dict[str, Any]) -> None:
            stream = info.get("return_value")
            if event in CONNECTED_EVENTS and stream is not None:
                if event == TCP_CONNECTED:
                    peer = stream.get_extra_info("server_addr")
                    try:
                        if not (isinstance(peer, tuple) and len(peer) >= 2):
                            raise RefusedUrl(f"The address of '{host}' cannot be checked.")
                        rule(host, parse_address(peer[0]), int(peer[1]))
                    except RefusedUrl:
                        stream.close()
                        raise
                sock = stream.get_extra_info("socket")
                if isinstance(sock, socket.socket):
                    attempt.record(sock)
            if earlier is not None:
                earlier(event, info)

        request.extensions["trace"] = trace
        try:
            response = super().handle_request(request)
        except httpx.TransportError as error:
            attempt.finish()
            if attempt.expired and not isinstance(error, httpx.TimeoutException):
                raise _timed_out(request, seconds) from error
            raise
        except BaseException:
            attempt.finish()
            raise
        assert isinstance(response.stream, httpx.SyncByteStream)
        response.stream = _GuardedStream(
            response.stream, attempt, request, seconds, self._max_bytes
        )
        return response


def guarded_client(
    *, timeout: float, peer_rule: PeerRule = public_peer, max_bytes: int | None = None
) -> httpx.Client:
    """A client under the rules: no redirects, no proxy or settings from the environment."""
    return httpx.Client(
        transport=GuardedTransport(peer_rule=peer_rule, max_bytes=max_bytes),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
    )


# -- the two requests the task API makes --------------------------------------------------


@dataclass
class Fetched:
    content: bytes
    content_type: str


def fetch(url: str, *, max_bytes: int, timeout: float) -> Fetched:
    """GET `url` under the rules, reading at most `max_bytes`, all within `timeout` seconds.
    Raises RefusedUrl with a reason fit to show the program that asked."""
    check_url(url)
    too_large = RefusedUrl(f"It is larger than {max_bytes // (1024 * 1024)} MB.")
    try:
        with (
            guarded_client(timeout=timeout, max_bytes=max_bytes) as client,
            client.stream(
                "GET",
                url,
                # Raw bytes only: a compressed answer could unpack to far more than the cap.
                headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"},
            ) as response,
        ):
            if response.status_code != 200:
                raise RefusedUrl(f"Fetching it answered HTTP {response.status_code}.")
            if response.headers.get("content-encoding", "identity").lower() != "identity":
                raise RefusedUrl("It was sent compressed; send the image file as it is.")
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise too_large
            body = bytearray()
            for chunk in response.iter_raw():
                body.extend(chunk)
            return Fetched(bytes(body), response.headers.get("content-type", ""))
    except ResponseTooLarge as error:
        raise too_large from error
    except httpx.TimeoutException as error:
        raise RefusedUrl(f"Fetching it took longer than {timeout:g} s.") from error
    except httpx.HTTPError as error:
        raise RefusedUrl(f"It could not be fetched ({type(error).__name__}).") from error


@dataclass
class Posted:
    status: int
    body_excerpt: str


def post_json(url: str, body: bytes, headers: dict[str, str], *, timeout: float) -> Posted:
    """POST a JSON body under the rules (checked now, at delivery time), all within `timeout`
    seconds. Raises RefusedUrl for a refused address, httpx.HTTPError for a failed delivery
    (httpx.TimeoutException when the deadline passed)."""
    check_url(url)
    with (
        guarded_client(timeout=timeout) as client,
        client.stream(
            "POST",
            url,
            content=body,
            headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
        ) as response,
    ):
        # Only the start of the answer is kept: a receiver cannot make us read gigabytes.
        start = bytearray()
        for chunk in response.iter_raw():
            start.extend(chunk)
            if len(start) >= ANSWER_KEPT_BYTES:
                break
        excerpt = bytes(start[:ANSWER_KEPT_BYTES]).decode("utf-8", errors="replace")
        return Posted(response.status_code, excerpt)
