"""The task API (`createTask`, `recordInfo`, result URLs) over loopback HTTP against the ASGI
live server, with a real worker running the jobs on the stand-in upstream."""

import io
import json
import time
from decimal import Decimal
from typing import Any

import pytest
import requests
from django.conf import settings
from django.core import signing
from django.utils import timezone
from PIL import Image as PILImage

from playground.accounts.models import UserBudget
from playground.api.models import ApiTask
from playground.api.task_records import RESULT_SALT
from playground.apikeys.models import ApiKey
from playground.gallery.models import Image
from playground.generations.models import Generation
from playground.webhooks.secrets import new_webhook_secret
from tests.api.conftest import MODEL

pytestmark = pytest.mark.django_db(transaction=True)

CREATE = "/api/v1/jobs/createTask"
RECORD = "/api/v1/jobs/recordInfo"


def task_body(**input_changes: Any) -> dict[str, Any]:
    return {
        "model": MODEL,
        "input": {"prompt": "a lighthouse at dusk", "size": "1024x1024", "quality": "low"}
        | input_changes,
    }


def create(
    live_server: Any, secret: str | None, body: Any, *, raw: bytes | None = None
) -> requests.Response:
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    data = raw if raw is not None else json.dumps(body).encode()
    return requests.post(
        live_server.url + CREATE,
        data=data,
        headers={**headers, "Content-Type": "application/json"},
        timeout=20,
    )


def record(live_server: Any, secret: str, task_id: str) -> requests.Response:
    return requests.get(
        live_server.url + RECORD,
        params={"taskId": task_id},
        headers={"Authorization": f"Bearer {secret}"},
        timeout=10,
    )


def created_task_id(live_server: Any, secret: str, body: dict[str, Any]) -> str:
    response = create(live_server, secret, body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["code"] == 200 and answer["msg"] == "success"
    return answer["data"]["taskId"]


def finished_record(live_server: Any, secret: str, task_id: str) -> dict[str, Any]:
    """recordInfo's `data` once the task succeeded or failed (polled as a program would)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        answer = record(live_server, secret, task_id).json()
        assert answer["code"] == 200, answer
        if answer["data"]["state"] in ("success", "fail"):
            return answer["data"]
        time.sleep(0.05)
    raise AssertionError(f"task {task_id} did not finish")


def result_urls(data: dict[str, Any]) -> list[str]:
    return json.loads(data["resultJson"])["resultUrls"]


def assert_error(response: requests.Response, status: int, msg_start: str) -> str:
    """An error in Kie's shape, with the same HTTP status as its code."""
    assert response.status_code == status, response.text
    answer = response.json()
    assert answer["code"] == status and answer["data"] is None
    assert answer["msg"].startswith(msg_start), answer["msg"]
    return answer["msg"]


def png(size: tuple[int, int], color: str = "red") -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def test_it_creates_a_task_that_runs_to_success_with_its_result_urls(
    live_server, secret, worker, alice
):
    body = task_body()
    task_id = created_task_id(live_server, secret, body)
    assert task_id.startswith("task_")
    task = ApiTask.objects.get(task_id=task_id)
    assert task.param == body and task.api_key.name == "script"
    assert task.base_url == live_server.url + "/"

    data = finished_record(live_server, secret, task_id)
    job = Generation.objects.get(pk=task.generation_id)
    assert data["state"] == "success" and data["taskId"] == task_id and data["model"] == MODEL
    assert json.loads(data["param"]) == body
    assert data["failCode"] == "" and data["failMsg"] == ""
    assert Decimal(data["costUsd"]) == job.actual_usd > 0
    assert data["usage"] == job.usage and data["completeTime"] >= data["createTime"]

    (url,) = result_urls(data)
    assert url.startswith(live_server.url + "/api/v1/results/")
    served = requests.get(url, timeout=10)  # no key: the signed URL is the capability
    (image,) = Image.objects.filter(generation=job, owner=alice)
    with image.file.open("rb") as stored:
        assert served.status_code == 200 and served.content == stored.read()
    assert served.headers["Content-Type"] == "image/png"
    cache_control = served.headers["Cache-Control"]
    assert cache_control.startswith("private, max-age=") and int(cache_control.split("=")[1]) > 0
    again = requests.get(url, headers={"If-None-Match": served.headers["ETag"]}, timeout=10)
    assert again.status_code == 304 and not again.content


def test_a_task_not_yet_started_is_waiting(live_server, secret, provider):
    task_id = created_task_id(live_server, secret, task_body())
    data = record(live_server, secret, task_id).json()["data"]
    assert data["state"] == "waiting"
    assert data["resultJson"] == "" and data["costUsd"] is None and data["completeTime"] is None
    assert Decimal(data["estimatedUsd"]["high"]) > 0


def test_a_moderation_block_ends_in_fail_with_its_code_and_message(
    live_server, secret, worker, upstream
):
    upstream.set_moderation_words(["forbidden"])
    task_id = created_task_id(live_server, secret, task_body(prompt="a forbidden thing"))
    data = finished_record(live_server, secret, task_id)
    assert data["state"] == "fail" and data["failCode"] == "moderation_blocked"
    assert data["failMsg"] and data["resultJson"] == ""


def test_a_missing_or_bad_key_is_401(live_server, provider):
    assert_error(create(live_server, None, task_body()), 401, "Authorization: No API key")
    assert_error(create(live_server, "pk_not-a-real-key-0000", task_body()), 401, "Authorization")
    response = requests.get(live_server.url + RECORD, params={"taskId": "task_x"}, timeout=10)
    assert_error(response, 401, "Authorization")
    assert not ApiTask.objects.exists()


def test_a_key_used_from_outside_its_networks_is_403(live_server, alice, provider):
    _key, secret = ApiKey.issue(alice, "office", created_by=alice, allowed_networks="10.0.0.0/8")
    msg = assert_error(create(live_server, secret, task_body()), 403, "Authorization: ")
    assert "allow-list" in msg
    assert not Generation.objects.exists()


def test_a_key_cap_is_402_with_retry_after(live_server, alice, provider):
    _key, secret = ApiKey.issue(alice, "capped", created_by=alice, cap_usd_per_hour=Decimal("0.01"))
    response = create(live_server, secret, task_body(quality="high"))
    assert "hourly cap" in assert_error(response, 402, "This request could cost")
    assert int(response.headers["Retry-After"]) > 0
    assert not Generation.objects.exists() and not ApiTask.objects.exists()


def test_the_owners_budget_is_402(live_server, alice, secret, provider):
    UserBudget.objects.create(user=alice, monthly_usd=Decimal("0.01"))
    response = create(live_server, secret, task_body(quality="high"))
    assert "monthly budget" in assert_error(response, 402, "")
    assert "Retry-After" not in response.headers
    assert not Generation.objects.exists() and not ApiTask.objects.exists()


def test_an_unknown_model_is_404(live_server, secret, provider):
    response = create(live_server, secret, {**task_body(), "model": "dall-e-9"})
    assert "dall-e-9" in assert_error(response, 404, "model: ")


@pytest.mark.parametrize(
    ("raw", "msg_start"),
    [
        (b"{not json", "body: We could not parse the JSON body"),
        (b"\xff\xfe not utf-8", "body: We could not parse the JSON body"),
        (b"[]", "body: The request body must be a JSON object"),
        (b"null", "body: The request body must be a JSON object"),
        (b'{"input": {"prompt": "a cat"}}', "model: Missing required parameter"),
        (b'{"model": 5, "input": {"prompt": "a cat"}}', "model: Invalid type"),
        (b'{"model": "gpt-image-1.5"}', "input: Missing required parameter"),
        (b'{"model": "gpt-image-1.5", "input": "a cat"}', "input: Invalid type"),
        (b'{"model": "gpt-image-1.5", "colour": 1, "input": {"prompt": "a"}}', "colour: Unknown"),
        (b'{"model": "gpt-image-1.5", "callBackUrl": 7, "input": {}}', "callBackUrl: Invalid type"),
    ],
)
def test_malformed_bodies_are_422_naming_the_field(live_server, secret, provider, raw, msg_start):
    assert_error(create(live_server, secret, None, raw=raw), 422, msg_start)
    assert not Generation.objects.exists()


@pytest.mark.parametrize(
    ("changes", "msg_start"),
    [
        ({"size": "13x7"}, "input.size: "),
        ({"size": "99999999999999999999x1024"}, "input.size: "),
        ({"quality": "ultra"}, "input.quality: "),
        ({"n": 99}, "input.n: "),
        ({"n": "three"}, "input.n: Invalid type"),
        ({"n": True}, "input.n: Invalid type"),
        ({"n": 1.5}, "input.n: Invalid type"),
        ({"prompt": ""}, "input.prompt: "),
        ({"prompt": {"text": "a cat"}}, "input.prompt: Invalid type"),
        ({"prompt": "x" * 40_000}, "input.prompt: "),
        ({"colour": "red"}, "input.colour: Unknown parameter"),
        ({"output_compression": 50}, "input.output_compression: "),
        ({"output_format": "jpeg", "background": "transparent"}, "input.background: "),
        ({"input_urls": "http://example.com/a.png"}, "input.input_urls: Invalid type"),
        ({"input_urls": [7]}, "input.input_urls[0]: Invalid type"),
        (
            {"input_urls": ["data:,x"] * 17},
            "input.input_urls: Invalid 'input.input_urls': array too long",
        ),
        ({"mask_url": 5}, "input.mask_url: Invalid type"),
    ],
)
def test_bad_inputs_are_422_naming_the_field(live_server, secret, provider, changes, msg_start):
    assert_error(create(live_server, secret, task_body(**changes)), 422, msg_start)
    assert not Generation.objects.exists() and not ApiTask.objects.exists()


def test_a_whole_number_written_as_a_float_is_taken(live_server, secret, provider):
    response = create(live_server, secret, task_body(n=2.0))
    assert response.status_code == 200, response.text
    assert Generation.objects.get().params["n"] == 2


def test_the_wrong_method_is_405_in_kies_shape(live_server, secret, provider):
    response = requests.get(
        live_server.url + CREATE, headers={"Authorization": f"Bearer {secret}"}, timeout=10
    )
    assert_error(response, 405, "method: use POST")
    assert response.headers["Allow"] == "POST"
    response = requests.post(live_server.url + RECORD, timeout=10)
    assert_error(response, 405, "method: use GET")


def test_a_callback_url_must_be_public_and_needs_a_webhook_secret(
    live_server, secret, provider, alice, settings
):
    callback = "http://127.0.0.1:9/hook"
    msg = assert_error(
        create(live_server, secret, {**task_body(), "callBackUrl": callback}), 422, "callBackUrl: "
    )
    assert "loopback" in msg
    assert_error(
        create(live_server, secret, {**task_body(), "callBackUrl": "ftp://example.com/x"}),
        422,
        "callBackUrl: Only http and https",
    )
    settings.API_ALLOW_PRIVATE_URLS = True
    assert_error(
        create(live_server, secret, {**task_body(), "callBackUrl": callback}),
        422,
        "callBackUrl: create a webhook secret first at /account/webhooks/",
    )
    assert not Generation.objects.exists()
    new_webhook_secret(alice)
    task_id = created_task_id(live_server, secret, {**task_body(), "callBackUrl": callback})
    assert ApiTask.objects.get(task_id=task_id).callback_url == callback


def test_another_users_or_an_unknown_task_is_404(live_server, secret, provider, bob):
    task_id = created_task_id(live_server, secret, task_body())
    _key, bobs_secret = ApiKey.issue(bob, "bobs", created_by=bob)
    for who, asked in ((bobs_secret, task_id), (secret, "task_" + "0" * 32)):
        response = record(live_server, who, asked)
        assert response.status_code == 404
        assert response.json() == {"code": 404, "msg": "taskId: no such task", "data": None}
    response = requests.get(
        live_server.url + RECORD, headers={"Authorization": f"Bearer {secret}"}, timeout=10
    )
    assert_error(response, 422, "taskId: required")


@pytest.mark.parametrize(
    "task_id",
    [
        "task_" + "a" * 10_000,
        "täsk_💥",
        "task_1' OR '1'='1",
        "'; DROP TABLE api_apitask; --",
        "task_\x00" + "0" * 31,
        "TASK_" + "A" * 32,
    ],
)
def test_hostile_task_ids_are_4xx(live_server, secret, provider, task_id):
    created_task_id(live_server, secret, task_body())
    response = record(live_server, secret, task_id)
    assert 400 <= response.status_code < 500, response.text
    if response.headers["Content-Type"] == "application/json":  # a NUL is refused earlier
        assert response.json()["code"] == response.status_code
    assert ApiTask.objects.count() == 1


def old_token(image_id: int) -> str:
    """A result token signed longer ago than result URLs live."""

    class Earlier(signing.TimestampSigner):
        def timestamp(self) -> str:
            return signing.b62_encode(int(time.time()) - settings.API_RESULT_URL_SECONDS - 60)

    return Earlier(salt=RESULT_SALT).sign_object({"image": image_id}, compress=False)


def test_result_urls_are_checked_on_every_request(live_server, secret, worker, alice):
    task_id = created_task_id(live_server, secret, task_body())
    (url,) = result_urls(finished_record(live_server, secret, task_id))
    image = Image.objects.get()
    assert requests.get(url, timeout=10).status_code == 200

    token = url.rsplit("/", 1)[1]
    tampered = url[: -len(token)] + token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert_error(requests.get(tampered, timeout=10), 404, "result: no such result")
    assert_error(
        requests.get(live_server.url + "/api/v1/results/" + "x" * 3000, timeout=10), 404, "result"
    )
    expired = url[: -len(token)] + old_token(image.pk)
    assert_error(requests.get(expired, timeout=10), 410, "result: this result URL has expired")

    alice.is_active = False
    alice.save(update_fields=["is_active"])
    assert_error(requests.get(url, timeout=10), 404, "result")
    alice.is_active = True
    alice.save(update_fields=["is_active"])
    assert requests.get(url, timeout=10).status_code == 200

    ApiKey.objects.get().revoke()
    assert_error(requests.get(url, timeout=10), 404, "result")


def test_a_deleted_jobs_result_url_is_404(live_server, secret, worker):
    task_id = created_task_id(live_server, secret, task_body())
    (url,) = result_urls(finished_record(live_server, secret, task_id))
    Generation.objects.update(deleted_at=timezone.now())
    assert_error(requests.get(url, timeout=10), 404, "result")
