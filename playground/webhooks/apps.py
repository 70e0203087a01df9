from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "playground.webhooks"
    label = "webhooks"
    verbose_name = "Task callbacks"
    default_auto_field = "django.db.models.BigAutoField"
