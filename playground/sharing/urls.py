from django.urls import path, register_converter

from playground.sharing import public, views


class TokenConverter:
    """What a share token can look like (URL-safe base64); anything else is a 404 at once."""

    regex = "[A-Za-z0-9_-]{16,64}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(TokenConverter, "share_token")

urlpatterns = [
    path("shares/", views.shares, name="shares"),
    path("shares/new/", views.share_create, name="share-create"),
    path("shares/<int:pk>/revoke/", views.share_revoke, name="share-revoke"),
    path("s/<share_token:token>/", public.share_page, name="share-page"),
    path(
        "s/<share_token:token>/<int:position>/display/",
        public.shared_display,
        name="share-display",
    ),
    path(
        "s/<share_token:token>/<int:position>/original/",
        public.shared_original,
        name="share-original",
    ),
    path(
        "s/<share_token:token>/<int:position>/download/",
        public.shared_download,
        name="share-download",
    ),
    path(
        "s/<share_token:token>/<int:position>/thumbnail/",
        public.shared_thumbnail,
        name="share-thumbnail",
    ),
]
