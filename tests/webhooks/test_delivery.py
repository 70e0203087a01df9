"""Task callbacks posted by a real worker to a real HTTP server on loopback, signed, retried,
refused for internal addresses, and scheduled once however many see the job end."""

import json
import threading
import time
from typing import Any

import pytest
import requests
from django.db import connection, connections
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from playground.apikeys.models import ApiKey
from playground.generations.management.commands.run_worker import _generation_id
from playground.generations.models import Generation
from playground.webhooks.delivery import sweep_callbacks
from playground.webhooks.models import CallbackDelivery
from playground.webhooks.secrets import new_webhook_secret
from playground.webhooks.tasks import deliver_callback
from tests.webhooks.conftest import create_task, verify_signature
from tests.workers import WorkerThread, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

State = CallbackDelivery.State


def delivery_of(task: Any) -> CallbackDelivery:
    return CallbackDelivery.objects.get(task=task)


def ended(task: Any) -> bool:
    return delivery_of(task).state in CallbackDelivery.FINISHED_STATES


def delivery_tasks() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=deliver_callback.module_path))


def test_a_finished_task_is_posted_once_signed_with_its_record(
    live_server, worker, alice, api_key, receiver, fast_callbacks
):
    secret = new_webhook_secret(alice)
    task = create_task(alice, api_key, receiver.url, live_server.url + "/")
    assert delivery_of(task).state == State.PENDING

    assert wait_for(lambda: ended(task), timeout=30)
    time.sleep(0.5)  # room for a second post, if there were one
    (request,) = receiver.received
    assert request.path == "/hooks/kie?token=receiver-own-token"
    assert request.headers["Content-Type"] == "application/json"
    assert verify_signature(secret, request)
    assert abs(int(request.headers["X-Webhook-Timestamp"]) - time.time()) < 60
    body = request.json()
    assert body["code"] == 200 and body["msg"] == "success"
    data = body["data"]
    assert data["taskId"] == task.task_id and data["state"] == "success"
    result_urls = json.loads(data["resultJson"])["resultUrls"]
    assert len(result_urls) == 1 and result_urls[0].startswith(live_server.url + "/api/v1/")
    assert json.loads(data["param"])["callBackUrl"] == receiver.url

    delivery = delivery_of(task)
    assert delivery.state == State.DELIVERED and delivery.attempts == 1
    assert delivery.finished_at is not None and delivery.next_attempt_at is None
    (attempt,) = delivery.attempt_log.all()
    assert attempt.status_code == 200 and not attempt.error
    assert '"received": true' in attempt.response_excerpt
    # The background task carries ids only, never the secret or the body.
    (queued,) = delivery_tasks()
    assert queued.args_kwargs["args"] == [delivery.pk, 1]
    assert secret not in json.dumps(queued.args_kwargs)


def test_a_failing_receiver_is_tried_again_with_backoff_until_it_answers(
    live_server, worker, alice, api_key, receiver, fast_callbacks
):
    secret = new_webhook_secret(alice)
    receiver.statuses = [500, 502, 200]
    task = create_task(alice, api_key, receiver.url, live_server.url + "/")

    assert wait_for(lambda: ended(task), timeout=30)
    delivery = delivery_of(task)
    assert delivery.state == State.DELIVERED and delivery.attempts == 3
    attempts = list(delivery.attempt_log.all())
    assert [a.status_code for a in attempts] == [500, 502, 200]
    assert attempts[0].error == "The receiver answered HTTP 500."
    # The waits of CALLBACK_RETRY_SECONDS (0.2 s, then 0.4 s) were kept between attempts.
    first_wait = (attempts[1].started_at - attempts[0].started_at).total_seconds()
    second_wait = (attempts[2].started_at - attempts[1].started_at).total_seconds()
    assert first_wait >= 0.2 and second_wait >= 0.4
    assert len(receiver.received) == 3
    assert all(verify_signature(secret, request) for request in receiver.received)
    assert len(delivery_tasks()) == 3


def test_it_gives_up_after_the_last_attempt(
    live_server, worker, alice, api_key, receiver, fast_callbacks
):
    fast_callbacks.CALLBACK_MAX_ATTEMPTS = 3
    receiver.statuses = [503]
    task = create_task(alice, api_key, receiver.url, live_server.url + "/")

    assert wait_for(lambda: ended(task), timeout=30)
    time.sleep(0.8)  # no fourth attempt comes
    delivery = delivery_of(task)
    assert delivery.state == State.FAILED and delivery.attempts == 3
    assert [a.status_code for a in delivery.attempt_log.all()] == [503, 503, 503]
    assert len(receiver.received) == 3 and delivery.next_attempt_at is None


def test_a_receiver_that_never_answers_is_recorded_as_a_timeout(
    live_server, worker, alice, api_key, receiver, fast_callbacks
):
    fast_callbacks.CALLBACK_TIMEOUT_SECONDS = 1
    receiver.statuses = ["hang", 200]
    task = create_task(alice, api_key, receiver.url, live_server.url + "/")

    assert wait_for(lambda: ended(task), timeout=30)
    delivery = delivery_of(task)
    assert delivery.state == State.DELIVERED
    timed_out, answered = delivery.attempt_log.all()
    assert timed_out.status_code is None and timed_out.error == "No answer within 1 s."
    assert 900 <= timed_out.duration_ms < 10_000
    assert answered.status_code == 200


@pytest.mark.parametrize(
    "target", ["http://127.0.0.1:{port}/hook", "http://169.254.169.254/latest/meta-data/"]
)
def test_internal_addresses_are_refused_at_delivery_and_not_retried(
    live_server, worker, alice, api_key, receiver, fast_callbacks, target
):
    fast_callbacks.API_ALLOW_PRIVATE_URLS = False
    port = receiver.url.split(":")[2].split("/")[0]
    task = create_task(alice, api_key, target.format(port=port), live_server.url + "/")

    assert wait_for(lambda: ended(task), timeout=30)
    time.sleep(0.5)
    delivery = delivery_of(task)
    assert delivery.state == State.REFUSED and delivery.attempts == 1
    (attempt,) = delivery.attempt_log.all()
    assert attempt.status_code is None
    assert "private, loopback or link-local" in attempt.error
    assert receiver.received == [] and len(delivery_tasks()) == 1


def test_a_name_resolving_to_loopback_at_delivery_is_refused(
    live_server, worker, alice, api_key, receiver, fast_callbacks
):
    # Accepted when the task was made (private addresses allowed then), loopback when posted.
    port = receiver.url.split(":")[2].split("/")[0]
    task = create_task(alice, api_key, f"http://localhost:{port}/hook", live_server.url + "/")
    fast_callbacks.API_ALLOW_PRIVATE_URLS = False

    assert wait_for(lambda: ended(task), timeout=30)
    delivery = delivery_of(task)
    assert delivery.state == State.REFUSED
    assert "'localhost'" in delivery.attempt_log.get().error
    assert receiver.received == []


def test_a_failed_job_gets_a_fail_callback(
    live_server, worker, alice, api_key, receiver, fast_callbacks
):
    # The stand-in's moderation refuses this prompt: the job fails.
    task = create_task(alice, api_key, receiver.url, live_server.url + "/", prompt="forbidden")

    assert wait_for(lambda: ended(task), timeout=30)
    (request,) = receiver.received
    data = request.json()["data"]
    assert data["state"] == "fail" and data["failCode"] and data["resultJson"] == ""
    assert Generation.objects.get(pk=task.generation_id).state == Generation.State.FAILED


def test_a_cancelled_job_gets_a_fail_callback(
    live_server, provider, alice, api_key, receiver, fast_callbacks
):
    task = create_task(alice, api_key, receiver.url, live_server.url + "/")
    job = Generation.objects.get(pk=task.generation_id)
    assert job.cancel()
    assert delivery_of(task).state == State.SCHEDULED  # by the cancel itself

    with WorkerThread(concurrency=2, interval=0.05):
        assert wait_for(lambda: ended(task), timeout=30)
        time.sleep(0.5)
    (request,) = receiver.received
    data = request.json()["data"]
    assert data["state"] == "fail" and data["failCode"] == "cancelled"
    assert delivery_of(task).state == State.DELIVERED
    # Unsigned without a secret: the owner never made one.
    assert "X-Webhook-Signature" not in request.headers


def test_sweeps_running_at_once_schedule_a_callback_once(
    live_server, provider, alice, api_key, receiver, fast_callbacks
):
    tasks = [create_task(alice, api_key, receiver.url, live_server.url + "/") for _ in range(3)]
    # Ended without anyone seeing it end, as when recovery fails a job whose worker died.
    Generation.objects.filter(pk__in=[t.generation_id for t in tasks]).update(
        state=Generation.State.FAILED, finished_at=timezone.now(), error_code="worker_lost"
    )
    start = threading.Barrier(4)
    moved: list[int] = []

    def sweep() -> None:
        try:
            start.wait()
            moved.append(sweep_callbacks())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(moved) == 3  # each delivery moved by one sweep only
    assert len(delivery_tasks()) == 3

    with WorkerThread(concurrency=4, interval=0.05):
        assert wait_for(lambda: all(ended(t) for t in tasks), timeout=30)
        assert sweep_callbacks() == 0  # nothing left to do
        time.sleep(0.5)
    posted = sorted(request.json()["data"]["taskId"] for request in receiver.received)
    assert posted == sorted(t.task_id for t in tasks)


def test_the_worker_sweep_catches_jobs_failed_by_recovery(
    live_server, provider, alice, api_key, receiver, fast_callbacks
):
    task = create_task(alice, api_key, receiver.url, live_server.url + "/")
    Generation.objects.filter(pk=task.generation_id).update(
        state=Generation.State.FAILED, finished_at=timezone.now(), error_code="worker_lost"
    )
    with WorkerThread(concurrency=2, interval=0.05):  # its first recovery round sweeps
        assert wait_for(lambda: ended(task), timeout=30)
    assert receiver.received[0].json()["data"]["failCode"] == "worker_lost"


def test_an_attempt_whose_worker_died_is_settled_and_tried_again(
    live_server, provider, alice, api_key, receiver, fast_callbacks
):
    task = create_task(alice, api_key, receiver.url, live_server.url + "/")
    Generation.objects.filter(pk=task.generation_id).update(
        state=Generation.State.SUCCEEDED, finished_at=timezone.now()
    )
    # Attempt 1 started an hour ago and was never recorded; its task is gone.
    started = timezone.now() - timezone.timedelta(hours=1)
    CallbackDelivery.objects.filter(task=task).update(
        state=State.SCHEDULED, attempts=1, sending_since=started, next_attempt_at=started
    )
    assert sweep_callbacks() == 1
    with WorkerThread(concurrency=2, interval=0.05):
        assert wait_for(lambda: ended(task), timeout=30)
    delivery = delivery_of(task)
    cut_short, answered = delivery.attempt_log.all()
    assert cut_short.number == 1 and "cut short" in cut_short.error
    assert answered.number == 2 and answered.status_code == 200
    assert delivery.state == State.DELIVERED and len(receiver.received) == 1


def test_a_scheduled_attempt_whose_task_was_lost_is_enqueued_again(
    live_server, provider, alice, api_key, receiver, fast_callbacks
):
    task = create_task(alice, api_key, receiver.url, live_server.url + "/")
    job = Generation.objects.get(pk=task.generation_id)
    job.cancel()
    DBTaskResult.objects.filter(task_path=deliver_callback.module_path).delete()
    long_ago = timezone.now() - timezone.timedelta(hours=1)
    CallbackDelivery.objects.filter(task=task).update(next_attempt_at=long_ago)

    assert sweep_callbacks() == 1
    assert sweep_callbacks() == 0  # its new task is waiting: not enqueued twice
    with WorkerThread(concurrency=2, interval=0.05):
        assert wait_for(lambda: ended(task), timeout=30)
        time.sleep(0.3)
    assert len(receiver.received) == 1 and delivery_of(task).state == State.DELIVERED


def test_the_worker_does_not_take_a_callback_task_for_a_job(alice, api_key, catalog):
    task = create_task(alice, api_key, "https://example.com/hook", "http://testserver/")
    Generation.objects.get(pk=task.generation_id).cancel()
    (queued,) = delivery_tasks()
    generation_task = DBTaskResult.objects.exclude(pk=queued.pk).get()
    assert _generation_id(queued) is None
    assert _generation_id(generation_task) == task.generation_id


def test_a_task_without_a_callback_url_has_no_delivery(
    live_server, worker, alice, api_key, fast_callbacks
):
    task = create_task(alice, api_key, "", live_server.url + "/")
    assert wait_for(
        lambda: Generation.objects.get(pk=task.generation_id).state == "succeeded", timeout=30
    )
    time.sleep(0.3)
    assert not CallbackDelivery.objects.exists() and delivery_tasks() == []


def test_a_task_made_through_create_task_calls_back_with_a_working_result_url(
    live_server, worker, alice, receiver, fast_callbacks
):
    key_secret = ApiKey.issue(alice, "script", created_by=alice)[1]
    webhook_secret = new_webhook_secret(alice)
    body = {
        "model": "gpt-image-1.5",
        "callBackUrl": receiver.url,
        "input": {"prompt": "a lighthouse at dusk", "size": "1024x1024", "quality": "low"},
    }
    created = requests.post(
        live_server.url + "/api/v1/jobs/createTask",
        json=body,
        headers={"Authorization": f"Bearer {key_secret}"},
        timeout=20,
    )
    assert created.status_code == 200, created.text
    task_id = created.json()["data"]["taskId"]

    assert wait_for(lambda: len(receiver.received) == 1, timeout=30)
    (request,) = receiver.received
    assert verify_signature(webhook_secret, request)
    data = request.json()["data"]
    assert data["taskId"] == task_id and data["state"] == "success"
    (result_url,) = json.loads(data["resultJson"])["resultUrls"]
    image = requests.get(result_url, timeout=10)
    assert image.status_code == 200 and image.headers["Content-Type"].startswith("image/")
    assert wait_for(
        lambda: CallbackDelivery.objects.get(task__task_id=task_id).state == State.DELIVERED
    )


def sessions_last_reading_secrets() -> int:
    """PostgreSQL sessions other than this one whose last statement read a webhook secret."""
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND query LIKE %s",
                ["%webhooks_webhooksecret%"],
            )
            return cursor.fetchone()[0]
    finally:
        connections.close_all()


def test_no_database_connection_is_held_while_the_receiver_answers(
    live_server, worker, alice, api_key, receiver, fast_callbacks
):
    if connection.vendor != "postgresql":
        pytest.skip("an SQLite connection is an open file, kept for the thread's next write")
    new_webhook_secret(alice)
    receiver.probe = sessions_last_reading_secrets
    task = create_task(alice, api_key, receiver.url, live_server.url + "/")
    assert wait_for(lambda: ended(task), timeout=30)
    # The attempt read the secret, then gave its connection back before posting.
    assert receiver.probed == [0]
