"""Gzip for the responses that are text: pages, htmx partials, JSON. Never for images.

Images (PNG, JPEG, WebP) are compressed already: gzip would spend CPU for nothing and would
wrap the original bytes (C2PA provenance) in a transfer encoding. Static files never get here:
whitenoise answers them above this middleware, with its own precompressed .br and .gz files.
Server-Sent Events are left alone too: gzip buffers, and an event must leave at once. So is
JSON that carries base64 images (the Images API's answers), marked `holds_compressed_data`.

BREACH: a compressed page that reflects input next to a secret can leak the secret. Django's
CSRF token is masked afresh for every response, and GZipMiddleware pads each response with up
to 100 random bytes in the gzip header ("Heal the Breach"); both are Django's own mitigations.
"""

from django.http import HttpRequest, HttpResponseBase
from django.middleware.gzip import GZipMiddleware

COMPRESSIBLE_TYPES = frozenset(
    {
        "application/json",
        "application/problem+json",
        "application/javascript",
        "application/xml",
        "application/manifest+json",
        "image/svg+xml",
    }
)
NEVER_COMPRESSED = frozenset({"text/event-stream"})


def is_compressible(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type in NEVER_COMPRESSED:
        return False
    return media_type.startswith("text/") or media_type in COMPRESSIBLE_TYPES


class TextGZipMiddleware(GZipMiddleware):
    """Django's GZipMiddleware, for text-like content types only."""

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if not is_compressible(response.get("Content-Type", "")):
            return response
        if getattr(response, "holds_compressed_data", False):
            return response  # text wrapping compressed bytes: JSON of base64 images
        return super().process_response(request, response)
