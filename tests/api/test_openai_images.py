"""The Images API endpoints through the official `openai` SDK, against the ASGI live server,
with a real worker running the jobs on the stand-in upstream."""

import base64
import io
import json
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import openai
import pytest
from django.test.utils import override_settings
from PIL import Image as PILImage

from playground.accounts.models import UserBudget
from playground.apikeys.models import ApiKey
from playground.gallery.models import Image
from playground.generations.models import Generation
from tests.api.conftest import MODEL, client_for
from tests.workers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def png(size: tuple[int, int], color: str = "red", mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    PILImage.new(mode, size, color).save(out, "PNG")
    return out.getvalue()


def mask_png(size: tuple[int, int]) -> bytes:
    mask = PILImage.new("RGBA", size, (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (10, 10, 60, 60))
    out = io.BytesIO()
    mask.save(out, "PNG")
    return out.getvalue()


def error_of(raised: pytest.ExceptionInfo[openai.APIStatusError]) -> dict[str, Any]:
    return raised.value.response.json()["error"]


def test_it_generates_an_image_into_the_owners_gallery(live_server, secret, worker, alice):
    result = client_for(live_server, secret).images.generate(
        model=MODEL, prompt="a lighthouse at dusk", size="1024x1024", quality="low"
    )
    job = Generation.objects.get()
    assert job.owner == alice and job.api_key.name == "script"
    assert job.state == "succeeded" and job.actual_usd and job.actual_usd > 0
    (image,) = Image.objects.filter(generation=job)
    with image.file.open("rb") as stored:
        assert base64.b64decode(result.data[0].b64_json) == stored.read()
    assert result.size == "1024x1024" and result.quality == "low"
    assert result.output_format == "png"
    assert result.usage is not None and result.usage.total_tokens == job.usage["total_tokens"]


def test_it_edits_with_two_images_and_a_mask(live_server, secret, worker, upstream):
    result = client_for(live_server, secret).images.edit(
        model=MODEL,
        prompt="put a hat on it",
        image=[("first.png", png((640, 480)), "image/png"), ("second.png", png((300, 300)))],
        mask=("mask.png", mask_png((640, 480)), "image/png"),
        size="1024x1024",
        quality="low",
    )
    job = Generation.objects.get()
    assert job.operation == "edit" and job.state == "succeeded"
    assert job.inputs.count() == 2 and job.mask is not None
    sent = upstream.requests[-1]
    assert sent["path"].endswith("/images/edits")
    assert sent["image_sizes"] == [[640, 480], [300, 300]]
    assert sent["mask_size"] == [640, 480]
    assert len(result.data) == 1 and result.data[0].b64_json


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"size": "13x7"}, "size"),
        ({"quality": "ultra"}, "quality"),
        ({"n": 99}, "n"),
        ({"prompt": ""}, "prompt"),
        ({"response_format": "url"}, "response_format"),
        ({"colour": "red"}, "colour"),
        ({"output_format": "jpeg", "background": "transparent"}, "background"),
    ],
)
def test_bad_parameters_are_400_naming_the_param(live_server, secret, provider, body, param):
    with pytest.raises(openai.BadRequestError) as raised:
        client_for(live_server, secret).images.generate(
            model=MODEL, prompt="a cat", extra_body=body
        )
    error = error_of(raised)
    assert error["param"] == param and error["type"] == "invalid_request_error"
    assert error["message"]
    assert not Generation.objects.exists()


def raw_request(
    url: str, secret: str, method: str, body: bytes | None = None
) -> tuple[int, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_malformed_json_and_wrong_method_answer_json(live_server, secret, provider):
    url = live_server.url + "/v1/images/generations"
    status, body = raw_request(url, secret, "POST", b"{not json")
    assert status == 400 and "JSON" in body["error"]["message"]
    status, body = raw_request(url, secret, "GET")
    assert status == 405 and body["error"]["code"] == "method_not_allowed"


def test_a_bad_key_is_401(live_server, provider):
    with pytest.raises(openai.AuthenticationError) as raised:
        client_for(live_server, "pk_not-a-real-key-0000000000").images.generate(
            model=MODEL, prompt="a cat"
        )
    assert error_of(raised)["code"] == "invalid_api_key"


def test_a_key_used_from_outside_its_networks_is_403(live_server, alice, provider):
    _key, secret = ApiKey.issue(alice, "office", created_by=alice, allowed_networks="10.0.0.0/8")
    with pytest.raises(openai.PermissionDeniedError) as raised:
        client_for(live_server, secret).images.generate(model=MODEL, prompt="a cat")
    assert error_of(raised)["code"] == "address_not_allowed"


def test_an_unknown_model_is_404(live_server, secret, provider):
    with pytest.raises(openai.NotFoundError) as raised:
        client_for(live_server, secret).images.generate(model="dall-e-9", prompt="a cat")
    error = error_of(raised)
    assert error["code"] == "model_not_found" and error["param"] == "model"


def test_a_key_cap_is_429_with_retry_after(live_server, alice, provider):
    _key, secret = ApiKey.issue(alice, "capped", created_by=alice, cap_usd_per_hour=Decimal("0.01"))
    with pytest.raises(openai.RateLimitError) as raised:
        client_for(live_server, secret).images.generate(model=MODEL, prompt="a cat", quality="high")
    assert int(raised.value.response.headers["Retry-After"]) > 0
    assert error_of(raised)["code"] == "insufficient_quota"
    assert not Generation.objects.exists()


def test_the_owners_budget_is_429_insufficient_quota(live_server, alice, secret, provider):
    UserBudget.objects.create(user=alice, monthly_usd=Decimal("0.01"))
    with pytest.raises(openai.RateLimitError) as raised:
        client_for(live_server, secret).images.generate(model=MODEL, prompt="a cat", quality="high")
    headers = raised.value.response.headers
    # The money is back when the month turns or an admin raises the budget: no moment to retry.
    assert "Retry-After" not in headers
    assert "x-request-id" in headers
    error = error_of(raised)
    assert (error["code"], error["type"]) == ("insufficient_quota", "insufficient_quota")
    assert "monthly budget" in error["message"]
    assert not Generation.objects.exists()


def test_a_moderation_block_is_400_moderation_blocked(live_server, secret, worker, upstream):
    upstream.set_moderation_words(["forbidden"])
    with pytest.raises(openai.BadRequestError) as raised:
        client_for(live_server, secret).images.generate(model=MODEL, prompt="a forbidden thing")
    assert error_of(raised)["code"] == "moderation_blocked"
    assert Generation.objects.get().state == "failed"


def test_an_idempotency_key_queues_one_job(live_server, secret, worker):
    client = client_for(live_server, secret)
    same = {"Idempotency-Key": "order-42"}
    first = client.images.generate(model=MODEL, prompt="a cat", extra_headers=same)
    second = client.images.generate(model=MODEL, prompt="a cat", extra_headers=same)
    assert Generation.objects.count() == 1
    assert first.data[0].b64_json == second.data[0].b64_json
    with pytest.raises(openai.APIStatusError) as raised:
        client.images.generate(model=MODEL, prompt="a dog", extra_headers=same)
    assert raised.value.status_code in (400, 422)
    assert error_of(raised)["param"] == "Idempotency-Key"
    assert Generation.objects.count() == 1


def test_a_client_that_hangs_up_does_not_cancel_its_job(live_server, secret, worker, upstream):
    upstream.set_latency(3)
    with pytest.raises(openai.APITimeoutError):
        client_for(live_server, secret, timeout=1.0).images.generate(model=MODEL, prompt="a cat")
    job = Generation.objects.get()
    assert wait_for(lambda: Generation.objects.get(pk=job.pk).state == "succeeded", timeout=20)
    assert Image.objects.filter(generation=job, owner=job.owner).count() == 1


def test_a_wait_past_its_bound_is_504_naming_the_job(live_server, secret, worker, upstream):
    upstream.set_latency(3)
    with override_settings(API_WAIT_SECONDS=0.5), pytest.raises(openai.APIStatusError) as raised:
        client_for(live_server, secret).images.generate(model=MODEL, prompt="a cat")
    job = Generation.objects.get()
    assert raised.value.status_code == 504
    assert error_of(raised)["job_id"] == job.pk and str(job.pk) in error_of(raised)["message"]
    assert wait_for(lambda: Generation.objects.get(pk=job.pk).state == "succeeded", timeout=20)


def test_concurrent_requests_with_one_idempotency_key_queue_one_job(
    live_server, secret, worker, upstream
):
    upstream.set_latency(1)
    client = client_for(live_server, secret)
    same = {"Idempotency-Key": "burst-7"}
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(
            pool.map(
                lambda _: client.images.generate(model=MODEL, prompt="a cat", extra_headers=same),
                range(4),
            )
        )
    assert Generation.objects.count() == 1
    assert len({result.data[0].b64_json for result in results}) == 1


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b'"a cat"',
        b"null",
        b'{"prompt": "a cat", "n": "three"}',
        b'{"prompt": "a cat", "n": true}',
        b'{"prompt": "a cat", "n": 1.5}',
        b'{"prompt": {"text": "a cat"}}',
        b'{"prompt": "a cat", "model": 5}',
        b'{"prompt": "a cat", "stream": "maybe"}',
        b'{"prompt": "a cat", "output_format": "jpeg", "output_compression": 101}',
        b'{"prompt": "' + b"x" * 40_000 + b'"}',
        b'{"prompt": "a cat", "size": "99999999999999999999x1024"}',
        b"\xff\xfe not utf-8",
    ],
)
def test_hostile_bodies_are_400_in_openais_shape(live_server, secret, provider, body):
    status, answer = raw_request(live_server.url + "/v1/images/generations", secret, "POST", body)
    assert status == 400, answer
    assert answer["error"]["type"] == "invalid_request_error" and answer["error"]["message"]
    assert not Generation.objects.exists()


def test_a_whole_number_written_as_a_float_is_taken(live_server, secret, worker):
    body = b'{"prompt": "a cat", "n": 2.0, "quality": "low", "size": "1024x1024"}'
    status, answer = raw_request(live_server.url + "/v1/images/generations", secret, "POST", body)
    assert status == 200, answer
    assert len(answer["data"]) == 2
    assert Generation.objects.get().params["n"] == 2


def test_an_edit_that_is_not_multipart_is_400(live_server, secret, provider):
    status, answer = raw_request(
        live_server.url + "/v1/images/edits", secret, "POST", b'{"prompt": "a cat"}'
    )
    assert status == 400 and "multipart" in answer["error"]["message"]


def test_image_answers_are_not_gzipped_but_other_json_is(live_server, secret, worker):
    import httpx2

    headers = {"Authorization": f"Bearer {secret}", "Accept-Encoding": "gzip"}
    body = {"model": MODEL, "prompt": "a kite", "quality": "low", "size": "1024x1024"}
    url = live_server.url + "/v1/images/generations"
    answer = httpx2.post(url, json=body, headers=headers, timeout=30)
    assert answer.status_code == 200
    assert "content-encoding" not in answer.headers  # base64 of a PNG barely shrinks
    assert answer.json()["data"][0]["b64_json"]
    document = httpx2.get(live_server.url + "/api/openapi.json", headers=headers, timeout=30)
    assert document.headers["content-encoding"] == "gzip"  # other JSON still is
