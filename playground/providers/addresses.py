"""Where a provider's key may be sent.

A provider's key goes to its base URL: the rules of every request the server makes apply
(playground/core/outbound.py: globally routable addresses only, checked when the URL is saved,
before every call, and on the address actually connected to; no redirects), so that anyone
who can edit a provider cannot read the key through, or reach, the server's own network.

The offline stand-in kind is the bundled stand-in only, never a way around those rules: its
base URL is http://127.0.0.1:PORT/v1 (or [::1]) where PORT is OFFLINE_API_PORT (the stand-in
`make run` starts) or the port of a stand-in running in this very process (as tests start
one), and its connections must reach that loopback port.
"""

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings

from playground.core.outbound import (
    Address,
    PeerRule,
    RefusedUrl,
    check_url,
    public_peer,
)

STAND_IN_MODULE = "playground.offline_api.server"


class PrivateAddress(RefusedUrl):
    pass


def check_base_url(url: str, *, offline: bool = False) -> None:
    """Raise PrivateAddress when a key may not be sent to `url`: an internal address, or, for
    the offline stand-in kind, anything but the bundled stand-in."""
    if offline:
        if stand_in_port(url) is None:
            raise PrivateAddress(
                "The offline stand-in kind is for the bundled stand-in only: its base URL is "
                f"http://127.0.0.1:{settings.OFFLINE_API_PORT}/v1."
            )
        return
    if not url:  # OpenAI's own endpoint
        return
    try:
        check_url(url)
    except PrivateAddress:
        raise
    except RefusedUrl as error:
        raise PrivateAddress(f"{error} Set API_ALLOW_PRIVATE_URLS to allow it.") from None


def stand_in_port(url: str) -> int | None:
    """The port of `url` if it is the bundled stand-in's address, None otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
        address = ipaddress.ip_address(parts.hostname or "")
    except ValueError:
        return None
    if parts.scheme != "http" or parts.username or parts.password or port is None:
        return None
    if not address.is_loopback:
        return None
    return port if port == settings.OFFLINE_API_PORT else None


def peer_rule(kind_is_offline: bool, base_url: str) -> PeerRule:
    """What every connection of a provider's client must reach."""
    if not kind_is_offline:
        return public_peer
    port = stand_in_port(base_url)

    def stand_in_peer(host: str, address: Address, peer_port: int) -> None:
        if not (address.is_loopback and port is not None and peer_port == port):
            raise PrivateAddress(
                f"The offline stand-in kind connects only to the bundled stand-in, not to "
                f"'{host}' ({address} port {peer_port})."
            )

    return stand_in_peer
