from django.contrib import admin
from django.urls import include, path

from playground.core.views import healthz
from playground.pricing.views import usage_report

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    # Django's auth URLs, with password reset only when a mail server is configured.
    path("accounts/", include("playground.accounts.urls")),
    path("gallery/", include("playground.gallery.urls")),
    path("pricing/", include("playground.pricing.urls")),
    path("usage/", usage_report, name="usage"),
    path("", include("playground.apikeys.urls")),
    path("", include("playground.webhooks.urls")),
    path("", include("playground.sharing.urls")),
    path("", include("playground.file_uploads.urls")),
    path("", include("playground.api.urls")),
    path("", include("playground.generations.urls")),
]
