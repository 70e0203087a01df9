from django.urls import path

from playground.webhooks import views

urlpatterns = [
    path("account/webhooks/", views.webhooks, name="webhooks"),
    path("account/webhooks/secret/", views.rotate_secret, name="webhook-secret-rotate"),
]
