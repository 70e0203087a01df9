"""A worker sent SIGTERM exits within its grace period and 2 s, and says what happened."""

import re
import signal
import time
from urllib.parse import urlsplit

import pytest
from django.db import transaction

from playground.generations.models import Generation
from playground.generations.tasks import enqueue_in_transaction
from tests.jobs import make_job
from tests.workers import start_worker, stop_worker, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

GRACE = 3.0
LATENCY = 60.0  # the upstream call outlasts any grace period here


def stand_in_env(upstream) -> dict[str, str]:
    """The stand-in this test run started, as the worker's configured one."""
    return {"OFFLINE_API_PORT": str(urlsplit(upstream.base_url).port)}


def queued_jobs(owner, provider, count: int) -> list[Generation]:
    with transaction.atomic():
        jobs = [make_job(owner, provider) for _ in range(count)]
        for job in jobs:
            enqueue_in_transaction(job)
    return jobs


def test_a_stopped_worker_exits_within_its_grace_period_and_gives_jobs_back(
    alice, provider, upstream, tmp_path
):
    upstream.set_latency(LATENCY)
    log = tmp_path / "worker.log"
    worker = start_worker(log, grace_seconds=GRACE, extra_env=stand_in_env(upstream))
    try:
        jobs = queued_jobs(alice, provider, 3)
        assert wait_for(lambda: len(upstream.requests) == 3, timeout=30), log.read_text()
        signalled = time.monotonic()
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
        took = time.monotonic() - signalled
    finally:
        stop_worker(worker)
    text = log.read_text()
    assert took < GRACE + 2, (took, text)
    assert worker.returncode == 0, text
    waited = re.search(r"3 jobs and callbacks still running after ([\d.]+) s", text)
    assert waited and GRACE - 0.2 <= float(waited.group(1)) <= GRACE + 0.5, text
    for job in jobs:  # back in the queue for another worker, no crash counted
        job.refresh_from_db()
        assert (job.state, job.crashes) == ("queued", 0), text


def test_a_second_signal_says_how_long_it_really_waited(alice, provider, upstream, tmp_path):
    upstream.set_latency(LATENCY)
    log = tmp_path / "worker.log"
    worker = start_worker(log, grace_seconds=60, extra_env=stand_in_env(upstream))
    try:
        jobs = queued_jobs(alice, provider, 2)
        assert wait_for(lambda: len(upstream.requests) == 2, timeout=30), log.read_text()
        signalled = time.monotonic()
        worker.send_signal(signal.SIGTERM)
        assert wait_for(lambda: "Received" in log.read_text(), timeout=5)
        time.sleep(1)
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
        took = time.monotonic() - signalled
    finally:
        stop_worker(worker)
    text = log.read_text()
    assert took < 1 + 2 + 1, (took, text)
    assert "after 60 s" not in text and "after 60.0 s" not in text, text
    waited = re.search(r"A second signal after ([\d.]+) s: giving 2 running", text)
    assert waited and 0.8 <= float(waited.group(1)) <= 2.5, text
    for job in jobs:
        job.refresh_from_db()
        assert (job.state, job.crashes) == ("queued", 0), text
