"""Every upstream failure becomes an outcome with words a person can act on."""

import pytest

from playground.providers.errors import Outcome, error_from_status, retry_after_seconds


def test_it_explains_a_moderation_block_with_its_categories():
    error = error_from_status(
        400,
        {
            "message": "Your request was rejected by the safety system.",
            "type": "image_generation_user_error",
            "code": "moderation_blocked",
            "moderation_details": {"moderation_stage": "output", "categories": ["violence"]},
        },
        {},
    )
    assert error.outcome == Outcome.MODERATION_BLOCKED and not error.retryable
    assert "blocked this result (violence)" in error.message
    assert error.details == {
        "moderation_details": {"moderation_stage": "output", "categories": ["violence"]}
    }


def test_it_keeps_only_a_known_stage_and_short_category_names():
    error = error_from_status(
        400,
        {
            "code": "moderation_blocked",
            "moderation_details": {
                "moderation_stage": "somewhere sk-secret",
                "categories": ["sexual/minors", "a cat wearing sk-abc123 as a hat", 7, "x" * 99],
                "prompt": "a forbidden thing",
            },
        },
        {},
    )
    assert error.details == {
        "moderation_details": {"moderation_stage": None, "categories": ["sexual/minors"]}
    }
    assert "sk-" not in error.message


def test_a_block_without_details_keeps_none():
    error = error_from_status(400, {"code": "moderation_blocked", "message": "Blocked."}, {})
    assert error.outcome == Outcome.MODERATION_BLOCKED and error.details is None


def test_it_tells_an_unverified_organisation_from_other_refusals():
    unverified = error_from_status(
        403, {"message": "Your organization must be verified to use the model `gpt-image-1.5`."}, {}
    )
    other = error_from_status(403, {"message": "Project lacks access."}, {})
    assert unverified.outcome == Outcome.UNVERIFIED_ORGANIZATION
    assert "verify the organization" in unverified.message
    assert other.outcome == Outcome.PERMISSION_DENIED and "Project lacks access" in other.message


def test_it_never_repeats_the_key_for_a_bad_key():
    error = error_from_status(
        401, {"message": "Incorrect API key provided: sk-abc***xyz.", "code": "invalid_api_key"}, {}
    )
    assert error.outcome == Outcome.BAD_KEY and "sk-" not in error.message


def test_it_names_the_parameter_of_an_invalid_request():
    error = error_from_status(
        400, {"message": "Invalid size '1000x1000'.", "param": "size", "code": "invalid_value"}, {}
    )
    assert error.outcome == Outcome.INVALID_REQUEST and error.param == "size"
    assert (
        error.message
        == "The provider refused the request: parameter 'size': Invalid size '1000x1000'."
    )


@pytest.mark.parametrize("status", [500, 502, 503])
def test_it_retries_server_errors(status):
    error = error_from_status(status, {"message": "oops"}, {})
    assert error.outcome == Outcome.UPSTREAM_DOWN and error.retryable
    assert f"HTTP {status}" in error.message


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after": "7"}, 7.0),
        ({"Retry-After-Ms": "1500", "retry-after": "9"}, 1.5),
        ({"retry-after": "100000"}, 120.0),
        ({"retry-after": "Wed, 21 Oct 2026 07:28:00 GMT"}, None),
        ({}, None),
    ],
)
def test_it_reads_retry_after(headers, seconds):
    assert retry_after_seconds(headers) == seconds
    error = error_from_status(429, {"message": "Rate limit reached"}, headers)
    assert error.outcome == Outcome.RATE_LIMITED and error.retryable
    assert error.retry_after == seconds


def test_an_error_event_in_an_upstream_stream_is_mapped_by_its_body():
    import httpx2
    import openai

    from playground.providers.client import _as_upstream_error

    request = httpx2.Request("POST", "https://api.example/v1/images/generations")
    blocked = openai.APIError(
        "Your request was rejected by the safety system.",
        request,
        body={
            "type": "image_generation_user_error",
            "code": "moderation_blocked",
            "message": "Your request was rejected by the safety system.",
            "moderation_details": {"moderation_stage": "output", "categories": ["violence"]},
        },
    )
    error = _as_upstream_error(blocked)
    assert error.outcome == Outcome.MODERATION_BLOCKED  # type: ignore[attr-defined]
    assert error.details["moderation_details"]["moderation_stage"] == "output"  # type: ignore[attr-defined]
    other = _as_upstream_error(openai.APIError("boom", request, body={"code": "server_error"}))
    assert other.outcome == Outcome.UPSTREAM_DOWN  # type: ignore[attr-defined]
