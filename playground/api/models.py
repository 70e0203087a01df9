"""Requests made with an `Idempotency-Key`: a retry gets the first request's job back."""

from django.db import models
from django.utils import timezone

MAX_IDEMPOTENCY_KEY = 255


class IdempotentRequest(models.Model):
    """One API key's use of one Idempotency-Key, and the job it queued.

    Written in the transaction that queues the job: the unique constraint lets only one of two
    concurrent duplicates commit, so a retry never queues a second job.
    """

    api_key = models.ForeignKey(
        "apikeys.ApiKey", on_delete=models.CASCADE, related_name="idempotent_requests"
    )
    idempotency_key = models.CharField(max_length=MAX_IDEMPOTENCY_KEY)
    endpoint = models.CharField(max_length=40)
    body_sha256 = models.CharField(
        max_length=64, help_text="Of the request's parameters and files."
    )
    generation = models.ForeignKey(
        "generations.Generation", on_delete=models.CASCADE, related_name="+", null=True
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["api_key", "idempotency_key"], name="api_idempotency_key_once_per_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.idempotency_key} → job {self.generation_id}"
