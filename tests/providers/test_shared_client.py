"""One client per provider per process, and a cancel that cuts only its own call.

Real openai SDK calls over loopback HTTP to the stand-in."""

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from playground.providers import client as provider_client
from playground.providers.client import (
    CallHooks,
    UpstreamRequest,
    UpstreamResult,
    call_images_api,
    shared_client,
)
from playground.providers.errors import Outcome, UpstreamError
from playground.providers.models import Provider
from tests.jobs import JOB_PARAMS
from tests.workers import wait_for

# A cut call ends at the watcher's next look (0.5 s); an uncut one would wait out the 2 s
# the watcher gives a call to stop after a cancel.
CUT_WITHIN_SECONDS = 1.2


@pytest.fixture(autouse=True)
def fresh_clients() -> Iterator[None]:
    provider_client.forget_shared_clients()
    yield
    provider_client.forget_shared_clients()


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every client built, in order (the real builder still does the work)."""
    built: list[Any] = []
    real = provider_client._new_client

    def counting(provider: Provider, api_key: str) -> Any:
        built.append(real(provider, api_key))
        return built[-1]

    monkeypatch.setattr(provider_client, "_new_client", counting)
    return built


def generation(**changes: Any) -> UpstreamRequest:
    return UpstreamRequest(operation="generate", params={**JOB_PARAMS, **changes})


def call_in_thread(
    provider: Provider, request: UpstreamRequest, hooks: CallHooks | None = None
) -> tuple[threading.Thread, dict[str, Any]]:
    """Start a call; the dict gets its result or error and the time it ended."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = call_images_api(provider, request, hooks)
        except UpstreamError as error:
            outcome["error"] = error
        outcome["ended"] = time.monotonic()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def test_every_call_reuses_the_one_client_of_the_provider(provider, upstream, builds):
    upstream.set_latency(0.2)  # so that the threads' calls overlap
    for _ in range(5):
        assert len(call_images_api(provider, generation()).images) == 1
    calls = [call_in_thread(provider, generation()) for _ in range(15)]
    for thread, _ in calls:
        thread.join(timeout=30)
    assert all(len(outcome["result"].images) == 1 for _, outcome in calls)
    assert len(upstream.requests) == 20
    assert len(builds) == 1
    assert shared_client(provider) is builds[0]


def test_a_changed_key_builds_a_new_client_and_leaves_the_old_one_open(provider, upstream, builds):
    call_images_api(provider, generation())
    old = builds[-1]
    provider.set_api_key("sk-invalid")  # a key the stand-in rejects
    provider.save()
    with pytest.raises(UpstreamError) as caught:
        call_images_api(provider, generation())
    assert caught.value.outcome == Outcome.BAD_KEY
    assert len(builds) == 2 and builds[-1].api_key == "sk-invalid"
    provider.set_api_key("sk-test-key-rotated-42")
    provider.save()
    assert len(call_images_api(provider, generation()).images) == 1
    assert len(builds) == 3 and shared_client(provider) is builds[-1]
    # A call still holding the replaced client finishes normally: it was not closed.
    assert len(old.images.generate(**JOB_PARAMS).data or []) == 1


def test_a_cancel_cuts_one_call_and_the_other_completes(provider, upstream):
    upstream.set_latency(2.5)
    cancel = threading.Event()
    doomed, doomed_outcome = call_in_thread(
        provider, generation(), CallHooks(should_cancel=cancel.is_set)
    )
    other, other_outcome = call_in_thread(provider, generation(prompt="a quiet harbour"))
    assert wait_for(lambda: len(upstream.requests) == 2, timeout=10), "calls never arrived"
    cancelled_at = time.monotonic()
    cancel.set()
    doomed.join(timeout=10)
    other.join(timeout=10)
    assert doomed_outcome["error"].outcome == Outcome.CANCELLED
    assert doomed_outcome["ended"] - cancelled_at < CUT_WITHIN_SECONDS
    result: UpstreamResult = other_outcome["result"]
    assert len(result.images) == 1 and result.images[0][:8] == b"\x89PNG\r\n\x1a\n"
    assert other_outcome["ended"] > doomed_outcome["ended"]
    upstream.set_latency(0)
    assert len(call_images_api(provider, generation()).images) == 1


def test_a_cancel_cuts_a_stream_midway_and_keeps_the_images_that_arrived(provider, upstream):
    # Two images with one preview each: four events 1.5 s apart, so that an uncut stream
    # would still be running when the time allowed for the cut is up.
    upstream.set_latency(6)
    second_preview = threading.Event()

    def on_partial(image_index: int, partial_index: int, data: bytes) -> None:
        if image_index == 1:
            second_preview.set()

    hooks = CallHooks(on_partial=on_partial, should_cancel=second_preview.is_set)
    thread, outcome = call_in_thread(provider, generation(n=2, partial_images=1), hooks)
    assert second_preview.wait(10), "the stream never reached the second image"
    cancelled_at = time.monotonic()
    thread.join(timeout=10)
    error: UpstreamError = outcome["error"]
    assert error.outcome == Outcome.CANCELLED
    assert outcome["ended"] - cancelled_at < CUT_WITHIN_SECONDS
    assert error.partial is not None and len(error.partial.images) == 1
    upstream.set_latency(0)
    assert len(call_images_api(provider, generation(partial_images=1)).images) == 1


def test_the_address_check_refuses_every_call_even_with_a_cached_client(
    db, upstream, settings, builds
):
    settings.API_ALLOW_PRIVATE_URLS = True
    provider = Provider.objects.create(
        name="Compatible", kind=Provider.Kind.COMPATIBLE, base_url=upstream.base_url
    )
    provider.set_api_key("sk-test-key-compatible-1")
    provider.save()
    assert len(call_images_api(provider, generation()).images) == 1
    settings.API_ALLOW_PRIVATE_URLS = False
    with pytest.raises(UpstreamError) as caught:
        call_images_api(provider, generation())
    assert caught.value.outcome == Outcome.PRIVATE_ADDRESS
    assert len(upstream.requests) == 1 and len(builds) == 1


def test_an_unreadable_key_is_refused_even_with_a_cached_client(provider, upstream, settings):
    call_images_api(provider, generation())
    settings.SECRET_KEY = "another-secret-key-entirely-0123456789"
    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(UpstreamError) as caught:
        call_images_api(provider, generation())
    assert caught.value.outcome == Outcome.KEY_UNREADABLE
    assert len(upstream.requests) == 1
