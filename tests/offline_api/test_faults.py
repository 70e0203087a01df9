"""Injected faults and moderation, as the real SDK surfaces them."""

import httpx2
import openai
import pytest

from playground.offline_api.server import OfflineImagesAPI


def generate(client: openai.OpenAI, prompt: str = "a quiet harbour", **params):
    return client.images.generate(model="gpt-image-2", prompt=prompt, **params)


def test_it_answers_429_with_retry_after(api: OfflineImagesAPI, client: openai.OpenAI) -> None:
    api.set_faults(["429:3"])
    with pytest.raises(openai.RateLimitError) as caught:
        generate(client)
    headers = caught.value.response.headers
    assert headers["retry-after"] == "3"
    assert headers["x-ratelimit-remaining-requests"] == "0"
    assert {"x-ratelimit-limit-tokens", "x-ratelimit-reset-requests"} <= set(headers)
    assert (caught.value.type, caught.value.code) == ("requests", "rate_limit_exceeded")
    assert generate(client).data  # one fault per request


def test_it_lets_the_sdk_retry_after_a_429(api: OfflineImagesAPI) -> None:
    api.set_faults(["429:0.05"])
    client = openai.OpenAI(api_key="sk-test", base_url=api.base_url, max_retries=2)
    assert generate(client).data
    assert [entry["status"] for entry in api.requests] == [429, 200]


@pytest.mark.parametrize(
    ("fault", "error", "status"),
    [
        ("500", openai.InternalServerError, 500),
        ("503", openai.InternalServerError, 503),
        ("401", openai.AuthenticationError, 401),
        ("403", openai.PermissionDeniedError, 403),
    ],
)
def test_it_serves_status_faults(api: OfflineImagesAPI, client, fault, error, status) -> None:
    api.set_faults([fault])
    with pytest.raises(error) as caught:
        generate(client)
    assert caught.value.status_code == status


def test_it_explains_unverified_organizations(api: OfflineImagesAPI, client) -> None:
    api.set_faults(["403"])
    with pytest.raises(openai.PermissionDeniedError) as caught:
        generate(client)
    body = caught.value.body
    assert isinstance(body, dict)
    assert body["message"].startswith("Your organization must be verified to use the model")
    assert "gpt-image-2" in body["message"]
    assert body["type"] == "invalid_request_error"


def test_it_serves_faults_in_queue_order(api: OfflineImagesAPI, client) -> None:
    response = httpx2.post(f"{api.url}/_control/faults", json={"fail_next": ["429", "500"]})
    assert response.json()["fail_next"] == ["429", "500"]
    with pytest.raises(openai.RateLimitError):
        generate(client)
    with pytest.raises(openai.InternalServerError):
        generate(client)
    assert generate(client).data
    assert [entry.get("fault") for entry in api.requests] == ["429", "500", None]


def test_it_takes_faults_at_construction() -> None:
    api = OfflineImagesAPI(fail_next=["503"], log=False).start()
    try:
        client = openai.OpenAI(api_key="sk-test", base_url=api.base_url, max_retries=0)
        with pytest.raises(openai.InternalServerError):
            generate(client)
        assert generate(client).data
    finally:
        api.stop()


def test_it_times_out(api: OfflineImagesAPI) -> None:
    api.set_faults(["timeout:2"])
    client = openai.OpenAI(api_key="sk-t", base_url=api.base_url, max_retries=0, timeout=0.4)
    with pytest.raises(openai.APITimeoutError):
        generate(client)


def test_it_disconnects_mid_response(api: OfflineImagesAPI, client: openai.OpenAI) -> None:
    api.set_faults(["disconnect"])
    with pytest.raises(openai.APIConnectionError):
        generate(client)
    assert generate(client).data  # the next connection works


def test_it_disconnects_mid_stream(api: OfflineImagesAPI, client: openai.OpenAI) -> None:
    api.set_faults(["disconnect"])
    received = []
    with pytest.raises(openai.APIConnectionError):
        for event in generate(client, stream=True, partial_images=2):
            received.append(event.type)
    assert received == ["image_generation.partial_image"]


def test_it_rejects_missing_and_invalid_keys(api: OfflineImagesAPI) -> None:
    response = httpx2.post(f"{api.base_url}/images/generations", json={"prompt": "p"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"
    assert response.json()["error"]["type"] == "invalid_request_error"
    client = openai.OpenAI(api_key="sk-invalid", base_url=api.base_url, max_retries=0)
    with pytest.raises(openai.AuthenticationError) as caught:
        generate(client)
    assert caught.value.code == "invalid_api_key"
    assert "sk-invalid" not in caught.value.message  # the key is masked


@pytest.mark.parametrize("prompt", ["a forbidden castle", "FORBIDDEN"])
def test_it_blocks_moderation_words(client: openai.OpenAI, prompt: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        generate(client, prompt)
    error = caught.value
    assert (error.code, error.type) == ("moderation_blocked", "image_generation_user_error")
    assert isinstance(error.body, dict)
    assert error.body["moderation_details"]["moderation_stage"] == "input"
    assert error.body["moderation_details"]["categories"]


def test_it_changes_moderation_words_at_runtime(api: OfflineImagesAPI, client) -> None:
    httpx2.post(f"{api.url}/_control/faults", json={"moderation_words": ["volcano"]})
    with pytest.raises(openai.BadRequestError):
        generate(client, "a Volcano")
    assert generate(client, "a forbidden fruit").data
