"""Requests the server makes on a program's behalf: fetching a reference URL, posting a callback.

A URL given by a program must not turn the server into a probe of its own network. The host
is resolved, and any loopback, private, link-local (169.254.169.254 is the cloud metadata
service), reserved or multicast address refuses it, unless the setting
API_ALLOW_PRIVATE_URLS says otherwise. The rule is checked when the URL is accepted and again
when the request is made: the address actually connected to is checked once more, so a name
that resolves to a public address at first and a private one later is refused then.
A reference URL that is not the playground's own or a data URL is fetched only if an admin
allowed its host (AllowedFetchHost).
"""

import ipaddress
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

import httpx2 as httpx
from django.conf import settings

from playground.providers.addresses import _is_internal

# Redirects are not followed: each hop would need the rules again, and callbacks and
# reference images have no business redirecting.
USER_AGENT = "gpt-image-playground"
CONNECTED_EVENT = "connection.connect_tcp.complete"
ANSWER_KEPT_BYTES = 500  # of a callback receiver's answer


class RefusedUrl(ValueError):
    """A URL the rules refuse; the message says why, naming the host but nothing secret."""


def allow_private() -> bool:
    return bool(getattr(settings, "API_ALLOW_PRIVATE_URLS", False))


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


def _addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, OSError) as error:
        raise RefusedUrl(f"The host '{host}' cannot be resolved.") from error
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def _refuse_internal(host: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
    if not allow_private() and _is_internal(address):
        raise RefusedUrl(
            f"The host '{host}' is a private, loopback or link-local address ({address}); "
            "such addresses are refused."
        )


def check_url(url: str) -> str:
    """Raise RefusedUrl unless `url` is http(s) to a host with only public addresses.
    Returns the host name."""
    _parts, host = split_http_url(url)
    for address in _addresses(host):
        _refuse_internal(host, address)
    return host


def host_allowed_for_fetch(host: str) -> bool:
    """Whether an admin allowed fetching reference images from `host` (or a parent domain
    written as `.example.com`)."""
    from playground.api.models import AllowedFetchHost

    candidates = {host}
    parts = host.split(".")
    candidates.update("." + ".".join(parts[i:]) for i in range(1, len(parts)))
    return AllowedFetchHost.objects.filter(host__in=candidates).exists()


def _peer_check(host: str) -> Any:
    """httpcore's `trace` extension: refuse the connection if it reached an internal address."""

    def trace(event: str, info: dict[str, Any]) -> None:
        if event != CONNECTED_EVENT or info.get("return_value") is None:
            return
        peer = info["return_value"].get_extra_info("server_addr")
        if isinstance(peer, tuple) and peer:
            _refuse_internal(host, ipaddress.ip_address(str(peer[0]).split("%")[0]))

    return trace


@dataclass
class Fetched:
    content: bytes
    content_type: str


def fetch(url: str, *, max_bytes: int, timeout: float) -> Fetched:
    """GET `url` under the address rules, reading at most `max_bytes`. Raises RefusedUrl with
    a reason fit to show the program that asked."""
    host = check_url(url)
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client,
            client.stream(
                "GET",
                url,
                # Raw bytes only: a compressed answer could unpack to far more than the cap.
                headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"},
                extensions={"trace": _peer_check(host)},
            ) as response,
        ):
            if response.status_code != 200:
                raise RefusedUrl(f"Fetching it answered HTTP {response.status_code}.")
            if response.headers.get("content-encoding", "identity").lower() != "identity":
                raise RefusedUrl("It was sent compressed; send the image file as it is.")
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise RefusedUrl(f"It is larger than {max_bytes // (1024 * 1024)} MB.")
            body = bytearray()
            for chunk in response.iter_raw():
                body.extend(chunk)
                if len(body) > max_bytes:
                    raise RefusedUrl(f"It is larger than {max_bytes // (1024 * 1024)} MB.")
            return Fetched(bytes(body), response.headers.get("content-type", ""))
    except httpx.TimeoutException as error:
        raise RefusedUrl(f"Fetching it took longer than {timeout:g} s.") from error
    except httpx.HTTPError as error:
        raise RefusedUrl(f"It could not be fetched ({type(error).__name__}).") from error


@dataclass
class Posted:
    status: int
    body_excerpt: str


def post_json(url: str, body: bytes, headers: dict[str, str], *, timeout: float) -> Posted:
    """POST a JSON body under the address rules (checked now, at delivery time). Raises
    RefusedUrl for a refused address, httpx.HTTPError for a failed delivery."""
    host = check_url(url)
    with (
        httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client,
        client.stream(
            "POST",
            url,
            content=body,
            headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
            extensions={"trace": _peer_check(host)},
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
