"""What an upstream failure means for a job, in words a person understands."""

import re
from dataclasses import dataclass
from typing import Any

MAX_RETRY_AFTER_SECONDS = 120.0
MODERATION_STAGES = ("input", "output")
# What a moderation block may keep of the upstream's details: a category is a short name
# ("violence", "sexual/minors"), never free text that could carry a prompt or a key.
CATEGORY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_./-]{0,63}")
MAX_CATEGORIES = 20


class Outcome:
    MODERATION_BLOCKED = "moderation_blocked"
    BAD_KEY = "bad_key"
    UNVERIFIED_ORGANIZATION = "unverified_organization"
    PERMISSION_DENIED = "permission_denied"
    INVALID_REQUEST = "invalid_request"
    RATE_LIMITED = "rate_limited"
    UPSTREAM_DOWN = "upstream_down"
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"
    NO_PROVIDER = "no_provider"
    KEY_UNREADABLE = "provider_key_unreadable"
    PRIVATE_ADDRESS = "provider_address_refused"


@dataclass
class UpstreamError(Exception):
    outcome: str
    message: str
    retryable: bool = False
    retry_after: float | None = None
    param: str | None = None
    status: int | None = None
    # Images (an UpstreamResult) that had arrived before the failure or cancel; they were billed.
    partial: Any = None
    # What the job keeps of the upstream's answer besides the outcome, e.g. its
    # `moderation_details`, already cleaned by `moderation_details`.
    details: dict[str, Any] | None = None

    def __str__(self) -> str:
        return self.message


def retry_after_seconds(headers: dict[str, str]) -> float | None:
    """Seconds to wait from `retry-after-ms` or `retry-after` (seconds), capped."""
    lowered = {key.lower(): value for key, value in headers.items()}
    try:
        if "retry-after-ms" in lowered:
            seconds = float(lowered["retry-after-ms"]) / 1000
        elif "retry-after" in lowered:
            seconds = float(lowered["retry-after"])
        else:
            return None
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff
    return max(0.0, min(seconds, MAX_RETRY_AFTER_SECONDS))


def moderation_details(raw: Any) -> dict[str, Any] | None:
    """The upstream's `moderation_details` as OpenAI shapes them, keeping only a known stage
    and short category names; None when nothing usable was sent."""
    if not isinstance(raw, dict):
        return None
    stage = raw.get("moderation_stage")
    categories = raw.get("categories")
    kept = [
        category
        for category in (categories if isinstance(categories, list) else [])
        if isinstance(category, str) and CATEGORY.fullmatch(category)
    ][:MAX_CATEGORIES]
    if stage not in MODERATION_STAGES and not kept:
        return None
    return {"moderation_stage": stage if stage in MODERATION_STAGES else None, "categories": kept}


def error_from_status(
    status: int, body: dict[str, Any] | None, headers: dict[str, str]
) -> UpstreamError:
    """Map an HTTP error answer of the Images API (body is its `error` object) to an outcome."""
    body = body or {}
    upstream_message = str(body.get("message") or "").strip()
    code = body.get("code")
    param = body.get("param")

    if code == "moderation_blocked" or body.get("type") == "image_generation_user_error":
        details = moderation_details(body.get("moderation_details"))
        categories = ", ".join(details["categories"]) if details else ""
        stage = "result" if details and details["moderation_stage"] == "output" else "prompt"
        return UpstreamError(
            Outcome.MODERATION_BLOCKED,
            f"The provider's safety system blocked this {stage}"
            + (f" ({categories})" if categories else "")
            + ". Rephrase the prompt or change the reference images and try again.",
            status=status,
            details={"moderation_details": details} if details else None,
        )
    if status == 401:
        return UpstreamError(
            Outcome.BAD_KEY,
            "The provider rejected the API key. An admin needs to check or replace the "
            "provider's key in the admin console.",
            status=status,
        )
    if status == 403 and upstream_message.startswith("Your organization must be verified"):
        return UpstreamError(
            Outcome.UNVERIFIED_ORGANIZATION,
            "This model needs a verified OpenAI organization. An admin must verify the "
            "organization in the OpenAI platform's organization settings (it can take up to "
            "15 minutes to apply), or pick another model.",
            status=status,
        )
    if status == 403:
        return UpstreamError(
            Outcome.PERMISSION_DENIED,
            f"The provider refused access: {upstream_message or 'permission denied'}.",
            status=status,
        )
    if status == 429:
        return UpstreamError(
            Outcome.RATE_LIMITED,
            "The provider is rate limiting requests. Try again in a minute, or ask an admin "
            "to raise the account's rate limit tier.",
            retryable=True,
            retry_after=retry_after_seconds(headers),
            status=status,
        )
    if status >= 500:
        return UpstreamError(
            Outcome.UPSTREAM_DOWN,
            f"The image service is unavailable right now (HTTP {status}). Try again later.",
            retryable=True,
            retry_after=retry_after_seconds(headers),
            status=status,
        )
    where = f"parameter '{param}': " if param else ""
    return UpstreamError(
        Outcome.INVALID_REQUEST,
        f"The provider refused the request: {where}{upstream_message or f'HTTP {status}'}",
        param=param,
        status=status,
    )


def connection_error(timed_out: bool) -> UpstreamError:
    if timed_out:
        return UpstreamError(
            Outcome.TIMEOUT,
            "The image service did not answer in time. Try again, perhaps with a lower "
            "quality or fewer images.",
            retryable=True,
        )
    return UpstreamError(
        Outcome.UPSTREAM_DOWN,
        "Could not reach the image service (connection failed). Try again later.",
        retryable=True,
    )
