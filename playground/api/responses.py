"""OpenAI's response and error bodies for the Images API."""

import base64
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from playground.core.errors import ApiError
from playground.gallery.models import Image
from playground.generations.models import Generation
from playground.providers.errors import Outcome

# Upstream outcomes that are the request's own fault; the rest failed on the way.
CLIENT_OUTCOMES = {Outcome.MODERATION_BLOCKED: 400, Outcome.INVALID_REQUEST: 400}
UPSTREAM_OUTCOMES = {
    Outcome.BAD_KEY,
    Outcome.UNVERIFIED_ORGANIZATION,
    Outcome.PERMISSION_DENIED,
    Outcome.RATE_LIMITED,
    Outcome.UPSTREAM_DOWN,
    Outcome.TIMEOUT,
    Outcome.NO_PROVIDER,
    Outcome.KEY_UNREADABLE,
    Outcome.PRIVATE_ADDRESS,
}


def job_error(job: Generation) -> ApiError:
    """The error a failed or cancelled job answers with."""
    message = job.error_message or f"The job ended {job.state} without images."
    code = job.error_code or None
    if job.error_code == Outcome.MODERATION_BLOCKED:
        # OpenAI's block says at which stage and in which categories, when upstream said so.
        details = (job.error_details or {}).get("moderation_details")
        return ApiError(
            400,
            message,
            code=code,
            error_type="image_generation_user_error",
            extra={"moderation_details": details} if details else None,
        )
    if job.error_code in CLIENT_OUTCOMES:
        return ApiError(CLIENT_OUTCOMES[job.error_code], message, code=code)
    if job.error_code in UPSTREAM_OUTCOMES:
        return ApiError(502, message, code=code)
    return ApiError(500, message, code=code)


def images_response(job: Generation, images: list[Image]) -> JsonResponse:
    """OpenAI's ImagesResponse: each image as the original bytes the job stored."""
    meta = job.response_meta or {}
    params = job.params or {}
    data = []
    for image in images:
        with image.file.open("rb") as stored:
            entry: dict[str, Any] = {"b64_json": base64.b64encode(stored.read()).decode("ascii")}
        if image.revised_prompt:
            entry["revised_prompt"] = image.revised_prompt
        data.append(entry)
    body: dict[str, Any] = {"created": int(job.created_at.timestamp()), "data": data}
    for name in ("background", "output_format", "quality", "size"):
        if value := meta.get(name) or params.get(name):
            body[name] = value
    if usage := usage_body(job.usage):
        body["usage"] = usage
    response = JsonResponse(body)
    # Base64 of PNG, JPEG or WebP: gzip would save a fifth for about 50 ms of CPU per MB.
    response.holds_compressed_data = True  # type: ignore[attr-defined]
    return response


def usage_body(usage: dict[str, Any] | None) -> dict[str, Any]:
    """`usage` as OpenAI sends it: a detail the upstream did not give (a job stored before
    null details were left out) is omitted, never null."""
    return {name: value for name, value in (usage or {}).items() if value is not None}


def still_running(job_id: int, waited: float) -> ApiError:
    """The wait ran out; the job goes on, and its images land in the gallery."""
    return ApiError(
        504,
        f"The job {job_id} is still running after {waited:g} seconds. It was not cancelled: "
        "its images will be in your gallery when it finishes.",
        code="job_still_running",
        extra={"job_id": job_id},
    )


@csrf_exempt
async def invalid_url(request: HttpRequest, rest: str | None = None) -> JsonResponse:
    """Any `/v1/...` path no endpoint serves: OpenAI's 404, naming the method and the path."""
    return ApiError(404, f"Invalid URL ({request.method} {request.path})").response()
