"""The real `openai` SDK against the stand-in: generations, edits, streaming, usage, 400s."""

import base64
import io
import threading

import httpx2
import openai
import pytest
from PIL import Image

from playground.catalog.tokens import estimate_text_tokens, input_image_tokens
from playground.offline_api.server import OfflineImagesAPI

from .helpers import mask_bytes, png_bytes


def decode(b64_json: str | None) -> Image.Image:
    assert b64_json
    return Image.open(io.BytesIO(base64.b64decode(b64_json)))


def test_it_generates_n_images(client: openai.OpenAI) -> None:
    result = client.images.generate(
        model="gpt-image-2", prompt="two owls", n=2, size="1536x1024", output_format="jpeg"
    )
    assert result.data is not None and len(result.data) == 2
    images = [decode(item.b64_json) for item in result.data]
    assert [(i.format, i.size) for i in images] == [("JPEG", (1536, 1024))] * 2
    assert images[0].tobytes() != images[1].tobytes()
    assert (result.size, result.output_format, result.background) == ("1536x1024", "jpeg", "opaque")
    assert result.created > 0


def test_it_reports_usage_from_the_token_rules(client: openai.OpenAI) -> None:
    prompt = "a lighthouse at dusk"
    result = client.images.generate(model="gpt-image-2", prompt=prompt, quality="high", n=2)
    assert result.usage is not None
    assert result.usage.output_tokens == 2 * 7024
    assert result.usage.input_tokens_details.text_tokens == estimate_text_tokens(prompt)
    assert result.usage.input_tokens_details.image_tokens == 0
    assert result.usage.total_tokens == result.usage.input_tokens + result.usage.output_tokens
    details = result.usage.output_tokens_details
    assert details is not None and (details.image_tokens, details.text_tokens) == (2 * 7024, 0)


def test_it_resolves_auto_quality_and_size(client: openai.OpenAI) -> None:
    result = client.images.generate(model="gpt-image-1.5", prompt="auto", quality="auto")
    assert (result.quality, result.size) == ("medium", "1024x1024")
    assert result.usage is not None and result.usage.output_tokens == 1056


def test_it_streams_partial_images_then_the_final_one(client: openai.OpenAI) -> None:
    stream = client.images.generate(
        model="gpt-image-2", prompt="streamed", stream=True, partial_images=2, quality="high"
    )
    events = list(stream)
    assert [e.type for e in events] == [
        "image_generation.partial_image",
        "image_generation.partial_image",
        "image_generation.completed",
    ]
    assert [getattr(e, "partial_image_index", None) for e in events] == [0, 1, None]
    assert all(decode(e.b64_json).size == (1024, 1024) for e in events)
    final = events[-1]
    assert final.type == "image_generation.completed"
    assert final.usage.output_tokens == 7024 + 2 * 100
    assert (final.size, final.quality, final.background) == ("1024x1024", "high", "opaque")


def test_it_streams_edits_with_n_images(client: openai.OpenAI) -> None:
    stream = client.images.edit(
        model="gpt-image-2",
        image=("a.png", png_bytes((300, 200)), "image/png"),
        prompt="streamed edit",
        stream=True,
        partial_images=1,
        n=2,
    )
    assert [e.type for e in stream] == ["image_edit.partial_image", "image_edit.completed"] * 2


def test_it_spreads_latency_over_stream_events(api: OfflineImagesAPI, client, monkeypatch) -> None:
    api.set_latency(0.6)
    received = threading.Semaphore(0)
    waits: list[tuple[float, bool]] = []

    def wait(seconds: float) -> None:
        # Before each event after the first: had the client already received the one before?
        # Only a response that streams lets it (a buffered one would time out here).
        waits.append((seconds, received.acquire(timeout=10) if waits else True))

    monkeypatch.setattr(api, "wait", wait)
    events = []
    for event in client.images.generate(
        model="gpt-image-2", prompt="slow", stream=True, partial_images=2
    ):
        events.append(event.type)
        received.release()
    assert events == ["image_generation.partial_image"] * 2 + ["image_generation.completed"]
    assert [seconds for seconds, _ in waits] == pytest.approx([0.2, 0.2, 0.2])  # 0.6 s, spread
    assert all(streamed for _, streamed in waits)  # previews arrive before the end


def test_it_edits_with_two_images_and_a_mask(api: OfflineImagesAPI, client) -> None:
    first, second = png_bytes((512, 384)), png_bytes((200, 200), (200, 0, 0))
    mask = mask_bytes((512, 384), (100, 100, 300, 200))
    result = client.images.edit(
        model="gpt-image-1.5",
        image=[("first.png", first, "image/png"), ("second.png", second, "image/png")],
        mask=("mask.png", mask, "image/png"),
        prompt="add a hat",
        input_fidelity="high",
        size="1536x1024",
    )
    assert result.data is not None and decode(result.data[0].b64_json).size == (1536, 1024)
    expected_image_tokens = input_image_tokens(512, 384, "high") + input_image_tokens(
        200, 200, "high"
    )
    assert result.usage is not None
    assert result.usage.input_tokens_details.image_tokens == expected_image_tokens
    assert httpx2.get(f"{api.url}/_control/last-mask").content == mask
    assert api.last_mask == mask
    logged = api.requests[-1]
    assert (logged["path"], logged["images"], logged["mask_size"]) == (
        "/v1/images/edits",
        2,
        [512, 384],
    )
    assert logged["image_sizes"] == [[512, 384], [200, 200]]
    assert logged["params"]["input_fidelity"] == "high"
    assert "sk-test" not in repr(api.requests)


@pytest.mark.parametrize(
    ("params", "param", "code"),
    [
        ({"size": "1000x1000"}, "size", "invalid_value"),
        ({"model": "gpt-image-9"}, "model", "model_not_found"),
        ({"model": "gpt-image-1"}, "model", "model_not_found"),
        ({"n": 11}, "n", "integer_above_max_value"),
        ({"output_compression": 20}, "output_compression", "unsupported_parameter"),
        ({"response_format": "b64_json"}, "response_format", "unsupported_parameter"),
        ({"prompt": ""}, "prompt", "empty_string"),
    ],
)
def test_it_answers_bad_requests_like_openai(client: openai.OpenAI, params, param, code) -> None:
    arguments = {"model": "gpt-image-2", "prompt": "p", **params}
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.generate(**arguments)
    assert (caught.value.status_code, caught.value.param, caught.value.code) == (400, param, code)
    assert caught.value.type == "invalid_request_error"


def test_it_rejects_a_bad_mask_through_the_sdk(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.edit(
            model="gpt-image-2",
            image=("a.png", png_bytes((64, 64)), "image/png"),
            mask=("m.png", png_bytes((64, 64)), "image/png"),
            prompt="p",
        )
    assert caught.value.param == "mask"


def test_it_lists_active_models(client: openai.OpenAI) -> None:
    ids = {model.id for model in client.models.list()}
    assert {"gpt-image-2", "gpt-image-1.5"} <= ids
    assert "gpt-image-1" not in ids
