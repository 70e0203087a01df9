"""The `/v1` endpoints on the wire as OpenAI's: request ids, unknown URLs, streamed refusals,
moderation details, usage details and mask sizes, through the official `openai` SDK against
the ASGI live server, with a real worker running the jobs on the stand-in upstream."""

import io
import re
from typing import Any

import httpx2
import openai
import pytest
from django.urls import Resolver404, resolve
from PIL import Image as PILImage

from playground.api import openai_views
from playground.generations.models import Generation
from tests.api.conftest import MODEL, client_for
from tests.api.test_openai_images import mask_png, png

pytestmark = pytest.mark.django_db(transaction=True)

REQUEST_ID = re.compile(r"req_[0-9a-f]{32}")
BLOCKED = {"moderation_stage": "input", "categories": ["blocklist"]}


def black_and_white_mask(size: tuple[int, int], fmt: str = "PNG", turn: int = 1) -> bytes:
    """White marks the area to edit; `turn` is an EXIF orientation (6: shown a quarter turned)."""
    mask = PILImage.new("L", size, 0)
    mask.paste(255, (10, 10, 60, 60))
    exif = PILImage.Exif()
    if turn != 1:
        exif[0x0112] = turn
    out = io.BytesIO()
    mask.save(out, fmt, exif=exif.tobytes())
    return out.getvalue()


def error_of(raised: pytest.ExceptionInfo[openai.APIStatusError]) -> dict[str, Any]:
    return raised.value.response.json()["error"]


# -- x-request-id ---------------------------------------------------------------------------


def test_it_gives_every_answer_a_fresh_request_id(live_server, secret, worker):
    client = client_for(live_server, secret)
    ids = []
    for _ in range(2):
        raw = client.images.with_raw_response.generate(
            model=MODEL, prompt="a cat", quality="low", size="1024x1024"
        )
        assert raw.parse().data
        ids.append(raw.headers["x-request-id"])
    with pytest.raises(openai.BadRequestError) as bad:
        client.images.generate(model=MODEL, prompt="a cat", size="13x7")
    ids.append(bad.value.request_id)
    with pytest.raises(openai.AuthenticationError) as unauthorised:
        client_for(live_server, "pk_not-a-real-key-0000000000").images.generate(
            model=MODEL, prompt="a cat"
        )
    ids.append(unauthorised.value.request_id)
    assert all(REQUEST_ID.fullmatch(request_id or "") for request_id in ids), ids
    assert len(set(ids)) == len(ids)


def test_pages_outside_the_api_carry_no_request_id(live_server):
    answer = httpx2.get(live_server.url + "/healthz", timeout=10)
    assert answer.status_code == 200 and "x-request-id" not in answer.headers


# -- unknown URLs and methods ---------------------------------------------------------------


def test_an_endpoint_it_does_not_serve_is_openais_json_404(live_server, secret, provider):
    client = client_for(live_server, secret)
    with pytest.raises(openai.NotFoundError) as raised:
        client.post("/images/variations", cast_to=object, body={"n": 1})
    assert raised.value.response.json() == {
        "error": {
            "message": "Invalid URL (POST /v1/images/variations)",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    }
    assert REQUEST_ID.fullmatch(raised.value.request_id or "")
    with pytest.raises(openai.NotFoundError) as listed:
        client.models.list()
    assert error_of(listed)["message"] == "Invalid URL (GET /v1/models)"


@pytest.mark.parametrize("path", ["/v1/foo/bar", "/v1/", "/v1"])
def test_an_unknown_path_needs_no_csrf_token_and_no_key(live_server, path):
    answer = httpx2.delete(live_server.url + path + "?x=1", timeout=10)
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["error"]["message"] == f"Invalid URL (DELETE {path})"
    assert REQUEST_ID.fullmatch(answer.headers["x-request-id"])


def test_a_wrong_method_is_a_json_405(live_server, secret, provider):
    with pytest.raises(openai.APIStatusError) as raised:
        client_for(live_server, secret).get("/images/generations", cast_to=object)
    assert raised.value.status_code == 405
    assert raised.value.response.headers["Allow"] == "POST"
    assert error_of(raised)["type"] == "invalid_request_error"
    assert REQUEST_ID.fullmatch(raised.value.request_id or "")


def test_the_catch_all_shadows_no_route():
    assert resolve("/v1/images/generations").func is openai_views.image_generations
    assert resolve("/v1/images/edits").func is openai_views.image_edits
    assert resolve("/v1/images/edits/").url_name == "openai-invalid-url"
    assert resolve("/api/v1/jobs/createTask").url_name == "api-create-task"
    with pytest.raises(Resolver404):
        resolve("/v1foo")


# -- moderation blocks ----------------------------------------------------------------------


def test_a_block_keeps_the_upstreams_moderation_details(live_server, secret, worker, upstream):
    upstream.set_moderation_words(["forbidden"])
    with pytest.raises(openai.BadRequestError) as raised:
        client_for(live_server, secret).images.generate(model=MODEL, prompt="a forbidden thing")
    error = error_of(raised)
    assert (error["type"], error["code"]) == ("image_generation_user_error", "moderation_blocked")
    assert error["moderation_details"] == BLOCKED
    job = Generation.objects.get()
    assert job.error_details == {"moderation_details": BLOCKED}
    assert "sk-test-key" not in str(job.error_details)


def test_an_edit_stream_refused_before_any_event_is_a_real_400(
    live_server, secret, worker, upstream
):
    upstream.set_moderation_words(["forbidden"])
    with pytest.raises(openai.BadRequestError) as raised:
        client_for(live_server, secret).images.edit(
            model=MODEL,
            prompt="make it forbidden",
            image=("first.png", png((320, 240)), "image/png"),
            stream=True,
        )
    assert error_of(raised)["code"] == "moderation_blocked"


def test_a_stream_that_has_started_sends_its_events(live_server, secret, worker, upstream):
    upstream.set_latency(0.6)
    raw = client_for(live_server, secret).images.with_raw_response.generate(
        model=MODEL, prompt="a kite", quality="low", stream=True, partial_images=1
    )
    assert raw.status_code == 200 and raw.headers["content-type"].startswith("text/event-stream")
    assert REQUEST_ID.fullmatch(raw.headers["x-request-id"])
    events = list(raw.parse())
    assert [event.type for event in events] == [
        "image_generation.partial_image",
        "image_generation.completed",
    ]


# -- usage ----------------------------------------------------------------------------------


def test_usage_details_are_given_as_openai_gives_them(live_server, secret, worker):
    client = client_for(live_server, secret)
    result = client.images.generate(model=MODEL, prompt="a cat", quality="low", size="1024x1024")
    assert result.usage is not None and result.usage.output_tokens_details is not None
    assert result.usage.output_tokens_details.image_tokens == result.usage.output_tokens
    assert result.usage.output_tokens_details.text_tokens == 0
    # Live previews: the job streams from upstream too, whose events carry the usage.
    events = list(
        client.images.generate(
            model=MODEL, prompt="a dog", quality="low", stream=True, partial_images=1
        )
    )
    job = Generation.objects.get(prompt="a dog")
    assert job.usage["output_tokens_details"]["image_tokens"] == job.usage["output_tokens"]
    usage = events[-1].usage.model_dump()
    assert usage["output_tokens_details"] == {
        "image_tokens": usage["output_tokens"],
        "text_tokens": 0,
    }


def test_a_usage_without_output_details_omits_them_rather_than_null(live_server, secret, worker):
    url = live_server.url + "/v1/images/generations"
    headers = {"Authorization": f"Bearer {secret}", "Idempotency-Key": "usage-1"}
    body = {"model": MODEL, "prompt": "a cat", "quality": "low", "size": "1024x1024"}
    assert httpx2.post(url, json=body, headers=headers, timeout=30).status_code == 200
    job = Generation.objects.get()
    # As a job stored them before: the SDK's dump of a usage without output details.
    job.usage = {**job.usage, "output_tokens_details": None}
    job.save(update_fields=["usage"])
    answer = httpx2.post(url, json=body, headers=headers, timeout=30).json()
    assert answer["usage"]["output_tokens"] == job.usage["output_tokens"]
    assert "output_tokens_details" not in answer["usage"]


# -- mask sizes -----------------------------------------------------------------------------


def test_a_mask_of_another_size_is_refused_naming_both_sizes(live_server, secret, upstream, worker):
    with pytest.raises(openai.BadRequestError) as raised:
        client_for(live_server, secret).images.edit(
            model=MODEL,
            prompt="put a hat on it",
            image=("first.png", png((640, 480)), "image/png"),
            mask=("mask.png", mask_png((320, 240)), "image/png"),
        )
    error = error_of(raised)
    assert error["param"] == "mask" and error["type"] == "invalid_request_error"
    assert error["message"] == (
        "Invalid mask image: mask size 320x240 does not match image size 640x480."
    )
    assert not Generation.objects.exists() and upstream.requests == []


@pytest.mark.parametrize(
    ("mask", "name"),
    [
        (black_and_white_mask((640, 480)), "mask.png"),
        # Shown a quarter turned, as the first image is: 640x480 once EXIF has turned it.
        (black_and_white_mask((480, 640), "JPEG", turn=6), "mask.jpg"),
    ],
)
def test_a_black_and_white_mask_of_the_right_size_is_normalised(
    live_server, secret, worker, upstream, mask, name
):
    result = client_for(live_server, secret).images.edit(
        model=MODEL,
        prompt="put a hat on it",
        image=("first.png", png((640, 480)), "image/png"),
        mask=(name, mask, "image/png" if name.endswith(".png") else "image/jpeg"),
        quality="low",
        size="1024x1024",
    )
    assert result.data
    assert upstream.requests[-1]["mask_size"] == [640, 480]
    sent = PILImage.open(io.BytesIO(upstream.last_mask))
    assert sent.mode == "RGBA" and sent.getchannel("A").getextrema() == (0, 255)
