"""The one error type of every API request (the `/v1` endpoints, the task and file APIs, the offline
stand-in, API keys), and one renderer per envelope.

An `ApiError` says what was wrong in Images API terms: the HTTP status, a message, the
parameter it is about (`param`, as the request names it: `size` and `image[2]` for `/v1`,
`model`, `callBackUrl` and `input.size` for a task) and OpenAI's `code`.
`openai_response` renders OpenAI's `{"error": {...}}` body (the `/v1` endpoints and the
offline stand-in); `kie_response` renders Kie's `{"code", "msg", "data"}` body (the task and
file APIs), whose `msg` starts with the field.
"""

import secrets
from typing import Any

from django.http import JsonResponse

REQUEST_ID_HEADER = "x-request-id"


def new_request_id() -> str:
    """A fresh, unguessable id for one request of the OpenAI-compatible API, as OpenAI's."""
    return f"req_{secrets.token_hex(16)}"


class ApiError(Exception):
    """A refused or failed API request, rendered in the caller's envelope."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        error_type: str | None = None,
        retry_after: int | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code
        self.error_type = error_type or default_type(status)
        self.retry_after = retry_after
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})

    @property
    def type(self) -> str:
        return self.error_type

    def body(self) -> dict[str, Any]:
        """OpenAI's error body."""
        error = {
            "message": self.message,
            "type": self.error_type,
            "param": self.param,
            "code": self.code,
        }
        return {"error": {**error, **self.extra}}

    def response(self) -> JsonResponse:
        return openai_response(self)

    def all_headers(self) -> dict[str, str]:
        headers = dict(self.headers)
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        return headers


def default_type(status: int) -> str:
    if status == 429:
        return "rate_limit_error"
    if status == 401:
        return "invalid_request_error"
    if status == 403:
        return "permission_error"
    if status >= 500:
        return "server_error"
    return "invalid_request_error"


def invalid(param: str | None, message: str, code: str | None = "invalid_value") -> ApiError:
    """A 400 about one parameter, as OpenAI answers a bad value."""
    return ApiError(400, message, param=param, code=code)


def openai_response(error: ApiError) -> JsonResponse:
    response = JsonResponse(error.body(), status=error.status)
    for name, value in error.all_headers().items():
        response[name] = value
    return response


def kie_status(error: ApiError) -> int:
    """Kie's status for the error: 422 for a bad request, 402 when money ran out."""
    if error.code == "insufficient_quota":
        return 402
    if error.status == 400:
        return 422
    return error.status


def kie_message(error: ApiError) -> str:
    field = error.param
    message = error.message
    if field and not message.startswith(f"{field}:"):
        message = f"{field}: {message}"
    return message


def kie_response(error: ApiError) -> JsonResponse:
    status = kie_status(error)
    body = {"code": status, "msg": kie_message(error), "data": None}
    response = JsonResponse(body, status=status)
    for name, value in error.all_headers().items():
        response[name] = value
    return response


def kie_file_response(error: ApiError) -> JsonResponse:
    """Kie's File Upload API envelope: `success: false`, and its own 400 for a bad request."""
    status = 402 if error.code == "insufficient_quota" else error.status
    body = {"success": False, "code": status, "msg": kie_message(error), "data": None}
    response = JsonResponse(body, status=status)
    for name, value in error.all_headers().items():
        response[name] = value
    return response


def response_for_path(path: str, error: ApiError) -> JsonResponse | None:
    """The error in the envelope of the API `path` belongs to; None for a page."""
    if path.startswith("/v1/") or path == "/api/v1/me":  # /api/v1/me speaks OpenAI's shape
        return openai_response(error)
    if path.startswith("/api/file-"):
        return kie_file_response(error)
    if path.startswith(("/api/v1/", "/api/uploads/")):
        return kie_response(error)
    return None
