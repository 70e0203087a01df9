from django.contrib import admin
from django.urls import include, path

from playground.core.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("gallery/", include("playground.gallery.urls")),
    path("", include("playground.generations.urls")),
]
