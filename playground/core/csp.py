"""The Content-Security-Policy: the site's middleware and per-page additions to the policy in
settings."""

from csp.middleware import CSPMiddleware
from django.http import HttpRequest, HttpResponse, HttpResponseBase

# Reference previews are blob: URLs of the chosen files and the mask editor draws data: URLs;
# no other page shows images that are not served by this site.
LOCAL_IMAGES = {"img-src": ["data:", "blob:"]}
# An image or a plain-text answer opened on its own is shown by the browser in a page it builds
# with inline styles. Scripts stay forbidden, so an SVG opened this way still runs none.
BROWSER_VIEWER = {"style-src": ["'unsafe-inline'"]}


def allow_local_images(response: HttpResponse) -> HttpResponse:
    """Let this page show images made in the browser (data: and blob: URLs)."""
    response._csp_update = LOCAL_IMAGES  # type: ignore[attr-defined]  # read by CSPMiddleware
    return response


class SiteCSPMiddleware(CSPMiddleware):
    """django-csp's middleware, letting the browser's own viewer style what is not a page.

    Only HTML is written by this site; its pages keep the strict style-src.
    """

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        content_type = response.get("Content-Type", "")
        if not content_type.startswith("text/html") and not hasattr(response, "_csp_update"):
            response._csp_update = BROWSER_VIEWER  # type: ignore[attr-defined]
        return super().process_response(request, response)
