"""A database-backed task worker that runs many jobs at once in one process.

django-tasks-db's own `db_worker` runs one task at a time; an upstream image call can take
minutes, so this runs the same claim-and-run steps of its Worker on a pool of threads.
Task callbacks run on a small pool of their own (CALLBACK_CONCURRENCY): a receiver that
answers slowly holds one of those threads until its attempt's deadline, never a job slot.
"""

import ctypes
import ctypes.util
import logging
import os
import random
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError, connections
from django.utils import timezone
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, DEFAULT_TASK_QUEUE_NAME, TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from playground.api.idempotency import forget_expired_keys
from playground.api.rate_limits import forget_old_windows
from playground.generations.models import this_worker
from playground.generations.recovery import recover_orphaned_jobs
from playground.generations.renditions import add_missing_renditions
from playground.generations.runner import (
    batch_committed,
    claim_batch,
    fail_unexpectedly,
    giving_back,
    requeue,
)
from playground.generations.tasks import run_generation
from playground.generations.wakeup import WakeUps
from playground.generations.watcher import release_connection, uses_connection_pool
from playground.providers.client import tls_context
from playground.webhooks.delivery import attempt_cut_short, sweep_callbacks
from playground.webhooks.tasks import deliver_callback

logger = logging.getLogger("playground.worker")

CALLBACK_TASK_PATH = deliver_callback.module_path
STOPPED_MID_ATTEMPT = "The attempt was cut short (its worker stopped)."

RECOVERY_EVERY_SECONDS = 15.0
RENDITIONS_LATE_AFTER = timedelta(minutes=2)
RENDITIONS_PER_RECOVERY = 50
# A database that does not answer is tried again after 0.5 s, 1 s, 2 s ... up to this.
DATABASE_RETRY_SECONDS = 0.5
DATABASE_RETRY_MAX_SECONDS = 10.0
# After the grace period, how long running jobs get to go back to the queue by themselves;
# those still running then are given back by the stopping worker, which exits at once.
GIVE_BACK_SECONDS = 1.0
# An idle worker polls less and less often, up to this (a queued job wakes it at once anyway).
IDLE_POLL_MAX_SECONDS = 5.0
# A full worker looks for a free slot (and whether it is stopping) at least this often.
FULL_WAIT_SECONDS = 1.0


class PoolWorker(Worker):
    def __init__(
        self,
        *,
        concurrency: int,
        grace_seconds: float,
        callback_concurrency: int = 1,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.concurrency = concurrency
        self.callback_concurrency = callback_concurrency
        self.grace_seconds = grace_seconds
        self.busy = 0  # jobs running now
        self.callbacks_busy = 0  # callback attempts being made now
        # Tasks running now (jobs and callback attempts), by id: what a stop gives back.
        self.running_tasks: dict[str, DBTaskResult] = {}
        self.slots_changed = threading.Condition()
        self.pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="job")
        self.callback_pool = ThreadPoolExecutor(
            max_workers=callback_concurrency, thread_name_prefix="callback"
        )
        self.stop_requested_at: float | None = None
        self.next_recovery = 0.0
        self.database_failures = 0
        self.poll_seconds = self.interval
        self.wakeups = WakeUps()

    def shutdown(self, signum: int, frame: FrameType | None) -> None:
        name = signal.strsignal(signum)
        if not self.running:
            # A second signal: do not wait any longer, hand the running jobs back now.
            logger.warning("Received %s again: giving running jobs back to the queue now.", name)
            giving_back.set()
            return
        self.stop_requested_at = time.monotonic()
        logger.warning(
            "Received %s: no new jobs; running jobs get up to %g s to finish "
            "(a second signal gives them back at once).",
            name,
            self.grace_seconds,
        )
        self.running = False
        self.wakeups.interrupted = True

    def claim_ready(self, limit: int, callback_limit: int | None = None) -> list[DBTaskResult]:
        """Claim up to `limit` ready jobs and `callback_limit` ready callback attempts (by
        default as many as there are free callback threads) in one transaction, oldest (and
        most urgent) first.

        A plain read comes first: on SQLite the claiming transaction takes the write lock as
        it begins, which an idle worker polling must not do. On PostgreSQL, rows another
        worker is claiming at the same moment are skipped, not waited for.
        """
        if callback_limit is None:
            callback_limit = self.callback_concurrency - self.callbacks_busy
        tasks = DBTaskResult.objects.ready().filter(
            backend_name=self.backend_name, queue_name__in=self.queue_names
        )
        wanted = [
            (kind, count)
            for kind, count in (
                (tasks.exclude(task_path=CALLBACK_TASK_PATH), limit),
                (tasks.filter(task_path=CALLBACK_TASK_PATH), callback_limit),
            )
            if count > 0
        ]
        if not wanted or not (tasks if len(wanted) == 2 else wanted[0][0]).exists():
            return []
        try:
            with exclusive_transaction(tasks.db):
                claimed = [
                    task_result
                    for kind, count in wanted
                    for task_result in kind.select_for_update(skip_locked=True)[:count]
                ]
                self.mark_claimed(claimed)
                # Their jobs marked running in the same transaction, not one write per thread.
                started = claim_batch([i for i in map(_generation_id, claimed) if i is not None])
            batch_committed(started)
            return claimed
        except DatabaseError as error:
            if is_locked_database_exception(error):
                return []  # SQLite busy with another writer: simply try again
            raise

    def mark_claimed(self, claimed: list[DBTaskResult]) -> None:
        """What DBTaskResult.claim does to each task, in one UPDATE per earlier-workers list
        (nearly always one: a task claimed before is one whose worker died)."""
        now = timezone.now()
        by_earlier_workers: dict[tuple[str, ...], list[DBTaskResult]] = {}
        for task_result in claimed:
            by_earlier_workers.setdefault(tuple(task_result.worker_ids), []).append(task_result)
        for earlier, group in by_earlier_workers.items():
            worker_ids = [*earlier, self.worker_id]
            DBTaskResult.objects.filter(pk__in=[task.pk for task in group]).update(
                status=TaskResultStatus.RUNNING, started_at=now, worker_ids=worker_ids
            )
            for task_result in group:
                task_result.status = TaskResultStatus.RUNNING
                task_result.started_at = now
                task_result.worker_ids = worker_ids

    def start(self, task_result: DBTaskResult) -> None:
        callback = _is_callback(task_result)
        with self.slots_changed:
            if callback:
                self.callbacks_busy += 1
            else:
                self.busy += 1
            self.running_tasks[str(task_result.id)] = task_result
        (self.callback_pool if callback else self.pool).submit(self.run_pooled, task_result)

    def run_pooled(self, task_result: DBTaskResult) -> None:
        try:
            self.run_task(task_result)
        except Exception as error:
            self.job_failed(task_result, error)
        finally:
            connections.close_all()  # back to the pool, or closed
            with self.slots_changed:
                if _is_callback(task_result):
                    self.callbacks_busy -= 1
                else:
                    self.busy -= 1
                self.running_tasks.pop(str(task_result.id), None)
                self.slots_changed.notify_all()

    def job_failed(self, task_result: DBTaskResult, error: Exception) -> None:
        """An error that escaped a job's task is logged, and its job settled as failed."""
        generation_id = _generation_id(task_result)
        logger.error(
            "task %s (generation %s) failed in its thread: %s",
            task_result.id,
            generation_id,
            _one_line(error),
            exc_info=error,
        )
        if generation_id is not None:
            fail_unexpectedly(generation_id)
        elif (attempt := _callback_attempt(task_result)) is not None:
            attempt_cut_short(*attempt)  # recorded as a failed attempt, tried again

    def recover_if_due(self) -> None:
        if time.monotonic() < self.next_recovery:
            return
        self.next_recovery = time.monotonic() + RECOVERY_EVERY_SECONDS
        for what, recover in (
            ("orphaned jobs", recover_orphaned_jobs),
            ("missing renditions", make_missing_renditions),
            ("expired idempotency keys", forget_expired_keys),
            ("ended rate limit windows", forget_old_windows),
            ("task callbacks", sweep_callbacks),
        ):
            try:
                recover()
            except DatabaseError as error:
                logger.warning("recovering %s failed (%s); will try again", what, _one_line(error))
                connections.close_all()
            except Exception:
                # A fault of ours in recovery must not stop the worker running jobs.
                logger.exception("recovering %s failed; will try again", what)

    def free_slots(self) -> tuple[int, int]:
        """How many more jobs and callback attempts this worker can start, waiting a while
        for a job slot when those are full."""
        with self.slots_changed:
            if self.busy >= self.concurrency:
                self.slots_changed.wait(FULL_WAIT_SECONDS)
            return (
                self.concurrency - self.busy,
                self.callback_concurrency - self.callbacks_busy,
            )

    def run(self) -> None:
        logger.info(
            "Worker %s running up to %d jobs and %d callbacks at once",
            self.worker_id,
            self.concurrency,
            self.callback_concurrency,
        )
        while self.running:
            claimed: list[DBTaskResult] = []
            free = free_callbacks = 0
            try:
                self.recover_if_due()
                self.wakeups.keep_listening()  # a lost LISTEN connection, busy or idle
                free, free_callbacks = self.free_slots()
                if free > 0 or free_callbacks > 0:
                    claimed = self.claim_ready(free)  # and callbacks for free threads
                self.database_failures = 0
            except DatabaseError as error:
                self.wait_for_database(error)
                continue
            finally:
                if uses_connection_pool():
                    release_connection()  # the pool is small: jobs use it between polls
            for task_result in claimed:
                self.start(task_result)
            callbacks = sum(map(_is_callback, claimed))
            if free == 0 or len(claimed) - callbacks == free:
                continue  # full, or more jobs may be ready: no waiting
            if free_callbacks and callbacks == free_callbacks:
                continue  # more callbacks may be ready
            self.wait_idle(claimed_some=bool(claimed), callbacks_full=free_callbacks == 0)
        self.wakeups.close()
        self.stop_gracefully()

    def wait_idle(self, claimed_some: bool, callbacks_full: bool = False) -> None:
        """Wait for a wake-up or the next poll; each poll that finds nothing waits twice as
        long as the last, up to IDLE_POLL_MAX_SECONDS. Work found starts over from --interval.
        With every callback thread busy, a freed one is looked for within FULL_WAIT_SECONDS."""
        if claimed_some:
            self.poll_seconds = self.interval
        seconds = min(self.poll_seconds, FULL_WAIT_SECONDS) if callbacks_full else self.poll_seconds
        started = time.monotonic()
        self.wakeups.wait(seconds)
        woken = time.monotonic() - started < seconds
        if woken:
            self.poll_seconds = self.interval
        elif not callbacks_full:
            longer = min(IDLE_POLL_MAX_SECONDS, self.poll_seconds * 2)
            self.poll_seconds = max(self.interval, longer)

    def wait_for_database(self, error: DatabaseError) -> None:
        """Too many clients, refused, restarting: drop the broken connection and try again
        later, backing off (with jitter, so restarted workers do not all come back at once)."""
        self.database_failures += 1
        ceiling = DATABASE_RETRY_SECONDS * 2 ** min(self.database_failures - 1, 16)
        delay = min(DATABASE_RETRY_MAX_SECONDS, ceiling) * random.uniform(0.5, 1.0)
        logger.warning("database error (%s); trying again in %.1f s", _one_line(error), delay)
        connections.close_all()
        deadline = time.monotonic() + delay
        while self.running and time.monotonic() < deadline:
            time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))

    def stop_gracefully(self) -> None:
        """Let running jobs and callback attempts finish within the grace period (counted
        from the signal), then give the others back; exit within GIVE_BACK_SECONDS after."""
        self.pool.shutdown(wait=False)
        self.callback_pool.shutdown(wait=False)
        stopping_since = self.stop_requested_at or time.monotonic()
        running = self.wait_for_tasks(stopping_since + self.grace_seconds, until_give_back=True)
        if running:
            waited = time.monotonic() - stopping_since
            if giving_back.is_set():
                logger.warning(
                    "A second signal after %.1f s: giving %d running jobs and callbacks back "
                    "to the queue.",
                    waited,
                    running,
                )
            else:
                logger.warning(
                    "%d jobs and callbacks still running after %.1f s (grace period %g s): "
                    "giving them back to the queue.",
                    running,
                    waited,
                    self.grace_seconds,
                )
            giving_back.set()  # jobs stop waiting on the upstream and requeue themselves
            running = self.wait_for_tasks(time.monotonic() + GIVE_BACK_SECONDS)
        if running:
            # Still on their way (a callback receiver answering, a call slow to stop): given
            # back from here, and the process exits without waiting for their threads.
            given = self.give_back_running()
            logger.warning(
                "Worker %s stopped after %.1f s; %d jobs and callbacks did not stop by "
                "themselves and were given back (%d could not be).",
                self.worker_id,
                time.monotonic() - stopping_since,
                running,
                running - given,
            )
            logging.shutdown()
            os._exit(0 if given == running else 1)
        logger.info(
            "Worker %s stopped after %.1f s.", self.worker_id, time.monotonic() - stopping_since
        )

    def wait_for_tasks(self, deadline: float, until_give_back: bool = False) -> int:
        """Wait until no job or callback runs or the deadline (time.monotonic()) passed;
        returns how many still run."""
        with self.slots_changed:
            while self.busy + self.callbacks_busy:
                if until_give_back and giving_back.is_set():
                    break  # a second signal cut the grace period short
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.slots_changed.wait(min(0.1, left))
            return self.busy + self.callbacks_busy

    def give_back_running(self) -> int:
        """Put the jobs still running back in the queue and record the callback attempts
        still on their way as cut short (tried again as usual); returns how many were."""
        with self.slots_changed:
            running = list(self.running_tasks.values())
        given = 0
        for task_result in running:
            try:
                if (generation_id := _generation_id(task_result)) is not None:
                    # Not if it settled meanwhile, or has images (those were billed already).
                    requeue(generation_id, only_if={"worker": self.worker_id})
                elif (attempt := _callback_attempt(task_result)) is not None:
                    attempt_cut_short(*attempt, error=STOPPED_MID_ATTEMPT)
                DBTaskResult.objects.filter(
                    pk=task_result.pk, status=TaskResultStatus.RUNNING
                ).update(
                    status=TaskResultStatus.FAILED,
                    finished_at=timezone.now(),
                    exception_class_path="builtins.RuntimeError",
                    traceback="Its worker stopped; given back to the queue.",
                )
                given += 1
            except Exception as error:  # recovery takes it up: its heartbeat goes stale
                logger.error("giving back task %s failed: %s", task_result.id, _one_line(error))
        return given


def pool_worker(
    concurrency: int,
    grace_seconds: float,
    queue_names: list[str],
    interval: float,
    callback_concurrency: int | None = None,
) -> PoolWorker:
    """A worker of this process's identity claiming from the default task backend."""
    if callback_concurrency is None:
        callback_concurrency = settings.CALLBACK_CONCURRENCY
    return PoolWorker(
        concurrency=max(1, concurrency),
        callback_concurrency=max(1, callback_concurrency),
        grace_seconds=max(0.0, grace_seconds),
        queue_names=queue_names,
        interval=interval,
        batch=False,
        backend_name=DEFAULT_TASK_BACKEND_ALIAS,
        startup_delay=False,
        max_tasks=None,
        worker_id=this_worker(),
        excluded_queue_names=[],
    )


class Command(BaseCommand):
    help = "Run background jobs, many at once (each waits on an upstream call)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--concurrency", type=int, default=settings.WORKER_CONCURRENCY)
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help="First idle poll seconds, doubling while idle up to "
            f"{IDLE_POLL_MAX_SECONDS:.0f} (a queued job wakes an idle worker at once anyway).",
        )
        parser.add_argument("--queue-name", default=DEFAULT_TASK_QUEUE_NAME)
        parser.add_argument(
            "--grace-seconds",
            type=float,
            default=settings.WORKER_GRACE_SECONDS,
            help="On SIGTERM/SIGINT, how long running jobs may finish before going back "
            "to the queue.",
        )

    def handle(
        self,
        *args: Any,
        concurrency: int,
        interval: float,
        queue_name: str,
        grace_seconds: float,
        **options: Any,
    ) -> None:
        logging.getLogger("django_tasks").setLevel(logging.WARNING)
        limit_malloc_arenas(settings.WORKER_MALLOC_ARENAS)
        tls_context()  # loaded now, not during the first person's job
        worker = pool_worker(concurrency, grace_seconds, queue_name.split(","), interval)
        worker.configure_signals()
        worker.run()


# glibc's mallopt option for the most malloc arenas a process may create.
M_ARENA_MAX = -8


def make_missing_renditions() -> int:
    """Renditions a stopped worker never made: a few per round, for images stored a while ago
    (a running worker makes its own within seconds)."""
    stored_before = timezone.now() - RENDITIONS_LATE_AFTER
    return add_missing_renditions(stored_before, limit=RENDITIONS_PER_RECOVERY)


def limit_malloc_arenas(arenas: int) -> None:
    """Cap glibc's malloc arenas before the job threads start (0 leaves glibc's default).

    By default glibc gives busy threads arenas of their own, up to 8 per core, and an arena
    keeps the memory it freed: with hundreds of job threads decoding images the worker's
    memory then ratchets up job after job. Two arenas keep it flat at little cost, as the
    threads mostly wait on the network. Other C libraries are left as they are."""
    if arenas <= 0:
        return
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        mallopt = getattr(libc, "mallopt", None)
    except OSError:
        mallopt = None
    if mallopt is None or not mallopt(M_ARENA_MAX, arenas):
        logger.info("malloc arenas not limited (not glibc)")


def _generation_id(task_result: DBTaskResult) -> int | None:
    """The job a run_generation task runs; None for any other task (a callback delivery)."""
    if task_result.task_path != run_generation.module_path:
        return None
    args = (task_result.args_kwargs or {}).get("args") or [None]
    return args[0] if isinstance(args[0], int) else None


def _is_callback(task_result: DBTaskResult) -> bool:
    return task_result.task_path == CALLBACK_TASK_PATH


def _callback_attempt(task_result: DBTaskResult) -> tuple[int, int] | None:
    """The (delivery id, attempt number) a deliver_callback task makes; None otherwise."""
    if not _is_callback(task_result):
        return None
    args = (task_result.args_kwargs or {}).get("args") or []
    if len(args) == 2 and all(isinstance(arg, int) for arg in args):
        return args[0], args[1]
    return None


def _one_line(error: BaseException) -> str:
    """An error's class and the first line of its message: connection errors can run long."""
    first = (str(error).strip().splitlines() or [""])[0][:200]
    return f"{type(error).__name__}: {first}"
