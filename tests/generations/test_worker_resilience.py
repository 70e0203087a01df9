"""A worker on a shared database: it outlives database errors, never loses a job to an error
in its thread, and of several workers recovering the same job only one requeues it."""

import logging
import os
import socket
import threading
import uuid
from datetime import timedelta

import pytest
from django.db import OperationalError, connections, transaction
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from playground.generations import runner
from playground.generations.management.commands import run_worker
from playground.generations.management.commands.run_worker import PoolWorker
from playground.generations.models import Generation, pid_namespace, this_worker
from playground.generations.recovery import _recover_crashed, recover_orphaned_jobs
from playground.generations.tasks import enqueue_in_transaction
from playground.generations.watcher import beat, watcher
from tests.jobs import make_job
from tests.workers import WorkerThread, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def queued_job(owner, provider=None) -> Generation:
    with transaction.atomic():
        job = make_job(owner, provider)
        enqueue_in_transaction(job)
    return job


def running_job(owner, worker: str, heartbeat_age: float = 0) -> Generation:
    return make_job(
        owner,
        state="running",
        runs=1,
        worker=worker,
        heartbeat_at=timezone.now() - timedelta(seconds=heartbeat_age),
        started_at=timezone.now(),
    )


def dead_worker() -> str:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return f"{uuid.uuid4().hex} {socket.gethostname()}:{pid} {pid_namespace()}:12345"


@pytest.fixture
def quick_retries(monkeypatch):
    monkeypatch.setattr(run_worker, "DATABASE_RETRY_SECONDS", 0.05)
    monkeypatch.setattr(runner, "SAVE_FIRST_DELAY_SECONDS", 0.01)


def test_the_claim_loop_outlives_database_errors_and_claims_the_job_after(
    alice, provider, upstream, monkeypatch, caplog, quick_retries
):
    real_claim = PoolWorker.claim_ready
    errors = [
        OperationalError("sorry, too many clients already"),
        OperationalError("server closed the connection unexpectedly"),
        OperationalError("connection refused"),
    ]
    calls = {"n": 0}

    def flaky_claim(self, limit):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if errors:
            raise errors.pop(0)
        return real_claim(self, limit)

    monkeypatch.setattr(PoolWorker, "claim_ready", flaky_claim)
    job = queued_job(alice, provider)
    with caplog.at_level(logging.WARNING, "playground.worker"), WorkerThread():
        assert wait_for(lambda: Generation.objects.get(pk=job.pk).is_finished)
    job.refresh_from_db()
    assert job.state == "succeeded" and job.images.count() == 1 and job.runs == 1
    assert calls["n"] > 3 and not errors
    retried = [r.getMessage() for r in caplog.records if "trying again" in r.getMessage()]
    assert len(retried) == 3 and "too many clients" in retried[0]
    assert all(len(message.splitlines()) == 1 for message in retried)


def test_an_error_in_a_job_thread_is_logged_and_fails_the_job(
    alice, provider, monkeypatch, caplog, quick_retries
):
    def broken_run(self, task_result):  # type: ignore[no-untyped-def]
        runner.claim(task_result.args_kwargs["args"][0])
        raise RuntimeError("the job thread broke")

    monkeypatch.setattr(PoolWorker, "run_task", broken_run)
    job = queued_job(alice, provider)
    with caplog.at_level(logging.ERROR, "playground.worker"), WorkerThread():
        assert wait_for(lambda: Generation.objects.get(pk=job.pk).is_finished)
    job.refresh_from_db()
    assert (job.state, job.error_code) == ("failed", "internal_error")
    assert any("the job thread broke" in r.getMessage() for r in caplog.records)
    assert job.pk not in watcher.running()


def test_a_job_is_failed_even_when_the_database_refuses_the_first_try(
    alice, provider, monkeypatch, quick_retries
):
    def broken(generation):  # type: ignore[no-untyped-def]
        raise RuntimeError("a bug of ours")

    real_finish = runner.finish
    refusals = [OperationalError("server closed the connection unexpectedly")]

    def flaky_finish(*args, **kwargs):  # type: ignore[no-untyped-def]
        if refusals:
            raise refusals.pop()
        return real_finish(*args, **kwargs)

    monkeypatch.setattr(runner, "_run_claimed", broken)
    monkeypatch.setattr(runner, "finish", flaky_finish)
    job = make_job(alice, provider)
    runner.run_generation_job(job.pk)
    job.refresh_from_db()
    assert (job.state, job.error_code) == ("failed", "internal_error") and not refusals


def test_a_live_worker_is_told_apart_from_another_with_the_same_host_and_pid(alice):
    # Another container with the same host name and pid as this process: a live worker.
    twin = f"{uuid.uuid4().hex} {socket.gethostname()}:{os.getpid()} 0123456789abcdef:1"
    job = running_job(alice, twin)
    assert recover_orphaned_jobs() == 0
    assert Generation.objects.get(pk=job.pk).state == "running"
    # ... and once its heartbeat stops, it is recovered like any other.
    Generation.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    assert recover_orphaned_jobs() == 1
    assert Generation.objects.get(pk=job.pk).state == "queued"


def test_a_live_job_in_this_process_is_kept_fresh_and_left_alone(alice):
    job = running_job(alice, this_worker(), heartbeat_age=30)
    assert beat([job.pk]) == 1
    assert recover_orphaned_jobs() == 0
    assert Generation.objects.get(pk=job.pk).state == "running"


def test_two_recoveries_at_once_requeue_a_dead_workers_job_once(alice):
    job = running_job(alice, dead_worker())
    handled = run_at_once(recover_orphaned_jobs, 2)
    job.refresh_from_db()
    assert sum(handled) == 1
    assert (job.state, job.crashes) == ("queued", 1)
    assert DBTaskResult.objects.filter(status=TaskResultStatus.READY).count() == 1


def test_two_recoveries_at_once_give_a_lost_task_job_one_new_task(alice):
    job = queued_job(alice)
    DBTaskResult.objects.filter(pk=job.task_id).delete()
    Generation.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=1))
    handled = run_at_once(recover_orphaned_jobs, 2)
    assert sum(handled) == 1
    assert DBTaskResult.objects.count() == 1
    assert Generation.objects.get(pk=job.pk).task_id == str(DBTaskResult.objects.get().pk)


def test_a_recovery_that_read_the_job_before_another_requeued_it_changes_nothing(alice):
    job = running_job(alice, dead_worker())
    seen_before = Generation.objects.get(pk=job.pk)
    assert recover_orphaned_jobs() == 1
    assert runner.claim(job.pk)  # a live worker took it up again
    try:
        assert not _recover_crashed(seen_before)
    finally:
        watcher.unwatch(job.pk)
    job.refresh_from_db()
    assert (job.state, job.runs, job.crashes, job.worker) == ("running", 2, 1, this_worker())


def run_at_once(work, times: int) -> list:  # type: ignore[no-untyped-def]
    start = threading.Barrier(times)
    results: list = []
    failures: list[BaseException] = []

    def one() -> None:
        try:
            start.wait()
            results.append(work())
        except BaseException as error:
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=one) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    return results
