"""Task callbacks: scheduled once a task's job has ended, posted signed, retried with backoff.

A task with a `callBackUrl` gets a CallbackDelivery, pending until its job ends. Whoever sees
the job end first (the worker that ran it, the person who cancelled it, recovery's sweep)
moves it to "scheduled" with a conditional UPDATE and enqueues the first attempt in the same
transaction; the others find it already moved and do nothing. Each attempt is a background
task carrying the delivery id and the attempt's number, and it claims that number with a
conditional UPDATE, so a task that runs twice posts once.

An attempt posts `callback_body(task)` with X-Webhook-Timestamp and X-Webhook-Signature. A 2xx
answer delivers it; a refused address ends it (an address does not become allowed by
waiting); anything else is tried again after CALLBACK_RETRY_SECONDS, up to
CALLBACK_MAX_ATTEMPTS attempts. No database connection is held while the receiver answers.
"""

import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx2
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks.exceptions import TaskResultDoesNotExist

from playground.api.models import ApiTask
from playground.api.outbound import RefusedUrl, post_json
from playground.api.task_records import callback_body
from playground.generations.models import Generation
from playground.generations.wakeup import notify_workers
from playground.generations.watcher import release_connection
from playground.providers.secrets import KeyUnreadable
from playground.webhooks.models import CallbackAttempt, CallbackDelivery
from playground.webhooks.secrets import signature, webhook_secret_of

logger = logging.getLogger(__name__)

State = CallbackDelivery.State
JOB_ENDED = (Generation.State.SUCCEEDED, Generation.State.FAILED, Generation.State.CANCELLED)
TIMESTAMP_HEADER = "X-Webhook-Timestamp"
SIGNATURE_HEADER = "X-Webhook-Signature"
MAX_TEXT = 500
# Recovery's sweep: how many deliveries it looks at per round, and how far back it makes the
# delivery a task never got (tasks older than that are left alone).
SWEEP_LIMIT = 100
MISSING_DELIVERY_WINDOW = timedelta(days=1)
# An attempt still "sending" this long after it started lost its worker; a scheduled attempt
# whose background task is gone this long after it was due is enqueued again.
INTERRUPTED_AFTER_MIN = timedelta(minutes=5)
LOST_AFTER = timedelta(minutes=5)


@dataclass
class Outcome:
    """How one attempt went: an HTTP answer, or an error without one."""

    status: int | None = None
    excerpt: str = ""
    error: str = ""
    refused: bool = False
    duration_ms: int = 0

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def retry_delay(attempt: int) -> timedelta:
    """The wait after failed attempt number `attempt` (1-based); the schedule's last repeats."""
    schedule = list(settings.CALLBACK_RETRY_SECONDS) or [60]
    return timedelta(seconds=float(schedule[min(attempt, len(schedule)) - 1]))


def max_attempts() -> int:
    return max(1, int(settings.CALLBACK_MAX_ATTEMPTS))


def add_delivery(task: ApiTask) -> None:
    """A new task's pending delivery, in the transaction that creates the task."""
    if task.callback_url:
        CallbackDelivery.objects.create(task=task, owner_id=task.generation.owner_id)


def _enqueue(delivery_id: int, attempt: int, run_after: datetime | None = None) -> None:
    """The background task of one attempt, written in the caller's transaction."""
    from playground.webhooks.tasks import deliver_callback  # tasks imports this module

    sender = deliver_callback if run_after is None else deliver_callback.using(run_after=run_after)
    result = sender.enqueue(delivery_id, attempt)
    CallbackDelivery.objects.filter(pk=delivery_id).update(task_result_id=str(result.id))
    if run_after is None:
        notify_workers()  # an idle worker posts it at once, not at its next poll


def _schedule(delivery_id: int) -> bool:
    """Pending -> scheduled, if its job has ended and nobody moved it first."""
    job_ended = CallbackDelivery.objects.filter(
        pk=delivery_id, task__generation__state__in=JOB_ENDED
    ).exists()
    if not job_ended:
        return False
    with transaction.atomic():
        # Conditions on the row itself only: PostgreSQL checks those again once a concurrent
        # UPDATE of the row commits, not a join's (which would let both move it).
        moved = CallbackDelivery.objects.filter(pk=delivery_id, state=State.PENDING).update(
            state=State.SCHEDULED, next_attempt_at=timezone.now()
        )
        if moved:
            _enqueue(delivery_id, attempt=1)
    return bool(moved)


def _add_missing_deliveries(task_ids: list[int]) -> None:
    """Deliveries for tasks that have a callback URL but none yet (made before this)."""
    rows = ApiTask.objects.filter(pk__in=task_ids, callback_delivery__isnull=True).values_list(
        "pk", "generation__owner_id"
    )
    CallbackDelivery.objects.bulk_create(
        [CallbackDelivery(task_id=task_id, owner_id=owner_id) for task_id, owner_id in rows],
        ignore_conflicts=True,
    )


def schedule_callback(generation_id: int) -> bool:
    """Schedule the callback of the job's task, if it has one, the job has ended and nobody
    did yet. True when this call scheduled it."""
    delivery_id = (
        CallbackDelivery.objects.filter(task__generation_id=generation_id)
        .values_list("pk", flat=True)
        .first()
    )
    if delivery_id is None:
        task_ids = list(
            ApiTask.objects.filter(generation_id=generation_id)
            .exclude(callback_url="")
            .values_list("pk", flat=True)
        )
        if not task_ids:
            return False  # not a task API job, or no callback asked for
        _add_missing_deliveries(task_ids)
        delivery_id = CallbackDelivery.objects.get(task_id=task_ids[0]).pk
    return _schedule(delivery_id)


def schedule_after_job(generation_id: int) -> None:
    """`schedule_callback` where a job has just ended: an error here must not touch the job
    (recovery's sweep schedules what this missed)."""
    try:
        schedule_callback(generation_id)
    except Exception:
        logger.exception("scheduling the callback of generation %s failed", generation_id)


def _short(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def _signed_request(delivery_id: int) -> tuple[str, bytes, dict[str, str]]:
    """The URL, body and headers of an attempt, built now (the record is as of now)."""
    delivery = CallbackDelivery.objects.select_related("task__generation").get(pk=delivery_id)
    task = delivery.task
    body = json.dumps(callback_body(task), separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    headers = {TIMESTAMP_HEADER: timestamp}
    secret = webhook_secret_of(delivery.owner_id)
    if secret:  # without one the callback goes unsigned; the owner's page says so
        headers[SIGNATURE_HEADER] = signature(secret, task.task_id, timestamp)
    return task.callback_url, body, headers


def _post(url: str, body: bytes, headers: dict[str, str]) -> Outcome:
    timeout = float(settings.CALLBACK_TIMEOUT_SECONDS)
    started = time.monotonic()
    try:
        posted = post_json(url, body, headers, timeout=timeout)
        outcome = Outcome(status=posted.status, excerpt=_short(posted.body_excerpt))
        if not outcome.delivered:
            outcome.error = f"The receiver answered HTTP {posted.status}."
    except RefusedUrl as error:
        outcome = Outcome(error=_short(str(error)), refused=True)
    except httpx2.TimeoutException:
        outcome = Outcome(error=f"No answer within {timeout:g} s.")
    except httpx2.HTTPError as error:
        first_line = (str(error).strip().splitlines() or [""])[0]
        outcome = Outcome(error=_short(f"{type(error).__name__}: {first_line}".rstrip(": ")))
    outcome.duration_ms = int((time.monotonic() - started) * 1000)
    return outcome


def deliver(delivery_id: int, attempt: int) -> None:
    """Make attempt number `attempt`, unless it was made already or the delivery ended."""
    started_at = timezone.now()
    claimed = CallbackDelivery.objects.filter(
        pk=delivery_id, state=State.SCHEDULED, attempts=attempt - 1, sending_since__isnull=True
    ).update(attempts=attempt, sending_since=started_at)
    if not claimed:
        return
    try:
        url, body, headers = _signed_request(delivery_id)
    except CallbackDelivery.DoesNotExist:
        return  # its task was deleted meanwhile
    except KeyUnreadable:
        outcome = Outcome(
            error="The webhook secret cannot be read with the server's current key; "
            "make a new one on the Webhooks page."
        )
    except Exception:
        logger.exception("preparing callback delivery %s failed", delivery_id)
        outcome = Outcome(error="Something went wrong on our side preparing the callback.")
    else:
        release_connection()  # none is held while the receiver answers
        outcome = _post(url, body, headers)
    settle(delivery_id, attempt, started_at, outcome)


def settle(delivery_id: int, attempt: int, started_at: datetime, outcome: Outcome) -> bool:
    """Record attempt `attempt` and what follows it: delivered, refused, given up, or the
    next attempt enqueued. False when that attempt was settled already."""
    now = timezone.now()
    changes: dict[str, object] = {"sending_since": None}
    next_attempt = None
    if outcome.delivered:
        changes.update(state=State.DELIVERED, finished_at=now, next_attempt_at=None)
    elif outcome.refused:  # an address does not become allowed by waiting
        changes.update(state=State.REFUSED, finished_at=now, next_attempt_at=None)
    elif attempt >= max_attempts():
        changes.update(state=State.FAILED, finished_at=now, next_attempt_at=None)
    else:
        next_attempt = now + retry_delay(attempt)
        changes.update(next_attempt_at=next_attempt)
    with transaction.atomic():
        moved = CallbackDelivery.objects.filter(
            pk=delivery_id, state=State.SCHEDULED, attempts=attempt, sending_since__isnull=False
        ).update(**changes)
        if not moved:
            return False
        CallbackAttempt.objects.create(
            delivery_id=delivery_id,
            number=attempt,
            started_at=started_at,
            duration_ms=outcome.duration_ms,
            status_code=outcome.status,
            error=outcome.error,
            response_excerpt=outcome.excerpt,
        )
        if next_attempt is not None:
            _enqueue(delivery_id, attempt + 1, run_after=next_attempt)
    return True


def attempt_cut_short(
    delivery_id: int,
    attempt: int,
    error: str = "Something went wrong on our side during this attempt.",
) -> None:
    """The background task of an attempt failed around it, or its worker is stopping: settle
    the attempt as an error (tried again as usual), unless it was settled."""
    started_at = (
        CallbackDelivery.objects.filter(pk=delivery_id, attempts=attempt)
        .values_list("sending_since", flat=True)
        .first()
    )
    if started_at is not None:
        duration_ms = int((timezone.now() - started_at).total_seconds() * 1000)
        settle(delivery_id, attempt, started_at, Outcome(error=error, duration_ms=duration_ms))


def _interrupted_after() -> timedelta:
    return max(INTERRUPTED_AFTER_MIN, 4 * timedelta(seconds=settings.CALLBACK_TIMEOUT_SECONDS))


def _task_waiting(task_result_id: str) -> bool:
    """Whether the background task of a scheduled attempt is still to run (or running)."""
    from playground.webhooks.tasks import deliver_callback

    if not task_result_id:
        return False
    try:
        result = deliver_callback.get_result(task_result_id)
    except (TaskResultDoesNotExist, ValueError):
        return False
    return result.status in (TaskResultStatus.READY, TaskResultStatus.RUNNING)


def sweep_callbacks() -> int:
    """Recovery's round: schedule the callbacks of jobs that ended unseen (failed by recovery,
    a worker that died), settle attempts whose worker died mid-post, and enqueue again an
    attempt whose background task was lost. Returns how many deliveries it moved on."""
    now = timezone.now()
    without_delivery = list(
        ApiTask.objects.exclude(callback_url="")
        .filter(
            callback_delivery__isnull=True,
            generation__state__in=JOB_ENDED,
            created_at__gte=now - MISSING_DELIVERY_WINDOW,
        )
        .values_list("pk", flat=True)[:SWEEP_LIMIT]
    )
    _add_missing_deliveries(without_delivery)
    moved = 0
    pending = CallbackDelivery.objects.filter(
        state=State.PENDING, task__generation__state__in=JOB_ENDED
    ).values_list("pk", flat=True)
    for delivery_id in list(pending[:SWEEP_LIMIT]):
        moved += _schedule(delivery_id)

    interrupted = CallbackDelivery.objects.filter(
        state=State.SCHEDULED, sending_since__lt=now - _interrupted_after()
    ).values_list("pk", "attempts", "sending_since")
    for delivery_id, attempt, started_at in list(interrupted[:SWEEP_LIMIT]):
        outcome = Outcome(error="The attempt was cut short (its worker stopped).")
        moved += settle(delivery_id, attempt, started_at, outcome)

    overdue = CallbackDelivery.objects.filter(
        state=State.SCHEDULED, sending_since__isnull=True, next_attempt_at__lt=now - LOST_AFTER
    ).values_list("pk", "attempts", "task_result_id")
    for delivery_id, attempts, task_result_id in list(overdue[:SWEEP_LIMIT]):
        if _task_waiting(task_result_id):
            continue  # the workers are behind, not the task lost
        with transaction.atomic():
            still_lost = CallbackDelivery.objects.filter(
                pk=delivery_id,
                state=State.SCHEDULED,
                attempts=attempts,
                sending_since__isnull=True,
                task_result_id=task_result_id,
            ).update(next_attempt_at=now)
            if still_lost:
                _enqueue(delivery_id, attempts + 1)
        moved += still_lost
    return moved
