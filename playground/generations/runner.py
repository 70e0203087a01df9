"""Running one generation job: claim it, call the provider, store what comes back."""

import logging
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from django.db import InterfaceError, OperationalError, close_old_connections, transaction
from django.db.models import F
from django.utils import timezone

from playground.catalog.models import ImageModel
from playground.gallery.models import Image
from playground.gallery.storage import store_original
from playground.generations.edit_inputs import upstream_files
from playground.generations.models import Generation, JobDeleted, this_worker
from playground.generations.previews import store_preview
from playground.generations.push import job_changed, jobs_started
from playground.generations.renditions import add_renditions, has_room_for
from playground.generations.watcher import HEARTBEAT_SECONDS as HEARTBEAT_SECONDS  # recovery's
from playground.generations.watcher import release_connection, watcher
from playground.pricing.estimate import actual_cost
from playground.providers.client import CallHooks, UpstreamRequest, UpstreamResult, call_images_api
from playground.providers.errors import Outcome, UpstreamError
from playground.providers.models import Provider

logger = logging.getLogger(__name__)
T = TypeVar("T")

DATABASE_ERRORS = (OperationalError, InterfaceError)
# Saving a result that arrived while the database does not answer: try for about a minute.
SAVE_ATTEMPTS = 7
SAVE_FIRST_DELAY_SECONDS = 0.5

# Set by a stopping worker once its grace period is over: running jobs stop waiting on the
# upstream and go back to the queue for another worker (a planned stop, not a crash).
giving_back = threading.Event()

# Jobs this process's worker already marked running, with the batch of tasks it claimed: their
# threads skip their own claim (one write each, which on SQLite queue behind each other).
_claimed_in_batch: set[int] = set()
_claimed_in_batch_lock = threading.Lock()


def claim_batch(generation_ids: list[int]) -> list[int]:
    """Mark these queued jobs running in one UPDATE, inside the caller's transaction (the one
    claiming their tasks); returns those moved. Call `batch_committed` once it commits."""
    if not generation_ids:
        return []
    queued = Generation.objects.filter(pk__in=generation_ids, state=Generation.State.QUEUED)
    moving = list(queued.select_for_update().values_list("pk", flat=True))
    if moving:
        now = timezone.now()
        Generation.objects.filter(pk__in=moving).update(
            state=Generation.State.RUNNING,
            started_at=now,
            heartbeat_at=now,
            runs=F("runs") + 1,
            worker=this_worker(),
        )
        jobs_started(moving)  # announced once the transaction commits
    return moving


def batch_committed(generation_ids: list[int]) -> None:
    for generation_id in generation_ids:
        watcher.watch(generation_id)
    with _claimed_in_batch_lock:
        _claimed_in_batch.update(generation_ids)


def _take_claimed_in_batch(generation_id: int) -> bool:
    with _claimed_in_batch_lock:
        if generation_id in _claimed_in_batch:
            _claimed_in_batch.discard(generation_id)
            return True
    return False


def claim(generation_id: int) -> bool:
    now = timezone.now()
    claimed = Generation.objects.filter(pk=generation_id, state=Generation.State.QUEUED).update(
        state=Generation.State.RUNNING,
        started_at=now,
        heartbeat_at=now,
        runs=F("runs") + 1,
        worker=this_worker(),
    )
    if claimed:
        watcher.watch(generation_id)
        job_changed(generation_id)
    return bool(claimed)


def finish(generation_id: int, state: str, **fields: object) -> bool:
    """Settle a running job; False when it was no longer running (cancelled meanwhile)."""
    finished = Generation.objects.filter(pk=generation_id, state=Generation.State.RUNNING).update(
        state=state, finished_at=timezone.now(), **fields
    )
    if finished:
        job_changed(generation_id)
    return bool(finished)


def settle_with_images(generation_id: int, state: str, **fields: object) -> None:
    """Settle a job that received images: they were billed, so their cost always counts.

    A job cancelled (or failed) meanwhile keeps its state but still records what arrived.
    """
    if finish(generation_id, state, **fields):
        return
    money = {k: v for k, v in fields.items() if k in ("usage", "actual_usd", "upstream_seconds")}
    if (
        Generation.objects.filter(pk=generation_id)
        .exclude(state__in=Generation.UNFINISHED_STATES)
        .update(**money)
    ):
        job_changed(generation_id)  # its card shows the cost and the images now


def requeue(
    generation_id: int,
    from_state: str = Generation.State.RUNNING,
    only_if: dict[str, object] | None = None,
    **fields: object,
) -> bool:
    """Put a job back in the queue with a fresh task (its worker is stopping, or died).

    False when the job is no longer in `from_state` (or no longer matches `only_if`), or has
    images already: those arrived and were billed, so it must not be asked for again.
    """
    from playground.generations.tasks import enqueue_in_transaction

    still = Generation.objects.filter(pk=generation_id, state=from_state, **(only_if or {}))
    with transaction.atomic():
        job = still.select_for_update().first()
        if job is None or job.images.exists():
            return False
        # Conditional, so that of two workers recovering the same job only one moves it.
        moved = still.update(
            state=Generation.State.QUEUED, worker="", heartbeat_at=None, started_at=None, **fields
        )
        if moved:
            enqueue_in_transaction(job)
            job_changed(job.pk)
    return bool(moved)


def give_back(generation_id: int, from_state: str = Generation.State.RUNNING) -> None:
    """This worker is stopping: the job goes to another worker, and no crash is counted."""
    if requeue(generation_id, from_state):
        logger.info("generation %s given back to the queue", generation_id)


def priced_usage(model_id: str, usage: dict | None) -> Decimal | None:
    """The job's actual cost: its usage at the catalog's prices now, when the job ends."""
    model = ImageModel.objects.filter(model_id=model_id).first()
    return actual_cost(model, usage) if model is not None else None


def upstream_request(generation: Generation) -> UpstreamRequest:
    request = UpstreamRequest(operation=generation.operation, params=dict(generation.params))
    if generation.operation == Generation.Operation.EDIT:
        request.images, request.mask = upstream_files(generation)
    return request


def run_generation_job(generation_id: int) -> None:
    claimed = _take_claimed_in_batch(generation_id)
    if giving_back.is_set():
        # A fresh task elsewhere; a job claimed in a batch goes back from "running".
        from_state = Generation.State.RUNNING if claimed else Generation.State.QUEUED
        give_back(generation_id, from_state=from_state)
        watcher.unwatch(generation_id)
        return
    if not claimed:
        try:
            if not claim(generation_id):
                return  # cancelled before it started, or already taken
        except DATABASE_ERRORS as error:
            # Still queued, but this task is spent: a fresh one lets a worker take it up again.
            _put_back(generation_id, error, from_state=Generation.State.QUEUED)
            return
    try:
        _run_claimed(generation_id)
    except Exception:
        # Never leave a job "running" behind an error of ours: settle it and log the cause.
        logger.exception("generation %s failed unexpectedly", generation_id)
        fail_unexpectedly(generation_id)
    finally:
        watcher.unwatch(generation_id)


def fail_unexpectedly(generation_id: int) -> bool:
    """Settle a running job that an error of ours cut short; False when that was impossible
    (it was not running, or the database did not answer: recovery then takes it up)."""
    watcher.unwatch(generation_id)  # no longer kept alive by this worker's heartbeat
    try:
        settled: list[bool] = []
        _retry_on_database_errors(
            lambda: settled.append(
                finish(
                    generation_id,
                    Generation.State.FAILED,
                    error_code="internal_error",
                    error_message="Something went wrong on our side while running this job. "
                    "It has been logged; try again.",
                )
            )
        )
        return bool(settled and settled[-1])
    except DATABASE_ERRORS as error:
        logger.error("generation %s could not be marked failed (%s)", generation_id, error)
        return False


def _put_back(generation_id: int, error: Exception, from_state: str) -> None:
    """A database error before the upstream call: nothing was asked or billed, so the job
    goes back to the queue, not counted as a run."""
    logger.warning(
        "generation %s: database error before its upstream call (%s); back to the queue",
        generation_id,
        str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__,
    )
    uncounted = {"runs": F("runs") - 1} if from_state == Generation.State.RUNNING else {}
    try:
        _retry_on_database_errors(lambda: requeue(generation_id, from_state, **uncounted))
    except DATABASE_ERRORS as again:
        # Recovery takes it up: a queued job gets a new task, a running one goes stale.
        logger.error("generation %s could not go back to the queue (%s)", generation_id, again)


def _run_claimed(generation_id: int) -> None:
    try:
        generation = Generation.objects.select_related("provider").get(pk=generation_id)
        provider = generation.provider or Provider.objects.default()
        request = upstream_request(generation) if provider is not None else None
    except DATABASE_ERRORS as error:
        _put_back(generation_id, error, from_state=Generation.State.RUNNING)
        return
    if generation.state != Generation.State.RUNNING or generation.worker != this_worker():
        # Cancelled (or taken over) between its claim in a batch and this thread starting.
        if request is not None:
            request.close()
        return
    if provider is None or request is None:
        finish(
            generation.pk,
            Generation.State.FAILED,
            error_code=Outcome.NO_PROVIDER,
            error_message="No image provider is configured. An admin needs to add one.",
        )
        return

    started = time.monotonic()
    hooks = _hooks(generation.pk)
    release_connection()  # no connection is held while the upstream works
    try:
        result = call_images_api(provider, request, hooks)
    except UpstreamError as error:
        _settle_error(generation, error, time.monotonic() - started)
        return
    finally:
        request.close()
    # Whatever arrived is kept, even if the person cancelled while it was on its way.
    seconds = time.monotonic() - started
    _store_and_settle(
        generation,
        result,
        lambda: settle_with_images(
            generation.pk,
            Generation.State.SUCCEEDED,
            **_result_fields(generation, result, seconds),
        ),
    )


def _settle_error(generation: Generation, error: UpstreamError, seconds: float) -> None:
    arrived: UpstreamResult | None = error.partial
    if arrived is not None:
        # Some images completed before the failure or cancel: keep them and count their cost.
        count = len(arrived.images)
        reason = error.message
        if error.outcome == Outcome.CANCELLED and giving_back.is_set():
            reason = "The worker running this job was stopped before it finished."
        message = f"{reason} The {count} image{'s' if count > 1 else ''} that arrived are kept."
        _store_and_settle(
            generation,
            arrived,
            lambda: settle_with_images(
                generation.pk,
                Generation.State.FAILED,
                error_code=error.outcome,
                error_message=message,
                error_details=error.details or {},
                **_result_fields(generation, arrived, seconds),
            ),
        )
        return
    if error.outcome == Outcome.CANCELLED:
        if giving_back.is_set():
            give_back(generation.pk)
        return  # a person cancelled: the job was settled by the cancel itself
    finish(
        generation.pk,
        Generation.State.FAILED,
        error_code=error.outcome,
        error_message=error.message,
        error_details=error.details or {},
        upstream_seconds=seconds,
    )


def _store_and_settle(
    generation: Generation, result: UpstreamResult, settle: Callable[[], None]
) -> None:
    """Store what arrived and settle the job. While this worker's rendition threads have room,
    the renditions come first (the card shows them as it appears); when results arrive in a
    burst, the job settles first and they follow."""
    stored = _store(generation, result)
    renditions_first = has_room_for(len(stored))
    if renditions_first:
        add_renditions(stored)
    _retry_on_database_errors(settle)
    if not renditions_first:
        add_renditions(stored)


def _store(generation: Generation, result: UpstreamResult) -> list[tuple[Image, bytes]]:
    """Save every image that arrived as it came, without its renditions; they were billed, so
    a busy database is waited out.

    A job its owner deleted meanwhile keeps none of them (its cost is still recorded after)."""
    arrived_at = timezone.now()  # one timestamp, so a job's images sort by their index
    stored: list[tuple[Image, bytes]] = []
    for index, data in enumerate(result.images):
        revised = result.revised_prompts[index] if index < len(result.revised_prompts) else None
        try:
            image = _retry_on_database_errors(
                lambda i=index, d=data, r=revised: store_original(generation, i, d, r, arrived_at)
            )
        except JobDeleted:
            logger.info("generation %s was deleted: its images are not kept", generation.pk)
            break
        stored.append((image, data))
    return stored


def _retry_on_database_errors(save: Callable[[], T]) -> T:
    delay = SAVE_FIRST_DELAY_SECONDS
    for attempt in range(1, SAVE_ATTEMPTS + 1):
        try:
            return save()
        except DATABASE_ERRORS as error:
            if attempt == SAVE_ATTEMPTS:
                raise
            logger.warning("saving a result failed (%s); retrying in %.1f s", error, delay)
            close_old_connections()
            time.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


def _result_fields(generation: Generation, result: UpstreamResult, seconds: float) -> dict:
    fields: dict[str, Any] = {
        "usage": result.usage,
        "actual_usd": priced_usage(generation.model, result.usage),
        "upstream_seconds": seconds,
    }
    if result.size or result.quality:
        fields["response_meta"] = {
            "size": result.size,
            "quality": result.quality,
            "output_format": result.output_format,
            "background": result.background,
        }
    return fields


def _hooks(generation_id: int) -> CallHooks:
    stop = watcher.watch(generation_id)
    return CallHooks(
        on_attempt=lambda attempt: _briefly(count_attempt, generation_id),
        on_partial=lambda image_index, partial_index, data: _briefly(
            _store_preview_quietly, generation_id, image_index, partial_index, data
        ),
        should_cancel=lambda: giving_back.is_set() or stop.is_set(),
    )


def count_attempt(generation_id: int) -> None:
    """Attempts are shown, not relied on: a database error must not cut the call short."""
    try:
        Generation.objects.filter(pk=generation_id).update(attempts=F("attempts") + 1)
    except DATABASE_ERRORS as error:
        logger.warning("generation %s: its attempt could not be counted (%s)", generation_id, error)


def _briefly(work: Callable[..., object], *args: object) -> None:
    """A database write while the upstream call is on its way: its connection goes back at once."""
    try:
        work(*args)
    finally:
        release_connection()


def _store_preview_quietly(generation_id: int, image_index: int, partial: int, data: bytes) -> None:
    """A preview is a courtesy: failing to save one must never cut the stream short."""
    try:
        store_preview(generation_id, image_index, partial, data)
    except Exception:
        logger.exception("generation %s: a preview could not be saved", generation_id)
