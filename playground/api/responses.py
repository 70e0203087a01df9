"""OpenAI's response and error bodies for the Images API."""

import base64
from typing import Any

from django.http import JsonResponse

from playground.apikeys.auth import ApiKeyError
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


class ApiError(Exception):
    """A request answered with OpenAI's error body."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        error_type: str | None = None,
        retry_after: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code
        self.error_type = error_type or _default_type(status)
        self.retry_after = retry_after
        self.extra = extra or {}

    @classmethod
    def from_key_error(cls, error: ApiKeyError) -> "ApiError":
        return cls(
            error.status,
            error.message,
            code=error.code,
            error_type=error.type,
            retry_after=error.retry_after,
        )

    def response(self) -> JsonResponse:
        body = {
            "message": self.message,
            "type": self.error_type,
            "param": self.param,
            "code": self.code,
            **self.extra,
        }
        response = JsonResponse({"error": body}, status=self.status)
        if self.retry_after is not None:
            response["Retry-After"] = str(self.retry_after)
        return response


def _default_type(status: int) -> str:
    if status == 429:
        return "insufficient_quota"
    if status == 403:
        return "permission_error"
    if status >= 500:
        return "server_error"
    return "invalid_request_error"


def invalid(param: str | None, message: str, code: str | None = None) -> ApiError:
    return ApiError(400, message, param=param, code=code)


def job_error(job: Generation) -> ApiError:
    """The error a failed or cancelled job answers with."""
    message = job.error_message or f"The job ended {job.state} without images."
    code = job.error_code or None
    if job.error_code == Outcome.MODERATION_BLOCKED:
        return ApiError(400, message, code=code, error_type="image_generation_user_error")
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
    if job.usage:
        body["usage"] = job.usage
    response = JsonResponse(body)
    # Base64 of PNG, JPEG or WebP: gzip would save a fifth for about 50 ms of CPU per MB.
    response.holds_compressed_data = True  # type: ignore[attr-defined]
    return response


def still_running(job_id: int, waited: float) -> ApiError:
    """The wait ran out; the job goes on, and its images land in the gallery."""
    return ApiError(
        504,
        f"The job {job_id} is still running after {waited:g} seconds. It was not cancelled: "
        "its images will be in your gallery when it finishes.",
        code="job_still_running",
        extra={"job_id": job_id},
    )
