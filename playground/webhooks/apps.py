from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "playground.webhooks"
    label = "webhooks"
    verbose_name = "Task callbacks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from playground.webhooks import signals  # noqa: F401  (connects the receivers)
