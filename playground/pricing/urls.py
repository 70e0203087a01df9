from django.urls import path

from playground.pricing import views

urlpatterns = [
    path("estimate/", views.pricing_panel, name="pricing-panel"),
    path("spend/", views.spend_link, name="spend-link"),
]
