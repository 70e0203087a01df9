"""Jobs are never lost: a dead worker's jobs are queued again (then failed clearly), a stopping
worker lets its jobs finish or gives them back, and a queued job without a task gets one."""

import os
import signal
import socket
import uuid
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from playground.gallery.storage import store_image
from playground.generations.models import Generation, pid_namespace
from playground.generations.recovery import recover_orphaned_jobs
from playground.generations.tasks import enqueue_in_transaction
from tests.jobs import make_job
from tests.offline_api.helpers import png_bytes
from tests.postgres import skip_unless_postgresql
from tests.workers import start_worker, stop_worker, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def running_job(owner, worker: str, crashes: int = 0, heartbeat_age: float = 0) -> Generation:
    return make_job(
        owner,
        state="running",
        runs=crashes + 1,
        crashes=crashes,
        worker=worker,
        heartbeat_at=timezone.now() - timedelta(seconds=heartbeat_age),
        started_at=timezone.now(),
    )


def queued_job(owner, provider=None) -> Generation:
    with transaction.atomic():
        job = make_job(owner, provider)
        enqueue_in_transaction(job)
    return job


def dead_pid() -> int:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


def dead_worker() -> str:
    """The identity a worker on this machine had, whose process has ended since."""
    return f"{uuid.uuid4().hex} {socket.gethostname()}:{dead_pid()} {pid_namespace()}:12345"


def state_of(job: Generation) -> str:
    return Generation.objects.get(pk=job.pk).state


def test_it_requeues_a_job_whose_worker_process_is_gone(alice):
    job = running_job(alice, dead_worker())
    assert recover_orphaned_jobs() == 1
    job.refresh_from_db()
    assert job.state == "queued" and job.crashes == 1
    assert DBTaskResult.objects.get(pk=job.task_id).status == TaskResultStatus.READY


def test_it_fails_a_job_that_lost_its_worker_twice(alice):
    job = running_job(alice, dead_worker(), crashes=1)
    recover_orphaned_jobs()
    job.refresh_from_db()
    assert job.state == "failed" and job.error_code == "worker_lost" and job.crashes == 2
    assert "stopped unexpectedly (2 times)" in job.error_message and job.finished_at


def test_it_keeps_the_images_of_a_job_whose_worker_died_after_they_arrived(alice):
    job = running_job(alice, dead_worker())
    store_image(job, 0, png_bytes((64, 64)))
    recover_orphaned_jobs()
    job.refresh_from_db()
    assert job.state == "succeeded" and job.images.count() == 1
    assert not Generation.objects.exclude(pk=job.pk).exists()  # not run (and billed) again


def test_it_recovers_a_job_whose_heartbeat_went_stale_on_another_host(alice):
    job = running_job(alice, "other-host:1234", heartbeat_age=3600)
    recover_orphaned_jobs()
    assert state_of(job) == "queued"


def test_it_leaves_a_live_worker_alone(alice):
    live_here = running_job(alice, f"{socket.gethostname()}:{os.getppid()}")
    fresh_elsewhere = running_job(alice, "other-host:1234", heartbeat_age=5)
    assert recover_orphaned_jobs() == 0
    assert {
        g.state for g in Generation.objects.filter(pk__in=[live_here.pk, fresh_elsewhere.pk])
    } == {"running"}


@pytest.mark.parametrize("task_fate", ["missing", "failed", "no-task-id", "stale"])
def test_it_gives_a_new_task_to_a_queued_job_whose_task_is_lost(alice, task_fate):
    job = queued_job(alice)
    old_task = job.task_id
    if task_fate == "missing":
        DBTaskResult.objects.filter(pk=old_task).delete()
    elif task_fate == "failed":
        DBTaskResult.objects.filter(pk=old_task).update(status=TaskResultStatus.FAILED)
    elif task_fate == "stale":  # a worker took the task, then died before starting the job
        DBTaskResult.objects.filter(pk=old_task).update(
            status=TaskResultStatus.RUNNING,
            started_at=timezone.now() - timedelta(minutes=5),
            worker_ids=[dead_worker()],
        )
    else:
        Generation.objects.filter(pk=job.pk).update(task_id="")
    Generation.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=1))

    assert recover_orphaned_jobs() == 1
    job.refresh_from_db()
    assert job.state == "queued" and job.task_id not in ("", old_task)
    assert DBTaskResult.objects.get(pk=job.task_id).status == TaskResultStatus.READY
    assert not DBTaskResult.objects.filter(pk=old_task, status=TaskResultStatus.RUNNING).exists()
    assert recover_orphaned_jobs() == 0  # once is enough


def test_it_leaves_a_queued_job_with_a_waiting_task_alone(alice):
    job = queued_job(alice)
    Generation.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=1))
    assert recover_orphaned_jobs() == 0
    job.refresh_from_db()
    assert DBTaskResult.objects.count() == 1


def test_it_finishes_a_job_after_its_worker_is_killed_mid_call(alice, provider, upstream, tmp_path):
    upstream.set_latency(3)
    first = start_worker(tmp_path / "worker.log")
    try:
        job = queued_job(alice, provider)
        assert wait_for(lambda: state_of(job) == "running")
        assert wait_for(lambda: len(upstream.requests) == 1)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        stop_worker(first)
    assert state_of(job) == "running"

    upstream.set_latency(0.2)
    second = start_worker(tmp_path / "worker.log")
    try:
        assert wait_for(lambda: Generation.objects.get(pk=job.pk).is_finished, timeout=30), (
            tmp_path / "worker.log"
        ).read_text()
    finally:
        stop_worker(second)
    job.refresh_from_db()
    assert job.state == "succeeded", job.error_message
    assert (job.runs, job.crashes) == (2, 1) and job.images.count() == 1


def test_it_lets_a_running_job_finish_when_the_worker_is_stopped(
    alice, provider, upstream, tmp_path
):
    upstream.set_latency(2)
    log = tmp_path / "worker.log"
    worker = start_worker(log, grace_seconds=30)
    try:
        job = queued_job(alice, provider)
        assert wait_for(lambda: len(upstream.requests) == 1), log.read_text()
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0, log.read_text()
    finally:
        stop_worker(worker)
    job.refresh_from_db()
    assert job.state == "succeeded", log.read_text()
    assert (job.runs, job.crashes, job.images.count()) == (1, 0, 1)
    assert len(upstream.requests) == 1


def test_it_gives_jobs_back_when_the_grace_period_ends_and_never_counts_a_crash(
    alice, provider, upstream, tmp_path
):
    upstream.set_latency(30)
    log = tmp_path / "worker.log"
    job = queued_job(alice, provider)
    for restart in range(3):  # more planned restarts than the crash limit allows crashes
        worker = start_worker(log, grace_seconds=0.5)
        try:
            assert wait_for(lambda n=restart: len(upstream.requests) == n + 1), log.read_text()
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=20) == 0, log.read_text()
        finally:
            stop_worker(worker)
        job.refresh_from_db()
        assert (job.state, job.crashes, job.runs) == ("queued", 0, restart + 1), log.read_text()
        assert DBTaskResult.objects.get(pk=job.task_id).status == TaskResultStatus.READY

    upstream.set_latency(0)
    worker = start_worker(log)
    try:
        assert wait_for(lambda: Generation.objects.get(pk=job.pk).is_finished, timeout=30)
    finally:
        stop_worker(worker)
    job.refresh_from_db()
    assert job.state == "succeeded" and job.images.count() == 1 and job.crashes == 0


def test_the_worker_outlives_a_postgresql_outage(alice, provider, upstream, tmp_path):
    skip_unless_postgresql("an outage is staged with PostgreSQL's own commands")
    import psycopg

    log = tmp_path / "worker.log"
    worker = start_worker(log)
    name = connection.settings_dict["NAME"]
    admin_params = {**connection.get_connection_params(), "dbname": "postgres"}
    try:
        before = queued_job(alice, provider)
        assert wait_for(lambda: state_of(before) == "succeeded"), log.read_text()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            ours = cursor.fetchone()[0]
        with psycopg.connect(**admin_params, autocommit=True) as admin:
            # Every session of the worker is dropped and no new one let in, as in a restart.
            admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
            try:
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> %s",
                    [name, ours],
                )
                # Its pool waits a while for a connection before calling it an error.
                assert wait_for(lambda: "database error" in log.read_text(), timeout=40), (
                    log.read_text()
                )
                during = queued_job(alice, provider)
            finally:
                admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
        assert wait_for(lambda: state_of(during) == "succeeded", timeout=30), log.read_text()
        assert worker.poll() is None, log.read_text()
    finally:
        stop_worker(worker)
    assert "Traceback" not in log.read_text()
