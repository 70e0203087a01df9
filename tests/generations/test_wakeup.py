"""An idle worker starts a queued job at once: woken by the queuing, not by its next poll."""

import time

import pytest
from django.db import transaction

from playground.generations.models import Generation
from playground.generations.tasks import enqueue_in_transaction
from tests.jobs import make_job
from tests.workers import start_worker, stop_worker, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

POLL_SECONDS = 60.0  # so long that only a wake-up can explain a prompt start


def test_it_wakes_an_idle_worker_when_a_job_is_queued(alice, provider, upstream, tmp_path):
    log = tmp_path / "worker.log"
    worker = start_worker(log, interval=POLL_SECONDS)
    try:
        # The worker's first poll finds nothing; from then on it waits on its wake-ups.
        assert wait_for(lambda: "running up to" in log.read_text(), timeout=30), log.read_text()
        time.sleep(1)
        for _ in range(3):  # every job, not only the first
            with transaction.atomic():
                job = make_job(alice, provider)
                enqueue_in_transaction(job)
            assert wait_for(
                lambda j=job: Generation.objects.get(pk=j.pk).is_finished, timeout=20
            ), log.read_text()
            job.refresh_from_db()
            assert job.state == "succeeded"
            assert job.queue_seconds() < POLL_SECONDS / 4, job.queue_seconds()
    finally:
        stop_worker(worker)
