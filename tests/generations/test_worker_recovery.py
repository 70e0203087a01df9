"""A job whose worker dies is not left running: queued again once, then failed clearly."""

import os
import signal
import socket
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from playground.generations.models import Generation
from playground.generations.recovery import recover_orphaned_jobs
from playground.generations.tasks import enqueue_on_commit
from tests.jobs import make_job
from tests.workers import start_worker, stop_worker, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def running_job(owner, worker: str, runs: int = 1, heartbeat_age: float = 0) -> Generation:
    return make_job(
        owner,
        state="running",
        runs=runs,
        worker=worker,
        heartbeat_at=timezone.now() - timedelta(seconds=heartbeat_age),
        started_at=timezone.now(),
    )


def dead_pid() -> int:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


def test_it_requeues_a_job_whose_worker_process_is_gone(alice):
    job = running_job(alice, f"{socket.gethostname()}:{dead_pid()}")
    assert recover_orphaned_jobs() == 1
    job.refresh_from_db()
    assert job.state == "queued" and job.task_id


def test_it_fails_a_job_that_lost_its_worker_twice(alice):
    job = running_job(alice, f"{socket.gethostname()}:{dead_pid()}", runs=2)
    recover_orphaned_jobs()
    job.refresh_from_db()
    assert job.state == "failed" and job.error_code == "worker_lost"
    assert "stopped unexpectedly" in job.error_message and job.finished_at


def test_it_recovers_a_job_whose_heartbeat_went_stale_on_another_host(alice):
    job = running_job(alice, "other-host:1234", heartbeat_age=3600)
    recover_orphaned_jobs()
    assert Generation.objects.get(pk=job.pk).state == "queued"


def test_it_leaves_a_live_worker_alone(alice):
    live_here = running_job(alice, f"{socket.gethostname()}:{os.getppid()}")
    fresh_elsewhere = running_job(alice, "other-host:1234", heartbeat_age=5)
    assert recover_orphaned_jobs() == 0
    assert {
        g.state for g in Generation.objects.filter(pk__in=[live_here.pk, fresh_elsewhere.pk])
    } == {"running"}


def test_it_finishes_a_job_after_its_worker_is_killed_mid_call(alice, provider, upstream, tmp_path):
    upstream.set_latency(3)
    first = start_worker(tmp_path / "worker.log")
    try:
        with transaction.atomic():
            job = make_job(alice, provider)
            enqueue_on_commit(job)
        assert wait_for(lambda: Generation.objects.get(pk=job.pk).state == "running")
        assert wait_for(lambda: len(upstream.requests) == 1)
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
    finally:
        stop_worker(first)
    assert Generation.objects.get(pk=job.pk).state == "running"

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
    assert job.runs == 2 and job.images.count() == 1
