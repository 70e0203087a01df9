"""Callbacks run on threads of their own: a receiver answering a byte a second holds one of
them until its attempt's deadline, and never delays another user's job."""

from datetime import timedelta

import pytest
from django.db import transaction

from playground.generations.models import Generation
from playground.generations.tasks import enqueue_in_transaction
from playground.webhooks.models import CallbackAttempt, CallbackDelivery
from tests.jobs import make_job
from tests.webhooks.conftest import create_task
from tests.workers import WorkerThread, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

DEADLINE = 4


def test_slow_receivers_never_delay_another_job_and_each_attempt_ends_at_its_deadline(
    live_server, provider, upstream, alice, bob, api_key, trickler, fast_callbacks
):
    fast_callbacks.CALLBACK_TIMEOUT_SECONDS = DEADLINE
    fast_callbacks.CALLBACK_MAX_ATTEMPTS = 1
    fast_callbacks.CALLBACK_CONCURRENCY = 4
    with WorkerThread(concurrency=4, interval=0.05):
        tasks = [create_task(alice, api_key, trickler.url, live_server.url + "/") for _ in range(4)]
        # All four callbacks on their way, each held by a receiver trickling its answer.
        assert wait_for(lambda: trickler.connections == 4, timeout=30)
        upstream.set_latency(0.5)
        with transaction.atomic():
            other = make_job(bob, provider)
            enqueue_in_transaction(other)
        assert wait_for(lambda: Generation.objects.get(pk=other.pk).is_finished, timeout=30)
        assert wait_for(
            lambda: (
                CallbackDelivery.objects.filter(
                    task__in=tasks, state=CallbackDelivery.State.FAILED
                ).count()
                == 4
            ),
            timeout=DEADLINE * 3,
        )
    other.refresh_from_db()
    assert other.state == "succeeded"
    assert other.queue_seconds() < 0.5, other.queue_seconds()
    attempts = list(CallbackAttempt.objects.filter(delivery__task__in=tasks))
    assert len(attempts) == 4
    for attempt in attempts:  # cut off at the deadline, not after the minute of trickling
        assert attempt.error == f"No answer within {DEADLINE} s.", attempt.error
        assert DEADLINE * 1000 - 100 <= attempt.duration_ms < DEADLINE * 1000 + 1500
    first_callback_end = min(a.started_at + timedelta(milliseconds=a.duration_ms) for a in attempts)
    # The other job settled well before any of the callbacks ended.
    assert other.finished_at < first_callback_end - timedelta(seconds=1.5), (
        other.finished_at,
        first_callback_end,
    )


def test_callbacks_beyond_the_callback_threads_wait_for_one_not_for_a_job_slot(
    live_server, provider, upstream, alice, api_key, trickler, fast_callbacks
):
    fast_callbacks.CALLBACK_TIMEOUT_SECONDS = 2
    fast_callbacks.CALLBACK_MAX_ATTEMPTS = 1
    fast_callbacks.CALLBACK_CONCURRENCY = 2
    with WorkerThread(concurrency=4, interval=0.05) as worker:
        tasks = [create_task(alice, api_key, trickler.url, live_server.url + "/") for _ in range(3)]
        assert wait_for(lambda: trickler.connections == 2, timeout=30)
        assert worker.callbacks_busy == 2 and worker.busy == 0
        assert wait_for(lambda: trickler.connections == 3, timeout=10)  # once one is free
        assert wait_for(
            lambda: (
                CallbackDelivery.objects.filter(
                    task__in=tasks, state=CallbackDelivery.State.FAILED
                ).count()
                == 3
            ),
            timeout=20,
        )
