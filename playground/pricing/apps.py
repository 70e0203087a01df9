from django.apps import AppConfig


class PricingConfig(AppConfig):
    name = "playground.pricing"
    label = "pricing"
