"""A database-backed task worker that runs many jobs at once in one process.

django-tasks-db's own `db_worker` runs one task at a time; an upstream image call can take
minutes, so this runs the same claim-and-run steps of its Worker on a pool of threads.
"""

import logging
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import InterfaceError, OperationalError, close_old_connections, connections
from django.utils.crypto import get_random_string
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, DEFAULT_TASK_QUEUE_NAME
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from playground.generations.recovery import recover_orphaned_jobs
from playground.generations.runner import giving_back
from playground.generations.wakeup import WakeUps
from playground.providers.client import tls_context

logger = logging.getLogger("playground.worker")

RECOVERY_EVERY_SECONDS = 15.0
DATABASE_RETRY_SECONDS = 1.0
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
        except (OperationalError, InterfaceError) as error:
            # Locked, at its connection limit, restarting: try again later, never die of it.
            if not is_locked_database_exception(error):
                logger.warning("claiming a task failed (%s); retrying", error)
                connections.close_all()
                time.sleep(DATABASE_RETRY_SECONDS)
            return None

    def run_pooled(self, task_result: DBTaskResult) -> None:
        try:
            self.run_task(task_result)
        finally:
            connections.close_all()
            self.free_slots.release()

    def recover_if_due(self) -> None:
        if time.monotonic() < self.next_recovery:
            return
        self.next_recovery = time.monotonic() + RECOVERY_EVERY_SECONDS
        try:
            recover_orphaned_jobs()
        except (OperationalError, InterfaceError):
            logger.exception("recovering orphaned jobs failed; will try again")

    def run(self) -> None:
        logger.info("Worker %s running up to %d jobs at once", self.worker_id, self.concurrency)
        while self.running:
            self.recover_if_due()
            if not self.free_slots.acquire(timeout=self.interval):
                continue
            close_old_connections()
            task_result = self.claim_next()
            if task_result is None:
                self.free_slots.release()
                self.wakeups.wait(self.interval)
                continue
            self.pool.submit(self.run_pooled, task_result)
        self.wakeups.close()
        self.stop_gracefully()

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
        worker = PoolWorker(
            concurrency=max(1, concurrency),
            grace_seconds=max(0.0, grace_seconds),
            queue_names=queue_name.split(","),
            interval=interval,
            batch=False,
            backend_name=DEFAULT_TASK_BACKEND_ALIAS,
            startup_delay=False,
            max_tasks=None,
            worker_id=get_random_string(32),
            excluded_queue_names=[],
        )
        worker.configure_signals()
        worker.run()
