"""The API's records: Idempotency-Key uses, task API tasks, and hosts reference URLs may name."""

import secrets

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


def new_task_id() -> str:
    return "task_" + secrets.token_hex(16)


class ApiTask(models.Model):
    """A job queued through the task API (`createTask`): its public id, its callback, and the
    request as sent, which `recordInfo` returns as `param`."""

    task_id = models.CharField(max_length=40, unique=True, default=new_task_id, editable=False)
    generation = models.OneToOneField(
        "generations.Generation", on_delete=models.CASCADE, related_name="api_task"
    )
    api_key = models.ForeignKey(
        "apikeys.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    callback_url = models.URLField(max_length=2000, blank=True)
    param = models.JSONField(default=dict, help_text="The request body, as the program sent it.")
    base_url = models.CharField(
        max_length=500, help_text="This server's address as the program reached it."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "API task"

    def __str__(self) -> str:
        return self.task_id


class AllowedFetchHost(models.Model):
    """A host the task API may fetch reference images from (`input_urls`, `mask_url`).

    Addresses on private, loopback or link-local networks stay refused even when listed,
    unless API_ALLOW_PRIVATE_URLS is set.
    """

    host = models.CharField(
        max_length=253,
        unique=True,
        help_text="A host name such as images.example.com, or .example.com for it and every "
        "name under it.",
    )
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["host"]
        verbose_name = "allowed host for reference URLs"
        verbose_name_plural = "allowed hosts for reference URLs"

    def __str__(self) -> str:
        return self.host

    def save(self, *args: object, **kwargs: object) -> None:
        self.host = self.host.strip().lower().rstrip(".")
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class RateLimitWindow(models.Model):
    """How many requests one counter (a key's or a user's) has made in one fixed window.

    Shared by every web process through the database: a request increments its rows with an
    UPDATE inside a transaction, which holds the row until it commits or rolls back.
    """

    counter = models.CharField(max_length=100, help_text="e.g. key:12:queue or user:3:queue.")
    window_start = models.DateTimeField(db_index=True)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["counter", "window_start"], name="api_rate_limit_window_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.counter} from {self.window_start:%H:%M:%S}: {self.count}"
