import hashlib
import os
import socket
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from playground.generations.signals import job_cancelled
from playground.providers.models import Provider


class GenerationQuerySet(models.QuerySet["Generation"]):
    def for_user(self, user: Any) -> "GenerationQuerySet":
        """The user's jobs, without the ones they deleted (kept only for their cost)."""
        return self.filter(owner=user, deleted_at__isnull=True)

    def unfinished(self) -> "GenerationQuerySet":
        return self.filter(state__in=Generation.UNFINISHED_STATES)


class Generation(models.Model):
    """One request to the Images API, run as a background job."""

    class State(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    class Operation(models.TextChoices):
        GENERATE = "generate"
        EDIT = "edit"

    UNFINISHED_STATES = (State.QUEUED, State.RUNNING)

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="generations"
    )
    provider = models.ForeignKey(Provider, null=True, blank=True, on_delete=models.SET_NULL)
    model = models.CharField(max_length=100)
    operation = models.CharField(
        max_length=10, choices=Operation.choices, default=Operation.GENERATE
    )
    prompt = models.TextField()
    params = models.JSONField(default=dict, help_text="The Images API parameters sent upstream.")
    state = models.CharField(
        max_length=10, choices=State.choices, default=State.QUEUED, db_index=True
    )
    error_code = models.CharField(max_length=40, blank=True)
    error_message = models.TextField(blank=True)
    error_details = models.JSONField(
        default=dict,
        blank=True,
        help_text="What the provider said besides the error, e.g. its moderation_details.",
    )
    usage = models.JSONField(null=True, blank=True)
    response_meta = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Upstream calls made.")
    runs = models.PositiveSmallIntegerField(default=0, help_text="Times a worker started it.")
    crashes = models.PositiveSmallIntegerField(
        default=0, help_text="Times its worker died while running it (a planned stop is not one)."
    )
    task_id = models.CharField(max_length=64, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    upstream_seconds = models.FloatField(null=True, blank=True)
    mask = models.ForeignKey(
        "inputs.InputFile",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="RGBA PNG at the first reference's size; alpha 0 marks the area to edit.",
    )
    notices = models.JSONField(
        default=list, blank=True, help_text="What was adjusted in the inputs, in plain words."
    )
    # Cost in USD: the estimate before queuing (a range when quality is auto) and the actual
    # cost from the `usage` the API returned, priced with the catalog at that time.
    estimated_usd_low = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    estimated_usd_high = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    actual_usd = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)

    # A deleted job keeps its row, emptied of its prompt, images and inputs, so that what it
    # cost stays in the month's spend: deleting a job never gives budget back.
    deleted_at = models.DateTimeField(null=True, blank=True)
    # The API key a job was queued with, for that key's spend caps; empty for the playground.
    api_key = models.ForeignKey(
        "apikeys.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )

    objects = GenerationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.model} {self.state}"

    @property
    def is_finished(self) -> bool:
        return self.state not in self.UNFINISHED_STATES

    @property
    def cost_usd(self) -> Decimal | None:
        """What the job counts for: its actual cost, else the high end of its estimate."""
        return self.actual_usd if self.actual_usd is not None else self.estimated_usd_high

    @property
    def n(self) -> int:
        return int(self.params.get("n", 1))

    @property
    def created_ts(self) -> float:
        return self.created_at.timestamp()

    def elapsed_seconds(self) -> float:
        """Seconds from submission to now, or to the end once finished."""
        end = self.finished_at or timezone.now()
        return max(0.0, (end - self.created_at).total_seconds())

    def queue_seconds(self) -> float | None:
        if not self.started_at:
            return None
        return max(0.0, (self.started_at - self.created_at).total_seconds())

    def latest_previews(self) -> list["Preview"]:
        """The newest partial image of each image of the job (uses prefetched previews)."""
        latest: dict[int, Preview] = {}
        for preview in self.previews.all():
            latest[preview.image_index] = preview
        return [latest[index] for index in sorted(latest)]

    def placeholders(self) -> range:
        """One slot per image still to come, so the card keeps its shape while it runs."""
        return range(max(0, self.n - len(self.latest_previews())))

    def cancel(self) -> bool:
        """Cancel if still queued or running; True when this call cancelled it."""
        changed = Generation.objects.filter(pk=self.pk, state__in=self.UNFINISHED_STATES).update(
            state=self.State.CANCELLED,
            finished_at=timezone.now(),
            error_code="cancelled",
            error_message="Cancelled.",
        )
        self.refresh_from_db()
        if changed:
            job_cancelled.send(sender=Generation, generation_id=self.pk)
        return bool(changed)


class JobDeleted(Exception):
    """The job was deleted while its results were on their way: they are not stored."""


class GenerationInput(models.Model):
    """One reference image of an edit, in the order it was sent (the first takes the mask)."""

    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="inputs")
    position = models.PositiveSmallIntegerField()
    input_file = models.ForeignKey("inputs.InputFile", on_delete=models.PROTECT, related_name="+")
    source_image = models.ForeignKey(
        "gallery.Image",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="used_as_input",
        help_text="The gallery image this reference came from, for lineage.",
    )
    original_name = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["generation", "position"], name="one_input_per_position"
            )
        ]

    def __str__(self) -> str:
        return f"input {self.position} of generation {self.generation_id}"


_identity: tuple[int, str] | None = None


def this_worker() -> str:
    """The current process's worker identity, recorded on the jobs it runs.

    "<random id> <host>:<pid> <process key>": the random id (new in every process, also after
    a fork) is what tells workers apart, since two containers can share a host name and a pid.
    The process key lets a worker on the same machine and pid namespace see that a process
    is gone without waiting for its heartbeat to go stale.
    """
    global _identity
    pid = os.getpid()
    if _identity is None or _identity[0] != pid:
        _identity = (pid, f"{uuid.uuid4().hex} {socket.gethostname()}:{pid} {process_key(pid)}")
    return _identity[1]


def process_key(pid: int) -> str:
    """ "<namespace>:<start time>" of a process on this machine, or "" where /proc is missing.

    The namespace is a digest of the boot id and pid namespace: equal only for processes that
    share a kernel and a pid namespace, where a pid names the same process for everyone.
    """
    namespace = pid_namespace()
    started = process_start_time(pid)
    return f"{namespace}:{started}" if namespace and started else ""


def process_start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot, or "" when it does not exist."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rpartition(")")[2].split()[19]


def pid_namespace() -> str:
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""
    return hashlib.sha256(f"{boot} {namespace}".encode()).hexdigest()[:16]


def preview_path(instance: "Preview", filename: str) -> str:
    return f"previews/{instance.generation_id}/{uuid.uuid4().hex}.webp"


class Preview(models.Model):
    """A partial image streamed while a job runs (downscaled WebP; the final image is separate)."""

    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="previews")
    image_index = models.PositiveSmallIntegerField(default=0)
    partial_index = models.PositiveSmallIntegerField(default=0)
    file = models.FileField(upload_to=preview_path)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["image_index", "partial_index", "id"]

    def __str__(self) -> str:
        return f"preview {self.partial_index} of image {self.image_index} of {self.generation_id}"
