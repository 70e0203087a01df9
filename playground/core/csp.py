"""Per-page additions to the Content-Security-Policy set in settings."""

from django.http import HttpResponse

# Reference previews are blob: URLs of the chosen files and the mask editor draws data: URLs;
# no other page shows images that are not served by this site.
LOCAL_IMAGES = {"img-src": ["data:", "blob:"]}


def allow_local_images(response: HttpResponse) -> HttpResponse:
    """Let this page show images made in the browser (data: and blob: URLs)."""
    response._csp_update = LOCAL_IMAGES  # type: ignore[attr-defined]  # read by CSPMiddleware
    return response
