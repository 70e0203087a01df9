"""`python -m playground.healthcheck`: exit 0 when the web server on this machine answers /healthz.

The container's HEALTHCHECK. It asks over loopback, naming the public host (ALLOWED_HOSTS
refuses 127.0.0.1 in production), and over TLS when gunicorn terminates it (TLS_CERTFILE).
/healthz is exempt from the HTTPS redirect. Standard library only: no Django start-up cost.
"""

import http.client
import os
import ssl
import sys
from urllib.parse import urlsplit

TIMEOUT_SECONDS = 4.0


def public_host() -> str:
    """The Host header to send: SITE_URL's host, else the first plain ALLOWED_HOSTS entry."""
    if site_url := os.environ.get("SITE_URL", "").strip():
        return urlsplit(site_url).netloc
    for host in os.environ.get("ALLOWED_HOSTS", "").split(","):
        if (host := host.strip()) and not host.startswith((".", "*")):
            return host
    return "127.0.0.1"


def connection(port: int) -> http.client.HTTPConnection:
    if not os.environ.get("TLS_CERTFILE"):
        return http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT_SECONDS)
    # The certificate names the public host, not 127.0.0.1; this only asks whether our own
    # process on loopback answers, so the certificate is not checked here.
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return http.client.HTTPSConnection("127.0.0.1", port, timeout=TIMEOUT_SECONDS, context=context)


def healthy(port: int) -> bool:
    client = connection(port)
    try:
        client.request("GET", "/healthz", headers={"Host": public_host()})
        return client.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        client.close()


if __name__ == "__main__":
    sys.exit(0 if healthy(int(os.environ.get("PORT", "8000"))) else 1)
