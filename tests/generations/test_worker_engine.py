"""What the worker costs the database: few statements while idle, one watcher query a second
for all its running jobs together, claims in batches, and a small bounded set of connections
on PostgreSQL whatever its concurrency."""

import logging
import threading
import time
from collections import Counter

import pytest
from django.db import OperationalError, connection, transaction
from django.db.backends import utils as db_utils

from playground.generations import watcher as watcher_module
from playground.generations.models import Generation
from playground.generations.tasks import enqueue_in_transaction
from playground.generations.watcher import watcher
from tests.jobs import make_job
from tests.postgres import skip_unless_postgresql
from tests.workers import WorkerThread, start_worker, stop_worker, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def nothing_watched_from_earlier_tests() -> None:
    """The watcher is this process's: jobs earlier tests left to it are not these tests'."""
    for generation_id in watcher.running():
        watcher.unwatch(generation_id)


class Statements:
    """Every SQL statement run in this process, by the name of the thread that ran it."""

    def __init__(self) -> None:
        self.by_thread: Counter[str] = Counter()
        self.lock = threading.Lock()

    def record(self) -> None:
        with self.lock:
            self.by_thread[_thread_kind(threading.current_thread().name)] += 1

    def during(self, seconds: float) -> Counter[str]:
        with self.lock:
            before = Counter(self.by_thread)
        time.sleep(seconds)
        with self.lock:
            return self.by_thread - before


def _thread_kind(name: str) -> str:
    return "job" if name.startswith(("job_", "upstream-call")) else name


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> Statements:
    counted = Statements()
    real_execute = db_utils.CursorWrapper._execute
    real_executemany = db_utils.CursorWrapper._executemany

    def execute(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        counted.record()
        return real_execute(self, *args, **kwargs)

    def executemany(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        counted.record()
        return real_executemany(self, *args, **kwargs)

    monkeypatch.setattr(db_utils.CursorWrapper, "_execute", execute)
    monkeypatch.setattr(db_utils.CursorWrapper, "_executemany", executemany)
    return counted


def queue_jobs(owner, provider, count: int) -> list[Generation]:  # type: ignore[no-untyped-def]
    jobs = []
    with transaction.atomic():
        for _ in range(count):
            job = make_job(owner, provider)
            enqueue_in_transaction(job)
            jobs.append(job)
    return jobs


def states(jobs: list[Generation]) -> Counter[str]:
    return Counter(
        Generation.objects.filter(pk__in=[job.pk for job in jobs]).values_list("state", flat=True)
    )


def test_an_idle_worker_makes_under_one_statement_a_second(statements, provider):
    with WorkerThread(concurrency=50, interval=0.1):
        time.sleep(6)  # its polls grow apart while nothing is queued
        idle = statements.during(10)
    assert sum(idle.values()) < 10, idle


def test_a_queued_job_still_wakes_an_idle_worker_at_once(statements, alice, provider, upstream):
    upstream.set_latency(0)
    with WorkerThread(concurrency=4, interval=0.1):
        time.sleep(6)  # polling every few seconds by now
        queued = time.monotonic()
        (job,) = queue_jobs(alice, provider, 1)
        assert wait_for(lambda: len(upstream.requests) == 1, timeout=10)
        started_after = time.monotonic() - queued
        assert wait_for(lambda: states([job]) == {"succeeded": 1})
    assert started_after < 1.5


def test_running_jobs_cost_one_watcher_query_a_second_in_all(statements, alice, provider, upstream):
    upstream.set_latency(8)
    jobs = queue_jobs(alice, provider, 20)
    with WorkerThread(concurrency=20, interval=0.1):
        assert wait_for(lambda: len(upstream.requests) == 20, timeout=15)
        # Each attempt is counted while its request travels: wait for those writes too.
        counted = Generation.objects.filter(pk__in=[job.pk for job in jobs], attempts=1)
        assert wait_for(lambda: counted.count() == 20, timeout=15)
        waiting = statements.during(4)
        assert wait_for(lambda: states(jobs) == {"succeeded": 20}, timeout=30)
    # Per job, a check a second would be 80 statements; the watcher makes about 4, plus one
    # heartbeat for all, and the claim loop none while every slot is taken.
    assert waiting["job"] == 0, waiting
    assert waiting["job-watcher"] <= 7, waiting
    assert sum(waiting.values()) <= 10, waiting


def test_a_cancel_is_noticed_within_two_seconds(alice, provider, upstream):
    upstream.set_latency(30)
    (job,) = queue_jobs(alice, provider, 1)
    with WorkerThread(concurrency=4, interval=0.1):
        assert wait_for(lambda: len(upstream.requests) == 1, timeout=10)
        time.sleep(1.2)  # well into the upstream call
        cancelled = time.monotonic()
        assert Generation.objects.get(pk=job.pk).cancel()
        assert wait_for(lambda: job.pk not in watcher.running(), timeout=5)
        noticed_after = time.monotonic() - cancelled
    job.refresh_from_db()
    assert job.state == "cancelled" and job.images.count() == 0
    assert noticed_after < 2.5


def test_queued_jobs_are_claimed_in_batches_and_start_together(
    statements, alice, provider, upstream
):
    upstream.set_latency(3)
    jobs = queue_jobs(alice, provider, 40)
    with WorkerThread(concurrency=40, interval=0.1):
        assert wait_for(lambda: states(jobs) == {"succeeded": 40}, timeout=40)
    delays = [
        (job.started_at - job.created_at).total_seconds()
        for job in Generation.objects.filter(pk__in=[job.pk for job in jobs])
        if job.started_at is not None
    ]
    assert len(delays) == 40
    assert max(delays) - min(delays) < 1.5, sorted(delays)
    # Claimed in a few batches: one claim per job would take two statements each (80 here).
    # The rest is the worker's first recovery round (orphans, renditions, expired keys, rate
    # windows, callbacks), which runs on this thread too.
    assert statements.by_thread["claim-loop"] < 30, statements.by_thread


def test_a_worker_process_holds_no_more_connections_than_its_pool(
    alice, provider, upstream, tmp_path
):
    skip_unless_postgresql("connections are counted in pg_stat_activity")
    upstream.set_latency(5)
    jobs = queue_jobs(alice, provider, 50)
    log = tmp_path / "worker.log"
    name = connection.settings_dict["NAME"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        ours = cursor.fetchone()[0]
    most_connections = 0
    most_running = 0
    # Its own name on its connections: the test process's threads may hold some of their own.
    name_env = {"WORKER_DB_CONNECTIONS": "3", "PGAPPNAME": "worker-under-test"}
    worker = start_worker(log, concurrency=50, extra_env=name_env)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = %s AND pid <> %s AND application_name = %s",
                    [name, ours, "worker-under-test"],
                )
                most_connections = max(most_connections, cursor.fetchone()[0])
            seen = states(jobs)
            most_running = max(most_running, seen["running"])
            if seen == {"succeeded": 50}:
                break
            time.sleep(0.1)
        assert states(jobs) == {"succeeded": 50}, log.read_text()
    finally:
        stop_worker(worker)
    assert most_running == 50
    # Its pool of 3, and the LISTEN connection that wakes it when a job is queued.
    assert 1 <= most_connections <= 4, most_connections
    assert "Traceback" not in log.read_text()


def test_two_workers_claiming_side_by_side_run_each_job_once(alice, provider, upstream):
    upstream.set_latency(0.5)
    jobs = queue_jobs(alice, provider, 30)
    with WorkerThread(concurrency=10, interval=0.1), WorkerThread(concurrency=10, interval=0.1):
        assert wait_for(lambda: states(jobs) == {"succeeded": 30}, timeout=60)
    assert len(upstream.requests) == 30
    assert set(
        Generation.objects.filter(pk__in=[job.pk for job in jobs]).values_list("runs", flat=True)
    ) == {1}


def test_the_watcher_outlives_its_own_errors_and_still_notices_a_cancel(
    alice, provider, upstream, monkeypatch, caplog
):
    real = watcher_module.cancelled_among
    failures = [RuntimeError("a fault of ours"), OperationalError("server closed the connection")]

    def failing_first(generation_ids):  # type: ignore[no-untyped-def]
        if failures:
            raise failures.pop(0)
        return real(generation_ids)

    monkeypatch.setattr(watcher_module, "cancelled_among", failing_first)
    upstream.set_latency(30)
    (job,) = queue_jobs(alice, provider, 1)
    with caplog.at_level(logging.WARNING, "playground.generations.watcher"), WorkerThread(4, 0.1):
        assert wait_for(lambda: len(upstream.requests) == 1, timeout=10)
        assert wait_for(lambda: not failures, timeout=5)
        assert Generation.objects.get(pk=job.pk).cancel()
        assert wait_for(lambda: job.pk not in watcher.running(), timeout=5)
    assert Generation.objects.get(pk=job.pk).state == "cancelled"
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "failed; will try again" in logged and "server closed" in logged


def test_a_job_cancelled_after_its_batch_claim_makes_no_upstream_call(alice, provider, upstream):
    from playground.generations.runner import batch_committed, claim_batch, run_generation_job

    (job,) = queue_jobs(alice, provider, 1)
    with transaction.atomic():
        claimed = claim_batch([job.pk])
    batch_committed(claimed)
    assert claimed == [job.pk] and states([job]) == {"running": 1}
    assert Generation.objects.get(pk=job.pk).cancel()  # before its thread gets going
    run_generation_job(job.pk)
    assert upstream.requests == []
    assert states([job]) == {"cancelled": 1}
    assert job.pk not in watcher.running()
