"""Request rate limits of the API, per key and per user, through the official `openai` SDK
against the ASGI live server; the counters are rows every web process shares."""

import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import openai
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.db.models import F

from playground.api.models import RateLimitWindow
from playground.api.rate_limits import (
    RateLimited,
    check_rate,
    forget_old_windows,
    parse_rate,
)
from playground.apikeys.models import ApiKey
from playground.generations.models import Generation
from tests.api.conftest import MODEL, client_for

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def not_at_the_end_of_an_hour() -> None:
    """The tests count in hourly windows; one turning mid-test would reset the counts."""
    left = 3600 - time.time() % 3600
    if left < 10:
        time.sleep(left + 0.1)


def generate(client: openai.OpenAI) -> Any:
    """A request that queues a job; the raw response, for its headers."""
    return client.images.with_raw_response.generate(model=MODEL, prompt="a cat", quality="low")


def refused(client: openai.OpenAI) -> openai.RateLimitError:
    with pytest.raises(openai.RateLimitError) as raised:
        generate(client)
    return raised.value


def test_over_the_per_key_limit_is_429_with_retry_after_and_queues_nothing(
    live_server, secret, worker, settings
):
    settings.API_RATE_LIMIT_PER_KEY = "2/hour"
    client = client_for(live_server, secret)
    first, second = generate(client), generate(client)
    assert first.parse().data[0].b64_json
    assert first.headers["x-ratelimit-limit-requests"] == "2"
    assert first.headers["x-ratelimit-remaining-requests"] == "1"
    assert second.headers["x-ratelimit-remaining-requests"] == "0"
    assert second.headers["x-ratelimit-reset-requests"].endswith("s")

    for _ in range(3):
        error = refused(client)
    response = error.response
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 3600
    assert response.headers["x-ratelimit-limit-requests"] == "2"
    assert response.headers["x-ratelimit-remaining-requests"] == "0"
    body = response.json()["error"]
    assert body["type"] == "requests" and body["code"] == "rate_limit_exceeded"
    assert "2 requests per hour" in body["message"] and "per-key" in body["message"]
    assert "Try again in" in body["message"] and secret not in body["message"]
    assert Generation.objects.count() == 2
    # The refused requests were not counted: the window holds the two that went through.
    assert RateLimitWindow.objects.get(counter__startswith="key:").count == 2


def test_the_per_user_limit_counts_all_of_a_users_keys(live_server, alice, bob, worker, settings):
    settings.API_RATE_LIMIT_PER_KEY = "5/hour"
    settings.API_RATE_LIMIT_PER_USER = "3/hour"
    first = client_for(live_server, ApiKey.issue(alice, "first", created_by=alice)[1])
    other = client_for(live_server, ApiKey.issue(alice, "other", created_by=alice)[1])
    generate(first), generate(first)
    last = generate(other)
    # The per-user limit is the nearer one: the headers tell it.
    assert last.headers["x-ratelimit-limit-requests"] == "3"
    assert last.headers["x-ratelimit-remaining-requests"] == "0"

    for client in (other, first):
        error = refused(client)
        message = error.response.json()["error"]["message"]
        assert "per-user" in message and "all of its API keys" in message
        assert error.response.headers["x-ratelimit-limit-requests"] == "3"
    assert Generation.objects.filter(owner=alice).count() == 3
    # Another user's keys are not held back by alice's.
    bobs = client_for(live_server, ApiKey.issue(bob, "bobs", created_by=bob)[1])
    assert generate(bobs).headers["x-ratelimit-remaining-requests"] == "2"


def test_a_new_window_lets_requests_through_and_old_windows_are_forgotten(
    live_server, secret, worker, settings
):
    settings.API_RATE_LIMIT_PER_KEY = "1/hour"
    settings.API_RATE_LIMIT_PER_USER = "0"
    client = client_for(live_server, secret)
    generate(client)
    refused(client)
    # An hour passes for the counters.
    RateLimitWindow.objects.update(window_start=F("window_start") - timedelta(hours=1))
    assert generate(client).headers["x-ratelimit-remaining-requests"] == "0"
    assert Generation.objects.count() == 2
    assert forget_old_windows() == 1
    assert RateLimitWindow.objects.get().count == 1


def test_a_per_second_limit_frees_up_in_the_next_second(alice, settings):
    settings.API_RATE_LIMIT_PER_KEY = "2/second"
    settings.API_RATE_LIMIT_PER_USER = ""
    key, _secret = ApiKey.issue(alice, "fast", created_by=alice)
    time.sleep(1 - time.time() % 1)  # the start of a second, so all three fall in it
    assert check_rate(key, "queue").remaining == 1
    assert check_rate(key, "queue").remaining == 0
    with pytest.raises(RateLimited) as raised:
        check_rate(key, "queue")
    assert raised.value.retry_after_seconds == 1 and raised.value.scope == "key"
    time.sleep(1 - time.time() % 1 + 0.01)
    assert check_rate(key, "queue").remaining == 1


def test_reads_have_their_own_limit(alice, settings):
    settings.API_READ_RATE_LIMIT_PER_KEY = "2/hour"
    key, _secret = ApiKey.issue(alice, "reader", created_by=alice)
    check_rate(key, "read"), check_rate(key, "read")
    with pytest.raises(RateLimited) as raised:
        check_rate(key, "read")
    refusal = raised.value
    assert refusal.status == 429 and refusal.code == "rate_limit_exceeded"
    headers = refusal.all_headers()
    assert headers["Retry-After"] == str(refusal.retry_after_seconds)
    assert headers["x-ratelimit-limit-requests"] == "2"
    assert "2 requests per hour" in refusal.message
    assert check_rate(key, "queue").limit is not None  # queueing counts apart from reading


def test_twenty_concurrent_requests_with_a_limit_of_five_queue_five(
    live_server, secret, worker, settings
):
    settings.API_RATE_LIMIT_PER_KEY = "5/hour"
    start = threading.Barrier(20)

    def one_request(_: int) -> int:
        client = client_for(live_server, secret)
        start.wait()
        try:
            return generate(client).http_response.status_code
        except openai.APIStatusError as error:
            return error.status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = sorted(pool.map(one_request, range(20)))
    assert statuses == [200] * 5 + [429] * 15
    assert Generation.objects.count() == 5
    assert RateLimitWindow.objects.get(counter__startswith="key:").count == 5


def test_twenty_threads_counting_at_once_let_exactly_five_through(alice, settings):
    settings.API_RATE_LIMIT_PER_KEY = "5/hour"
    key, _secret = ApiKey.issue(alice, "burst", created_by=alice)
    start = threading.Barrier(20)

    def count_one(_: int) -> bool:
        start.wait()
        try:
            check_rate(key, "queue")
            return True
        except RateLimited:
            return False
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=20) as pool:
        accepted = list(pool.map(count_one, range(20)))
    assert accepted.count(True) == 5
    assert RateLimitWindow.objects.get(counter__startswith="key:").count == 5


def test_failed_authentication_is_not_counted(live_server, provider):
    with pytest.raises(openai.AuthenticationError):
        generate(client_for(live_server, "pk_not-a-real-key-0000000000"))
    assert not RateLimitWindow.objects.exists()


def test_the_defaults_leave_room_and_stream_with_the_headers(live_server, secret, worker):
    client = client_for(live_server, secret)
    with client.images.with_streaming_response.generate(
        model=MODEL, prompt="a cat", stream=True, partial_images=1
    ) as response:
        assert response.headers["x-ratelimit-limit-requests"] == "60"
        assert response.headers["x-ratelimit-remaining-requests"] == "59"
        assert b"image_generation.completed" in response.read()


@pytest.mark.parametrize(
    ("value", "expected"),
    [("60/minute", (60, 60)), (" 5 / Second ", (5, 1)), ("1/hour", (1, 3600)), ("0", None)],
)
def test_good_rate_values_parse(value, expected):
    rate = parse_rate("API_RATE_LIMIT_PER_KEY", value)
    assert (rate and (rate.limit, rate.period)) == expected


@pytest.mark.parametrize("value", ["60", "60/fortnight", "-1/minute", "0/minute", "lots"])
def test_a_bad_rate_value_names_the_setting(value):
    with pytest.raises(ImproperlyConfigured, match="API_RATE_LIMIT_PER_USER") as raised:
        parse_rate("API_RATE_LIMIT_PER_USER", value)
    assert repr(value) in str(raised.value)


def test_a_bad_setting_stops_the_process_at_startup(tmp_path):
    env = {**os.environ, "API_RATE_LIMIT_PER_KEY": "10/fortnight", "DATA_DIR": str(tmp_path)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured: API_RATE_LIMIT_PER_KEY='10/fortnight'" in result.stderr


def test_a_bad_setting_changed_at_runtime_is_named(alice, settings):
    settings.API_READ_RATE_LIMIT_PER_KEY = "lots"
    key, _secret = ApiKey.issue(alice, "reader", created_by=alice)
    with pytest.raises(ImproperlyConfigured, match="API_READ_RATE_LIMIT_PER_KEY"):
        check_rate(key, "read")


@pytest.mark.parametrize("stream", [None, False])
def test_partial_images_without_stream_is_400(live_server, secret, provider, stream):
    extra = {} if stream is None else {"stream": stream}
    with pytest.raises(openai.BadRequestError) as raised:
        client_for(live_server, secret).images.generate(
            model=MODEL, prompt="a cat", partial_images=2, extra_body=extra
        )
    error = raised.value.response.json()["error"]
    assert (error["param"], error["code"]) == ("partial_images", "invalid_value")
    assert "only supported when 'stream' is true" in error["message"]
    assert not Generation.objects.exists()


def test_partial_images_0_without_stream_is_taken_as_the_spec_says(
    live_server, secret, provider, worker
):
    answer = client_for(live_server, secret).images.generate(
        model=MODEL, prompt="a cat", partial_images=0, size="1024x1024", quality="low"
    )
    assert len(answer.data) == 1
    assert Generation.objects.get().params.get("partial_images") is None


# ---------------------------------------------------------------- the task API


def test_the_task_api_counts_against_the_same_limits_in_its_own_shape(
    live_server, secret, provider, settings
):
    import requests

    settings.API_RATE_LIMIT_PER_KEY = "1/hour"
    settings.API_READ_RATE_LIMIT_PER_KEY = "1/hour"
    headers = {"Authorization": f"Bearer {secret}"}
    body = {"model": MODEL, "input": {"prompt": "a kite", "quality": "low", "size": "1024x1024"}}
    url = live_server.url + "/api/v1/jobs/"
    first = requests.post(url + "createTask", json=body, headers=headers, timeout=30)
    assert first.status_code == 200
    assert first.headers["x-ratelimit-remaining-requests"] == "0"
    task_id = first.json()["data"]["taskId"]

    second = requests.post(url + "createTask", json=body, headers=headers, timeout=30)
    assert second.status_code == 429
    assert second.json()["code"] == 429 and "per-key limit" in second.json()["msg"]
    assert int(second.headers["Retry-After"]) > 0
    assert Generation.objects.count() == 1  # the refused task queued nothing

    params = {"taskId": task_id}
    assert requests.get(url + "recordInfo", params=params, headers=headers, timeout=30).ok
    again = requests.get(url + "recordInfo", params=params, headers=headers, timeout=30)
    assert again.status_code == 429 and again.json()["data"] is None
    assert int(again.headers["Retry-After"]) > 0
