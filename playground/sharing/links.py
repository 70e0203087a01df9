"""Absolute addresses of share pages and of their image files."""

import math
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from playground.gallery.storage import DISPLAY_EDGE
from playground.sharing.models import ShareLink


def absolute(request: HttpRequest, path: str) -> str:
    """The site's public address (PUBLIC_BASE_URL) or, unset, the request's own."""
    base = settings.PUBLIC_BASE_URL
    return f"{base}{path}" if base else request.build_absolute_uri(path)


def share_url(request: HttpRequest, link: ShareLink) -> str:
    return absolute(request, reverse("share-page", args=[link.token]))


def display_size(width: int, height: int, edge: int = DISPLAY_EDGE) -> tuple[int, int]:
    """The pixel size of the display rendition: Pillow's thumbnail() rounding, fitted in edge².

    Computed rather than read from the file, so a page view never opens an image.
    """
    if width <= edge and height <= edge:
        return width, height
    aspect = width / height

    def nearest(number: float, key: Callable[[int], float]) -> int:
        return max(min(math.floor(number), math.ceil(number), key=key), 1)

    if aspect <= 1:
        return nearest(edge * aspect, lambda n: abs(aspect - n / edge)), edge
    return edge, nearest(edge / aspect, lambda n: 0 if n == 0 else abs(aspect - edge / n))
