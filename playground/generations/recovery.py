"""Jobs that lost their worker or their task: queued again, or settled with a clear reason."""

import logging
import uuid
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from playground.generations.models import (
    Generation,
    pid_namespace,
    process_start_time,
    this_worker,
)
from playground.generations.push import job_changed
from playground.generations.runner import HEARTBEAT_SECONDS, requeue

logger = logging.getLogger(__name__)

STALE_AFTER = timedelta(seconds=HEARTBEAT_SECONDS * 4)
# A job whose worker died this many times is failed rather than queued again: it may be
# the job itself that kills workers. A planned stop (SIGTERM) gives jobs back without a crash.
MAX_CRASHES = 2
# A queued job's task row commits with it; this margin only covers clock and read skew.
LOST_TASK_AFTER = timedelta(seconds=10)
LOST_TASK_BATCH = 500


def worker_is_gone(generation: Generation, now: datetime) -> bool:
    """A job's worker is gone when its heartbeat is stale, or when it ran in this machine's
    pid namespace in a process that has ended.

    Workers are told apart by the random id in `worker`, never by host and pid alone: two
    containers can share both, and requeueing a live job would call (and bill) it twice.
    """
    if generation.heartbeat_at is None or generation.heartbeat_at < now - STALE_AFTER:
        return True
    return _process_has_ended(generation.worker)


def _process_has_ended(worker: str) -> bool:
    parts = worker.split()
    if len(parts) != 3 or worker == this_worker():
        return False  # written before workers had ids, or this process: the heartbeat decides
    pid = parts[1].rpartition(":")[2]
    namespace, _, started = parts[2].partition(":")
    if not (namespace and pid.isdigit()) or namespace != pid_namespace():
        return False  # another machine or container: only its heartbeat can tell
    return process_start_time(int(pid)) != started  # ended, or its pid now names another


def recover_orphaned_jobs() -> int:
    """Requeue or settle running jobs whose worker is gone, and queued jobs whose task is
    lost; returns how many were handled."""
    now = timezone.now()
    handled = 0
    for generation in Generation.objects.filter(state=Generation.State.RUNNING):
        if worker_is_gone(generation, now) and _recover_crashed(generation):
            handled += 1
    handled += requeue_lost_tasks(now)
    sweep_expired_uploads()
    return handled


def sweep_expired_uploads() -> None:
    """Delete the File Upload API's files whose 3 days are over, each recovery round; a
    failure is logged and tried again next round, and never stops the recovery of jobs."""
    from playground.file_uploads.sweep import delete_expired_uploads

    try:
        delete_expired_uploads()
    except Exception:
        logger.exception("deleting expired uploads failed; will try again")


def _recover_crashed(seen: Generation) -> bool:
    """Requeue or settle a job whose worker is gone; False when another worker recovered it
    first, or it turned out alive (its row is locked and checked again before any change)."""
    with transaction.atomic():
        generation = (
            Generation.objects.select_for_update()
            .filter(pk=seen.pk, state=Generation.State.RUNNING, runs=seen.runs, worker=seen.worker)
            .first()
        )
        now = timezone.now()
        if generation is None or not worker_is_gone(generation, now):
            return False
        crashes = generation.crashes + 1
        same_run = {"runs": generation.runs, "worker": generation.worker}
        running = Generation.objects.filter(
            pk=generation.pk, state=Generation.State.RUNNING, **same_run
        )
        if generation.images.exists():
            # Its images arrived before the worker died: they are in the gallery, so the job
            # succeeded; without usage its estimate counts as its cost.
            running.update(state=Generation.State.SUCCEEDED, finished_at=now, crashes=crashes)
            logger.warning("generation %s: worker stopped after its images arrived", generation.pk)
        elif crashes < MAX_CRASHES:
            if not requeue(generation.pk, only_if=same_run, crashes=crashes):
                return False
            logger.warning("generation %s: worker stopped, queued again", generation.pk)
        else:
            running.update(
                state=Generation.State.FAILED,
                finished_at=now,
                crashes=crashes,
                error_code="worker_lost",
                error_message=(
                    f"The worker running this job stopped unexpectedly ({crashes} times). "
                    "The job was not completed; submit it again."
                ),
            )
            logger.warning("generation %s: worker stopped, marked failed", generation.pk)
        _fail_task_result(generation.task_id)
        job_changed(generation.pk)
    return True


def _fail_task_result(task_id: str) -> None:
    """Settle the dead worker's task row too, so the task table does not keep it running."""
    if not _uses_database_tasks() or not _is_uuid(task_id):
        return
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.filter(
        pk=task_id, status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING]
    ).update(
        status=TaskResultStatus.FAILED,
        finished_at=timezone.now(),
        exception_class_path="builtins.RuntimeError",
        traceback="The worker process running this task stopped.",
    )


def requeue_lost_tasks(now: datetime) -> int:
    """Give a new task to queued jobs whose task is missing, over, or stale.

    A task is stale when a worker took it but its job is still queued well after: a worker
    starts the job the moment it takes the task, so that worker died (or lost its database)
    in between. Requeueing is safe even then: a job runs only once it is claimed from
    "queued", so of its tasks only one ever calls the upstream.
    """
    if not _uses_database_tasks():
        return 0
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from playground.generations.tasks import enqueue_in_transaction

    queued = list(
        Generation.objects.filter(
            state=Generation.State.QUEUED, created_at__lt=now - LOST_TASK_AFTER
        ).values_list("pk", "task_id")[:LOST_TASK_BATCH]
    )
    task_ids = [task_id for _, task_id in queued if _is_uuid(task_id)]
    waiting = Q(status=TaskResultStatus.READY)
    starting = Q(status=TaskResultStatus.RUNNING, started_at__gte=now - STALE_AFTER)
    live = {
        str(pk)
        for pk in DBTaskResult.objects.filter(waiting | starting, pk__in=task_ids).values_list(
            "pk", flat=True
        )
    }
    requeued = 0
    for pk, task_id in queued:
        if task_id in live:
            continue
        with transaction.atomic():
            job = (
                Generation.objects.select_for_update()
                .filter(pk=pk, state=Generation.State.QUEUED, task_id=task_id)
                .first()
            )
            if job is None:
                continue  # started, cancelled or given a task meanwhile
            _fail_task_result(task_id)  # a stale task must not start the job later
            enqueue_in_transaction(job)
        logger.warning("generation %s had no task to run it: queued again", pk)
        requeued += 1
    return requeued


def _uses_database_tasks() -> bool:
    from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
    from django_tasks_db.backend import DatabaseBackend

    return isinstance(task_backends[DEFAULT_TASK_BACKEND_ALIAS], DatabaseBackend)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
