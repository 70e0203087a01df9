"""Jobs run through the real openai SDK against the stand-in over loopback HTTP."""

import hashlib
import threading

import pytest

from playground.catalog.tokens import formula_output_tokens
from playground.generations.models import Generation
from playground.generations.runner import run_generation_job
from playground.providers import client as provider_client
from tests.jobs import make_job
from tests.workers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_stores_every_image_with_the_bytes_as_returned(alice, provider, upstream):
    job = make_job(alice, provider, n=2, quality="high", output_format="webp")
    run_generation_job(job.pk)
    job.refresh_from_db()
    assert job.state == "succeeded", job.error_message
    images = list(job.images.order_by("index"))
    assert [i.index for i in images] == [0, 1]
    for image in images:
        data = image.file.read()
        assert image.format == "webp"
        assert (image.width, image.height) == (1024, 1024)
        assert hashlib.sha256(data).hexdigest() == image.sha256
        assert image.byte_size == len(data)
        assert image.thumbnail.read()[:4] == b"RIFF"
    assert job.usage["output_tokens"] == 2 * formula_output_tokens(96, 1024, 1024)
    assert job.attempts == 1 and job.runs == 1
    assert job.upstream_seconds is not None and job.finished_at is not None


def test_it_sends_only_the_parameters_it_was_given(alice, provider, upstream):
    job = make_job(alice, provider, output_format="jpeg", output_compression=60)
    run_generation_job(job.pk)
    sent = upstream.requests[-1]["params"]
    assert sent["output_compression"] == 60
    assert "input_fidelity" not in sent and "partial_images" not in sent and "stream" not in sent


def test_it_stores_live_previews_while_streaming(alice, provider, upstream):
    job = make_job(alice, provider, partial_images=2)
    run_generation_job(job.pk)
    job.refresh_from_db()
    assert job.state == "succeeded", job.error_message
    assert sorted(job.previews.values_list("partial_index", flat=True)) == [0, 1]
    assert job.images.count() == 1
    assert job.usage["output_tokens"] == formula_output_tokens(16, 1024, 1024) + 2 * 100


def test_it_retries_a_rate_limit_honouring_retry_after(alice, provider, upstream, monkeypatch):
    waits: list[float] = []

    def sleep(seconds: float, hooks: object) -> None:
        waits.append(seconds)

    monkeypatch.setattr(provider_client, "_sleep_unless_cancelled", sleep)
    upstream.set_faults(["429"])
    job = make_job(alice, provider)
    run_generation_job(job.pk)
    job.refresh_from_db()
    assert job.state == "succeeded", job.error_message
    assert job.attempts == 2
    assert [request.get("fault") for request in upstream.requests] == ["429", None]
    assert waits == [1.0]  # the stand-in's Retry-After, not the (0.05 s) backoff of the tests


def test_it_fails_with_plain_words_when_the_service_stays_down(alice, provider, upstream, settings):
    settings.UPSTREAM_MAX_ATTEMPTS = 3
    upstream.set_faults(["500", "503", "500"])
    job = make_job(alice, provider)
    run_generation_job(job.pk)
    job.refresh_from_db()
    assert job.state == "failed"
    assert job.error_code == "upstream_down"
    assert "unavailable" in job.error_message and "tried 3 times" in job.error_message
    assert job.attempts == 3 and job.images.count() == 0


@pytest.mark.parametrize(
    ("fault", "code", "words"),
    [
        ("401", "bad_key", "rejected the API key"),
        ("403", "unverified_organization", "verified OpenAI organization"),
    ],
)
def test_it_does_not_retry_final_failures(alice, provider, upstream, fault, code, words):
    upstream.set_faults([fault])
    job = make_job(alice, provider)
    run_generation_job(job.pk)
    job.refresh_from_db()
    assert (job.state, job.error_code, job.attempts) == ("failed", code, 1)
    assert words in job.error_message
    assert "sk-test-key" not in job.error_message


def test_it_explains_a_moderation_block(alice, provider, upstream):
    job = make_job(alice, provider, prompt="something forbidden here")
    run_generation_job(job.pk)
    job.refresh_from_db()
    assert job.state == "failed" and job.error_code == "moderation_blocked"
    assert "safety system blocked this prompt" in job.error_message
    assert job.attempts == 1


def test_it_names_the_parameter_the_provider_refused(alice, provider, upstream):
    job = make_job(alice, provider, size="1000x1000")  # bypassing the form on purpose
    run_generation_job(job.pk)
    job.refresh_from_db()
    assert job.state == "failed" and job.error_code == "invalid_request"
    assert "parameter 'size'" in job.error_message


def test_it_retries_a_timeout_then_reports_it(alice, provider, upstream, settings):
    settings.UPSTREAM_TIMEOUT_SECONDS = 1
    settings.UPSTREAM_MAX_ATTEMPTS = 2
    upstream.set_faults(["timeout", "timeout"])
    job = make_job(alice, provider)
    run_generation_job(job.pk)
    job.refresh_from_db()
    assert job.state == "failed" and job.error_code == "timeout"
    assert job.attempts == 2


def test_it_recovers_from_a_dropped_connection(alice, provider, upstream):
    upstream.set_faults(["disconnect"])
    job = make_job(alice, provider)
    run_generation_job(job.pk)
    job.refresh_from_db()
    assert job.state == "succeeded" and job.attempts == 2


def test_it_stops_waiting_when_the_job_is_cancelled(alice, provider, upstream, monkeypatch):
    # The stand-in answers only once the test lets it: the runner can only stop on the cancel.
    answer = threading.Event()
    monkeypatch.setattr(upstream, "wait", lambda seconds: answer.wait(60))
    job = make_job(alice, provider)
    runner = threading.Thread(target=run_generation_job, args=(job.pk,))
    runner.start()
    try:
        assert wait_for(lambda: len(upstream.requests) == 1, timeout=10), "no upstream call"
        assert Generation.objects.get(pk=job.pk).state == "running"
        assert job.cancel()
        runner.join(timeout=10)
        assert not runner.is_alive(), "the runner kept waiting on the upstream after the cancel"
    finally:
        answer.set()
        runner.join(timeout=10)
    job.refresh_from_db()
    assert job.state == "cancelled" and job.images.count() == 0


def test_it_skips_a_job_cancelled_before_it_started(alice, provider, upstream):
    job = make_job(alice, provider)
    job.cancel()
    run_generation_job(job.pk)
    assert upstream.requests == []
    assert Generation.objects.get(pk=job.pk).state == "cancelled"


def test_it_settles_the_job_when_storing_fails(alice, provider, upstream, monkeypatch):
    def broken_store(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("playground.generations.runner.store_original", broken_store)
    job = make_job(alice, provider)
    run_generation_job(job.pk)
    job.refresh_from_db()
    assert job.state == "failed" and job.error_code == "internal_error"
    assert "disk full" not in job.error_message
