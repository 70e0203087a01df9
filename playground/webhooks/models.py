"""Callbacks of the task API: each user's signing secret."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class WebhookSecret(models.Model):
    """The secret a user's callbacks are signed with, encrypted at rest (it must be read back
    to sign, so it cannot be hashed). The owner sees it once, when it is made or rotated."""

    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_secret"
    )
    secret_encrypted = models.TextField(editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    def __str__(self) -> str:
        return f"webhook secret of {self.owner}"
