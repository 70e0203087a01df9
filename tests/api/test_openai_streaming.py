"""`stream=true` of the Images API through the official `openai` SDK, against the ASGI live
server, with a real worker running the jobs on the stand-in upstream."""

import base64
import io

import openai
import pytest
from django.test.utils import override_settings
from PIL import Image as PILImage

from playground.gallery.models import Image
from playground.generations.models import Generation, Preview
from tests.api.conftest import MODEL, client_for
from tests.workers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def png(size: tuple[int, int], color: str = "red") -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def original_bytes(job: Generation) -> bytes:
    (image,) = Image.objects.filter(generation=job)
    with image.file.open("rb") as stored:
        return stored.read()


def test_a_generation_streams_partials_then_the_original(live_server, secret, worker, upstream):
    upstream.set_latency(0.6)
    stream = client_for(live_server, secret).images.generate(
        model=MODEL,
        prompt="a lighthouse",
        size="1024x1024",
        quality="low",
        stream=True,
        partial_images=2,
    )
    events = list(stream)
    types = [event.type for event in events]
    assert types == [
        "image_generation.partial_image",
        "image_generation.partial_image",
        "image_generation.completed",
    ]
    job = Generation.objects.get()
    assert job.state == "succeeded" and Preview.objects.filter(generation=job).count() == 2
    partials, completed = events[:2], events[2]
    assert [event.partial_image_index for event in partials] == [0, 1]
    for event in partials:
        with PILImage.open(io.BytesIO(base64.b64decode(event.b64_json))) as picture:
            assert picture.format == "PNG"
        assert event.output_format == "png" and event.size == "1024x1024"
    assert base64.b64decode(completed.b64_json) == original_bytes(job)
    assert completed.size == "1024x1024" and completed.quality == "low"
    assert completed.usage.total_tokens == job.usage["total_tokens"]
    assert completed.created_at == int(job.created_at.timestamp())


def test_an_edit_streams_with_image_edit_events(live_server, secret, worker, upstream):
    stream = client_for(live_server, secret).images.edit(
        model=MODEL,
        prompt="put a hat on it",
        image=("first.png", png((320, 240)), "image/png"),
        size="1024x1024",
        quality="low",
        output_format="jpeg",
        stream=True,
        partial_images=1,
    )
    events = list(stream)
    assert [event.type for event in events] == [
        "image_edit.partial_image",
        "image_edit.completed",
    ]
    job = Generation.objects.get()
    assert job.operation == "edit"
    with PILImage.open(io.BytesIO(base64.b64decode(events[0].b64_json))) as picture:
        assert picture.format == "JPEG"
    assert base64.b64decode(events[1].b64_json) == original_bytes(job)


def test_a_job_refused_before_any_event_is_a_real_400(live_server, secret, worker, upstream):
    # The headers wait for the job's first event: a refusal before it is an HTTP error.
    upstream.set_moderation_words(["forbidden"])
    with pytest.raises(openai.BadRequestError) as raised:
        client_for(live_server, secret).images.generate(
            model=MODEL, prompt="a forbidden thing", stream=True, partial_images=1
        )
    assert raised.value.response.headers["content-type"] == "application/json"
    error = raised.value.response.json()["error"]
    assert (error["type"], error["code"]) == ("image_generation_user_error", "moderation_blocked")
    assert error["moderation_details"] == {"moderation_stage": "input", "categories": ["blocklist"]}
    assert Generation.objects.get().state == "failed"


def test_a_job_failing_after_its_first_preview_ends_the_stream_with_an_error_event(
    live_server, secret, worker, upstream, settings
):
    settings.UPSTREAM_MAX_ATTEMPTS = 1
    upstream.set_faults(["disconnect"])  # cut after the first partial image
    stream = client_for(live_server, secret).images.generate(
        model=MODEL, prompt="a cat", stream=True, partial_images=2
    )
    events = []
    with pytest.raises(openai.APIError) as raised:
        events.extend(stream)
    assert [event.type for event in events] == ["image_generation.partial_image"]
    assert raised.value.body["code"] == "upstream_down"
    assert Generation.objects.get().state == "failed"


def test_bad_parameters_still_answer_400_before_any_stream(live_server, secret, provider):
    with pytest.raises(openai.BadRequestError) as raised:
        client_for(live_server, secret).images.generate(
            model=MODEL, prompt="a cat", size="13x7", stream=True
        )
    assert raised.value.response.json()["error"]["param"] == "size"
    assert not Generation.objects.exists()


def test_a_stream_with_nothing_at_its_bound_is_504_naming_the_job(
    live_server, secret, worker, upstream
):
    # Nothing was produced before the wait ran out: the answer is the plain request's.
    upstream.set_latency(3)
    with override_settings(API_WAIT_SECONDS=0.5), pytest.raises(openai.APIStatusError) as raised:
        client_for(live_server, secret).images.generate(model=MODEL, prompt="a cat", stream=True)
    job = Generation.objects.get()
    assert raised.value.status_code == 504
    assert raised.value.body["code"] == "job_still_running"
    assert raised.value.body["job_id"] == job.pk
    assert wait_for(lambda: Generation.objects.get(pk=job.pk).state == "succeeded", timeout=20)


def test_a_replayed_stream_queues_one_job(live_server, secret, worker, upstream):
    client = client_for(live_server, secret)
    same = {"Idempotency-Key": "stream-1"}
    first = list(
        client.images.generate(model=MODEL, prompt="a cat", stream=True, extra_headers=same)
    )
    second = list(
        client.images.generate(model=MODEL, prompt="a cat", stream=True, extra_headers=same)
    )
    assert Generation.objects.count() == 1
    assert first[-1].b64_json == second[-1].b64_json


def test_a_client_that_leaves_a_stream_does_not_cancel_its_job(
    live_server, secret, worker, upstream
):
    upstream.set_latency(2)
    stream = client_for(live_server, secret).images.generate(
        model=MODEL, prompt="a cat", stream=True, partial_images=3
    )
    first = next(iter(stream))
    assert first.type == "image_generation.partial_image"
    stream.close()
    job = Generation.objects.get()
    assert wait_for(lambda: Generation.objects.get(pk=job.pk).state == "succeeded", timeout=20)
    assert Image.objects.filter(generation=job).count() == 1
