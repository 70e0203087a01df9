"""Jobs whose worker died: put back in the queue once, then failed with a clear reason."""

import logging
import os
import socket
from datetime import timedelta

from django.utils import timezone

from playground.generations.models import Generation
from playground.generations.runner import HEARTBEAT_SECONDS

logger = logging.getLogger(__name__)

STALE_AFTER = timedelta(seconds=HEARTBEAT_SECONDS * 4)
MAX_RUNS = 2


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
    """Requeue or fail running jobs whose worker is gone; returns how many were handled."""
    from playground.generations.tasks import enqueue_on_commit

    now = timezone.now()
    handled = 0
    for generation in Generation.objects.filter(state=Generation.State.RUNNING):
        if not worker_is_gone(generation, now):
            continue
        running = Generation.objects.filter(pk=generation.pk, state=Generation.State.RUNNING)
        if generation.runs < MAX_RUNS and not generation.images.exists():
            if running.update(state=Generation.State.QUEUED, worker="", heartbeat_at=None):
                logger.warning("generation %s: worker stopped, queued again", generation.pk)
                enqueue_on_commit(generation)
        else:
            running.update(
                state=Generation.State.FAILED,
                finished_at=now,
                error_code="worker_lost",
                error_message=(
                    f"The worker running this job stopped unexpectedly ({generation.runs} "
                    "times). The job was not completed; submit it again."
                ),
            )
            logger.warning("generation %s: worker stopped, marked failed", generation.pk)
        _fail_task_result(generation.task_id)
        handled += 1
    return handled


def _fail_task_result(task_id: str) -> None:
    """Settle the dead worker's task row too, so the task table does not keep it running."""
    if not task_id:
        return
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.filter(pk=task_id, status=TaskResultStatus.RUNNING).update(
        status=TaskResultStatus.FAILED,
        finished_at=timezone.now(),
        exception_class_path="builtins.RuntimeError",
        traceback="The worker process running this task stopped.",
    )
