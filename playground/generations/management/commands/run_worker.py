"""A database-backed task worker that runs many jobs at once in one process.

django-tasks-db's own `db_worker` runs one task at a time; an upstream image call can take
minutes, so this runs the same claim-and-run steps of its Worker on a pool of threads.
"""

import logging
import os
import random
import signal
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError, close_old_connections, connections
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, DEFAULT_TASK_QUEUE_NAME
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from playground.generations.models import this_worker
from playground.generations.recovery import recover_orphaned_jobs
from playground.generations.runner import (
    HEARTBEAT_SECONDS,
    beat_for_running_jobs,
    fail_unexpectedly,
    giving_back,
)
from playground.generations.wakeup import WakeUps
from playground.providers.client import tls_context

logger = logging.getLogger("playground.worker")

RECOVERY_EVERY_SECONDS = 15.0
# A database that does not answer is tried again after 0.5 s, 1 s, 2 s ... up to this.
DATABASE_RETRY_SECONDS = 0.5
DATABASE_RETRY_MAX_SECONDS = 10.0
# After the grace period, how long running jobs get to go back to the queue before exit.
GIVE_BACK_SECONDS = 10.0


class PoolWorker(Worker):
    def __init__(self, *, concurrency: int, grace_seconds: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.concurrency = concurrency
        self.grace_seconds = grace_seconds
        self.free_slots = threading.Semaphore(concurrency)
        self.pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="job")
        self.next_recovery = 0.0
        self.next_beat = 0.0
        self.database_failures = 0
        self.wakeups = WakeUps()

    def shutdown(self, signum: int, frame: FrameType | None) -> None:
        name = signal.strsignal(signum)
        if not self.running:
            # A second signal: do not wait any longer, hand the running jobs back now.
            logger.warning("Received %s again: giving running jobs back to the queue.", name)
            giving_back.set()
            return
        logger.warning(
            "Received %s: no new jobs; running jobs get up to %.0f s to finish "
            "(a second signal gives them back at once).",
            name,
            self.grace_seconds,
        )
        self.running = False
        self.wakeups.interrupted = True

    def claim_next(self) -> DBTaskResult | None:
        tasks = DBTaskResult.objects.ready().filter(
            backend_name=self.backend_name, queue_name__in=self.queue_names
        )
        try:
            with exclusive_transaction(tasks.db):
                task_result = tasks.get_locked()
                if task_result is not None:
                    task_result.claim(self.worker_id)
                return task_result
        except DatabaseError as error:
            if is_locked_database_exception(error):
                return None  # SQLite busy with another writer: simply try again
            raise

    def run_pooled(self, task_result: DBTaskResult) -> None:
        try:
            self.run_task(task_result)
        finally:
            connections.close_all()
            self.free_slots.release()

    def job_done(self, task_result: DBTaskResult, future: Future) -> None:
        """An error that escaped a job's thread is logged, and its job settled as failed."""
        error = future.exception()
        if error is None:
            return
        generation_id = _generation_id(task_result)
        logger.error(
            "task %s (generation %s) failed in its thread: %s",
            task_result.id,
            generation_id,
            _one_line(error),
            exc_info=error,
        )
        if generation_id is not None:
            try:
                fail_unexpectedly(generation_id)
            finally:
                connections.close_all()

    def recover_if_due(self) -> None:
        if time.monotonic() < self.next_recovery:
            return
        self.next_recovery = time.monotonic() + RECOVERY_EVERY_SECONDS
        try:
            recover_orphaned_jobs()
        except DatabaseError as error:
            logger.warning("recovering orphaned jobs failed (%s); will try again", _one_line(error))
            connections.close_all()
        except Exception:
            # A fault of ours in recovery must not stop the worker running jobs.
            logger.exception("recovering orphaned jobs failed; will try again")

    def beat_if_due(self) -> None:
        """Keep this worker's running jobs fresh, so no other worker takes them for lost."""
        if time.monotonic() < self.next_beat:
            return
        self.next_beat = time.monotonic() + HEARTBEAT_SECONDS / 2
        beat_for_running_jobs()

    def run(self) -> None:
        logger.info("Worker %s running up to %d jobs at once", self.worker_id, self.concurrency)
        while self.running:
            holding_slot = False
            try:
                self.beat_if_due()
                self.recover_if_due()
                if not self.free_slots.acquire(timeout=self.interval):
                    continue
                holding_slot = True
                close_old_connections()
                task_result = self.claim_next()
                self.database_failures = 0
            except DatabaseError as error:
                if holding_slot:
                    self.free_slots.release()
                self.wait_for_database(error)
                continue
            if task_result is None:
                self.free_slots.release()
                self.wakeups.wait(self.interval)
                continue
            future = self.pool.submit(self.run_pooled, task_result)
            future.add_done_callback(lambda done, claimed=task_result: self.job_done(claimed, done))
        self.wakeups.close()
        self.stop_gracefully()

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
        """Let running jobs finish within the grace period, then give the others back."""
        self.pool.shutdown(wait=False)
        idle = self.wait_for_jobs(self.grace_seconds, taken=0, until_give_back=True)
        if idle < self.concurrency:
            logger.warning(
                "%d jobs still running after %.0f s: giving them back to the queue.",
                self.concurrency - idle,
                self.grace_seconds,
            )
            giving_back.set()
            idle = self.wait_for_jobs(GIVE_BACK_SECONDS, taken=idle)
        if idle < self.concurrency:
            # A thread stuck beyond reach: exit anyway; recovery requeues what it held.
            logger.error("%d jobs did not stop; exiting anyway.", self.concurrency - idle)
            logging.shutdown()
            os._exit(1)
        logger.info("Worker %s stopped.", self.worker_id)

    def wait_for_jobs(self, seconds: float, taken: int, until_give_back: bool = False) -> int:
        """Wait until every slot is free or the time is up; returns the free slots held."""
        deadline = time.monotonic() + seconds
        while taken < self.concurrency:
            if until_give_back and giving_back.is_set():
                break  # a second signal cut the grace period short
            if self.free_slots.acquire(timeout=0.1):
                taken += 1
            elif time.monotonic() >= deadline:
                break
        return taken


def pool_worker(
    concurrency: int, grace_seconds: float, queue_names: list[str], interval: float
) -> PoolWorker:
    """A worker of this process's identity claiming from the default task backend."""
    return PoolWorker(
        concurrency=max(1, concurrency),
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
            help="Idle poll seconds (a queued job wakes an idle worker at once anyway).",
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
        tls_context()  # loaded now, not during the first person's job
        worker = pool_worker(concurrency, grace_seconds, queue_name.split(","), interval)
        worker.configure_signals()
        worker.run()


def _generation_id(task_result: DBTaskResult) -> int | None:
    args = (task_result.args_kwargs or {}).get("args") or [None]
    return args[0] if isinstance(args[0], int) else None


def _one_line(error: BaseException) -> str:
    """An error's class and the first line of its message: connection errors can run long."""
    first = (str(error).strip().splitlines() or [""])[0][:200]
    return f"{type(error).__name__}: {first}"
