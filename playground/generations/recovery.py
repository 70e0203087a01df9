"""Jobs that lost their worker or their task: queued again, or settled with a clear reason."""

import logging
import os
import socket
import uuid
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from playground.generations.models import Generation
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


def _process_is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def worker_is_gone(generation: Generation, now: timezone.datetime) -> bool:
    """A job's worker is gone when its heartbeat is stale, or it ran here in a dead process."""
    if generation.heartbeat_at is None or generation.heartbeat_at < now - STALE_AFTER:
        return True
    host, _, pid = generation.worker.rpartition(":")
    if host == socket.gethostname() and pid.isdigit() and int(pid) != os.getpid():
        return not _process_is_alive(int(pid))
    return False


def recover_orphaned_jobs() -> int:
    """Requeue or settle running jobs whose worker is gone, and queued jobs whose task is
    lost; returns how many were handled."""
    now = timezone.now()
    handled = 0
    for generation in Generation.objects.filter(state=Generation.State.RUNNING):
        if worker_is_gone(generation, now):
            _recover_crashed(generation, now)
            _fail_task_result(generation.task_id)
            handled += 1
    return handled + requeue_lost_tasks(now)


def _recover_crashed(generation: Generation, now: timezone.datetime) -> None:
    crashes = generation.crashes + 1
    running = Generation.objects.filter(pk=generation.pk, state=Generation.State.RUNNING)
    with transaction.atomic():
        if generation.images.exists():
            # Its images arrived before the worker died: they are in the gallery, so the job
            # succeeded; without usage its estimate counts as its cost.
            running.update(state=Generation.State.SUCCEEDED, finished_at=now, crashes=crashes)
            logger.warning("generation %s: worker stopped after its images arrived", generation.pk)
        elif crashes < MAX_CRASHES:
            if requeue(generation.pk, crashes=crashes):
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
        job_changed(generation.pk)


def _fail_task_result(task_id: str) -> None:
    """Settle the dead worker's task row too, so the task table does not keep it running."""
    if not _uses_database_tasks() or not _is_uuid(task_id):
        return
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.filter(pk=task_id, status=TaskResultStatus.RUNNING).update(
        status=TaskResultStatus.FAILED,
        finished_at=timezone.now(),
        exception_class_path="builtins.RuntimeError",
        traceback="The worker process running this task stopped.",
    )


def requeue_lost_tasks(now: timezone.datetime) -> int:
    """Give a new task to queued jobs whose task is missing or already over."""
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
    live = {
        str(pk)
        for pk in DBTaskResult.objects.filter(
            pk__in=task_ids, status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING]
        ).values_list("pk", flat=True)
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
