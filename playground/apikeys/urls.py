from django.urls import path

from playground.apikeys import views

urlpatterns = [
    path("account/api-keys/", views.api_keys, name="api-keys"),
    path("account/api-keys/<int:pk>/revoke/", views.revoke_api_key, name="api-key-revoke"),
    path("api/v1/me", views.me, name="api-me"),
]
