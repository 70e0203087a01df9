"""One thread per process watching every job it runs: cancels and heartbeats in batches.

While a job waits on its upstream call it holds no database connection. Instead, about once a
second this thread asks in one query which of the process's running jobs were cancelled (or
taken over), and every few seconds it refreshes all their heartbeats in one UPDATE. A job's
`should_cancel` then only reads an in-memory flag.
"""

import logging
import threading
import time

from django.db import DatabaseError, connection
from django.db.models import Q
from django.utils import timezone

from playground.generations.models import Generation, this_worker

logger = logging.getLogger(__name__)

CHECK_EVERY_SECONDS = 1.0
HEARTBEAT_SECONDS = 10.0  # recovery takes a job for lost after four missed heartbeats
BEAT_EVERY_SECONDS = HEARTBEAT_SECONDS / 2


def uses_connection_pool() -> bool:
    """True in a process whose connections come from a pool (the worker on PostgreSQL)."""
    return getattr(connection, "pool", None) is not None


def release_connection() -> None:
    """Give this thread's database connection back: to the pool, or closed without one.

    An SQLite connection is only an open file, kept for the thread's next write; inside a
    transaction (a test wrapping the job in one) the connection is left as it is.
    """
    if connection.vendor != "sqlite" and not connection.in_atomic_block:
        connection.close()


def cancelled_among(generation_ids: list[int]) -> set[int]:
    """Those of the given running jobs that were cancelled, settled or taken over meanwhile."""
    still_ours = Q(state=Generation.State.RUNNING, worker=this_worker())
    return set(
        Generation.objects.filter(pk__in=generation_ids)
        .exclude(still_ours)
        .values_list("pk", flat=True)
    )


def beat(generation_ids: list[int]) -> int:
    """Refresh the heartbeat of the given jobs this process runs; returns how many."""
    if not generation_ids:
        return 0
    return Generation.objects.filter(
        pk__in=generation_ids, state=Generation.State.RUNNING, worker=this_worker()
    ).update(heartbeat_at=timezone.now())


class JobWatcher:
    """The jobs this process runs, each with a flag its thread reads instead of the database.

    Only watched jobs are kept alive by the heartbeat, so a job whose thread died goes stale
    and is recovered even while its worker runs on.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[int, threading.Event] = {}
        self._thread: threading.Thread | None = None
        self._next_beat = 0.0
        self._failing = False

    def watch(self, generation_id: int) -> threading.Event:
        """Start watching a job just claimed; the event is set once it should stop."""
        with self._lock:
            flag = self._jobs.setdefault(generation_id, threading.Event())
            if self._thread is None or not self._thread.is_alive():
                self._next_beat = time.monotonic() + BEAT_EVERY_SECONDS  # claiming beat once
                self._thread = threading.Thread(target=self._run, name="job-watcher", daemon=True)
                self._thread.start()
        return flag

    def unwatch(self, generation_id: int) -> None:
        with self._lock:
            self._jobs.pop(generation_id, None)

    def running(self) -> list[int]:
        with self._lock:
            return list(self._jobs)

    def _run(self) -> None:
        while True:
            time.sleep(CHECK_EVERY_SECONDS)
            try:
                self.check()
            except Exception:
                # A fault of ours must not stop the cancels and heartbeats of every job.
                logger.exception("watching the running jobs failed; will try again")

    def check(self) -> None:
        """One round: flag cancelled jobs, and refresh the heartbeats when due."""
        running = self.running()
        if not running:
            release_connection()  # an idle process holds no connection for this
            return
        try:
            for generation_id in cancelled_among(running):
                with self._lock:
                    flag = self._jobs.get(generation_id)
                if flag is not None:
                    flag.set()
            if time.monotonic() >= self._next_beat:
                beat(running)
                self._next_beat = time.monotonic() + BEAT_EVERY_SECONDS
            if self._failing:
                logger.warning("watching the running jobs works again")
                self._failing = False
        except DatabaseError as error:
            # Busy or restarting: jobs keep waiting on their upstream, checked next round.
            if not self._failing:
                logger.warning("checking the running jobs failed (%s); will try again", error)
            self._failing = True
            connection.close()
            return
        if uses_connection_pool():
            release_connection()  # the pool is small: job threads need it between rounds


watcher = JobWatcher()
