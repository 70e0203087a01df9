"""A database that briefly does not answer never costs a result that the upstream billed."""

import pytest
from django.db import OperationalError

from playground.generations import runner
from playground.generations import watcher as watcher_module
from playground.generations.models import Generation
from playground.generations.runner import run_generation_job
from tests.jobs import make_job

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def no_waiting(monkeypatch):
    monkeypatch.setattr(runner, "SAVE_FIRST_DELAY_SECONDS", 0.01)


def failing_first(calls: int, real):  # type: ignore[no-untyped-def]
    """`real`, except that its first `calls` calls raise as a database at its limit does."""
    seen = {"calls": 0}

    def flaky(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen["calls"] += 1
        if seen["calls"] <= calls:
            raise OperationalError("sorry, too many clients already")
        return real(*args, **kwargs)

    return flaky


def test_it_saves_images_once_the_database_answers_again(
    alice, provider, upstream, monkeypatch, no_waiting
):
    monkeypatch.setattr(runner, "store_original", failing_first(2, runner.store_original))
    monkeypatch.setattr(runner, "finish", failing_first(1, runner.finish))
    job = make_job(alice, provider, n=2)
    run_generation_job(job.pk)
    job.refresh_from_db()
    assert job.state == "succeeded" and job.images.count() == 2
    assert job.actual_usd is not None and len(upstream.requests) == 1


def test_it_keeps_waiting_on_the_upstream_when_a_cancel_check_fails(
    alice, provider, upstream, monkeypatch
):
    upstream.set_latency(2.5)  # several cancel checks happen while the call is on its way
    monkeypatch.setattr(
        watcher_module, "cancelled_among", failing_first(3, watcher_module.cancelled_among)
    )
    job = make_job(alice, provider)
    run_generation_job(job.pk)
    job.refresh_from_db()
    assert job.state == "succeeded" and job.images.count() == 1
    assert len(upstream.requests) == 1


def test_it_finishes_a_stream_whose_previews_cannot_be_saved(
    alice, provider, upstream, monkeypatch
):
    def broken_preview(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(runner, "store_preview", broken_preview)
    job = make_job(alice, provider, partial_images=2)
    run_generation_job(job.pk)
    job.refresh_from_db()
    assert job.state == "succeeded" and job.images.count() == 1
    assert Generation.objects.get(pk=job.pk).previews.count() == 0


def test_a_job_the_database_fails_to_load_goes_back_to_the_queue_uncounted(
    alice, provider, upstream, monkeypatch, no_waiting
):
    monkeypatch.setattr(runner, "upstream_request", failing_first(1, runner.upstream_request))
    job = make_job(alice, provider)
    run_generation_job(job.pk)
    job.refresh_from_db()
    assert (job.state, job.runs, job.worker) == ("queued", 0, "")
    assert job.task_id and upstream.requests == []
    run_generation_job(job.pk)  # as its new task does
    job.refresh_from_db()
    assert (job.state, job.runs) == ("succeeded", 1) and len(upstream.requests) == 1


def test_a_job_whose_claim_the_database_refuses_gets_a_new_task(
    alice, provider, upstream, monkeypatch, no_waiting
):
    monkeypatch.setattr(runner, "claim", failing_first(1, runner.claim))
    job = make_job(alice, provider)
    Generation.objects.filter(pk=job.pk).update(task_id="spent")
    run_generation_job(job.pk)
    job.refresh_from_db()
    assert (job.state, job.runs) == ("queued", 0) and job.task_id != "spent"
    assert upstream.requests == []
