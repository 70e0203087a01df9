"""Refusing provider base URLs that point inside the server's own network.

A provider's key is sent to its base URL: an address on loopback, a private network or the
cloud metadata range (169.254.169.254) would let anyone who can edit a provider read the key
or reach internal services. Checked when the URL is saved and again before every call, so a
DNS record changed later is refused too.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings


class PrivateAddress(ValueError):
    pass


def _is_internal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_unspecified
        or address.is_reserved
        or address.is_multicast
        or (isinstance(address, ipaddress.IPv6Address) and address.is_site_local)
    )


def check_base_url(url: str) -> None:
    """Raise PrivateAddress when `url`'s host is, or resolves to, an internal address."""
    if not url or getattr(settings, "ALLOW_PRIVATE_PROVIDER_URLS", False):
        return
    host = urlsplit(url).hostname
    if not host:
        raise PrivateAddress("The base URL has no host name.")
    try:
        candidates = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
        except (socket.gaierror, UnicodeError) as error:
            raise PrivateAddress(f"The host '{host}' cannot be resolved.") from error
        candidates = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    for address in candidates:
        if _is_internal(address):
            raise PrivateAddress(
                f"The host '{host}' is a private, loopback or link-local address ({address}). "
                "Set ALLOW_PRIVATE_PROVIDER_URLS to allow it."
            )
