"""Requests the server makes on a program's behalf: fetching a reference URL, posting a callback.

The rules every request the server makes follows (globally routable addresses only, checked
at connect time; no redirects; one deadline per attempt; a byte cap) live in
playground/core/outbound.py, shared with the calls to the image providers. What is the task
API's own: a reference URL that is not the playground's own or a data URL is fetched only if
an admin allowed its host (AllowedFetchHost).
"""

from playground.core.outbound import (
    ANSWER_KEPT_BYTES,
    USER_AGENT,
    Fetched,
    Posted,
    RefusedUrl,
    allow_private,
    check_url,
    fetch,
    post_json,
    split_http_url,
)

__all__ = [
    "ANSWER_KEPT_BYTES",
    "USER_AGENT",
    "Fetched",
    "Posted",
    "RefusedUrl",
    "allow_private",
    "check_url",
    "fetch",
    "host_allowed_for_fetch",
    "post_json",
    "split_http_url",
]


def host_allowed_for_fetch(host: str) -> bool:
    """Whether an admin allowed fetching reference images from `host` (or a parent domain
    written as `.example.com`)."""
    from playground.api.models import AllowedFetchHost

    candidates = {host}
    parts = host.split(".")
    candidates.update("." + ".".join(parts[i:]) for i in range(1, len(parts)))
    return AllowedFetchHost.objects.filter(host__in=candidates).exists()
