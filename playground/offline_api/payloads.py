"""Bodies the stand-in answers with: usage, ImagesResponse, stream events and canned errors."""

import base64
import json
from collections.abc import Iterable
from typing import Any

from playground.catalog.tokens import (
    PARTIAL_IMAGE_TOKENS,
    effective_fidelity,
    estimate_text_tokens,
    input_image_tokens,
    output_tokens_per_image,
)
from playground.core.errors import ApiError
from playground.offline_api.validation import ImageRequest

DEFAULT_MODERATION_WORDS = frozenset({"forbidden"})
DEFAULT_INVALID_KEYS = frozenset({"sk-invalid"})
MODERATION_CATEGORIES = ["blocklist"]


def output_tokens(request: ImageRequest) -> int:
    """Output tokens of the whole request (all n images, plus partial previews when streaming)."""
    per_image = output_tokens_per_image(
        request.model["output_rule"], request.quality, request.width, request.height
    )
    partials = PARTIAL_IMAGE_TOKENS * request.partial_images if request.stream else 0
    return (per_image + partials) * request.n


def usage(request: ImageRequest) -> dict[str, Any]:
    text_tokens = estimate_text_tokens(request.prompt)
    fidelity = effective_fidelity(request.input_fidelity, request.model["input_fidelities"])
    image_tokens = sum(input_image_tokens(i.width, i.height, fidelity) for i in request.images)
    out = output_tokens(request)
    return {
        "input_tokens": text_tokens + image_tokens,
        "input_tokens_details": {"text_tokens": text_tokens, "image_tokens": image_tokens},
        "output_tokens": out,
        # As the GPT Image models report it: every output token here is an image token.
        "output_tokens_details": {"image_tokens": out, "text_tokens": 0},
        "total_tokens": text_tokens + image_tokens + out,
    }


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def describe(request: ImageRequest) -> dict[str, Any]:
    """The resolved settings every response and event reports."""
    return {
        "background": request.background,
        "output_format": request.output_format,
        "quality": request.quality,
        "size": request.size,
    }


def images_response(request: ImageRequest, pictures: Iterable[bytes], created: int) -> dict:
    return {
        "created": created,
        "data": [{"b64_json": b64(picture)} for picture in pictures],
        **describe(request),
        "usage": usage(request),
    }


def event_prefix(request: ImageRequest) -> str:
    return "image_edit" if request.kind == "edits" else "image_generation"


def partial_event(request: ImageRequest, picture: bytes, index: int, created: int) -> dict:
    return {
        "type": f"{event_prefix(request)}.partial_image",
        "b64_json": b64(picture),
        "partial_image_index": index,
        **describe(request),
        "created_at": created,
    }


def completed_event(request: ImageRequest, picture: bytes, created: int) -> dict:
    # Every completed event carries the usage of the whole request.
    return {
        "type": f"{event_prefix(request)}.completed",
        "b64_json": b64(picture),
        **describe(request),
        "created_at": created,
        "usage": usage(request),
    }


def sse(event: dict[str, Any]) -> bytes:
    data = json.dumps(event, separators=(",", ":"))
    return f"event: {event['type']}\ndata: {data}\n\n".encode()


def moderation_hit(prompt: str, words: Iterable[str]) -> str | None:
    lowered = prompt.lower()
    return next((word for word in words if word and word.lower() in lowered), None)


def moderation_error() -> ApiError:
    return ApiError(
        400,
        "Your request was rejected by the safety system. It may contain content that is not "
        "allowed. If you believe this is an error, contact us through the help center.",
        error_type="image_generation_user_error",
        code="moderation_blocked",
        extra={
            "moderation_details": {
                "moderation_stage": "input",
                "categories": list(MODERATION_CATEGORIES),
            }
        },
    )


def missing_key_error() -> ApiError:
    return ApiError(
        401,
        "You didn't provide an API key. You need to provide your API key in an Authorization "
        "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        code="invalid_api_key",
    )


def bad_key_error(key: str) -> ApiError:
    hidden = f"{key[:3]}{'*' * max(0, len(key) - 7)}{key[-4:]}" if len(key) > 7 else "***"
    return ApiError(401, f"Incorrect API key provided: {hidden}.", code="invalid_api_key")


def rate_limit_error(retry_after: float) -> ApiError:
    seconds = f"{retry_after:g}"
    return ApiError(
        429,
        f"Rate limit reached for images per minute. Please try again in {seconds}s.",
        error_type="requests",
        code="rate_limit_exceeded",
        headers={
            "retry-after": seconds,
            "retry-after-ms": str(int(retry_after * 1000)),
            "x-ratelimit-limit-requests": "5",
            "x-ratelimit-remaining-requests": "0",
            "x-ratelimit-reset-requests": f"{seconds}s",
            "x-ratelimit-limit-tokens": "100000",
            "x-ratelimit-remaining-tokens": "0",
            "x-ratelimit-reset-tokens": f"{seconds}s",
        },
    )


def server_error(status: int) -> ApiError:
    if status == 503:
        message = "The server is overloaded or not ready yet."
    else:
        message = "The server had an error while processing your request. Sorry about that!"
    return ApiError(status, message, error_type="server_error")


def unverified_error(model: str) -> ApiError:
    return ApiError(
        403,
        f"Your organization must be verified to use the model `{model}`. Please go to "
        "https://platform.openai.com/settings/organization/general and click on Verify "
        "Organization. If you just verified, it can take up to 15 minutes for access to propagate.",
        error_type="invalid_request_error",
        code="organization_not_verified",
    )


def fault_error(name: str, argument: float | None, model: str) -> ApiError:
    """The error a status-code fault answers with ('429', '500', '503', '401', '403', ...)."""
    status = int(name)
    if status == 429:
        return rate_limit_error(1.0 if argument is None else argument)
    if status == 401:
        return bad_key_error("sk-offline-fault")
    if status == 403:
        return unverified_error(model or "gpt-image-2")
    if status >= 500:
        return server_error(status)
    return ApiError(status, f"Injected fault {status}.")


def not_found(method: str, path: str) -> ApiError:
    return ApiError(404, f"Invalid URL ({method} {path})")


def model_list(models: dict[str, dict[str, Any]]) -> dict[str, Any]:
    active = [spec for spec in models.values() if spec.get("status") != "retired"]
    return {
        "object": "list",
        "data": [
            {"id": spec["id"], "object": "model", "created": 0, "owned_by": "system"}
            for spec in active
        ],
    }
