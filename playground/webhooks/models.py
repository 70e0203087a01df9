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


class CallbackDelivery(models.Model):
    """The callback of one task API task: made with the task, sent once its job has ended.

    Every state change is a conditional UPDATE (from the state it expects, and for an attempt
    its number), so two workers never both schedule the delivery or both make one attempt.
    """

    class State(models.TextChoices):
        PENDING = "pending", "waiting for the job"
        SCHEDULED = "scheduled", "being delivered"
        DELIVERED = "delivered", "delivered"
        FAILED = "failed", "failed (gave up)"
        REFUSED = "refused", "refused (address not allowed)"

    FINISHED_STATES = (State.DELIVERED, State.FAILED, State.REFUSED)

    task = models.OneToOneField(
        "api.ApiTask", on_delete=models.CASCADE, related_name="callback_delivery"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="callback_deliveries"
    )
    state = models.CharField(
        max_length=10, choices=State.choices, default=State.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Attempts started.")
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="When the scheduled attempt is due."
    )
    sending_since = models.DateTimeField(
        null=True, blank=True, help_text="Set while an attempt is on its way."
    )
    task_result_id = models.CharField(
        max_length=64, blank=True, help_text="The background task of the scheduled attempt."
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "callback delivery"
        verbose_name_plural = "callback deliveries"
        indexes = [models.Index(fields=["owner", "-created_at"], name="webhooks_delivery_owner")]

    def __str__(self) -> str:
        return f"callback of {self.task_id}"


class CallbackAttempt(models.Model):
    """One POST of a callback and how the receiver answered (or why there was no answer)."""

    delivery = models.ForeignKey(
        CallbackDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The receiver's HTTP status; empty without an answer."
    )
    error = models.CharField(max_length=500, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(
                fields=["delivery", "number"], name="webhooks_one_row_per_attempt"
            )
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
