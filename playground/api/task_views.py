"""The task API in Kie.ai's shapes: `createTask`, `recordInfo`, and the signed result URLs.

`POST /api/v1/jobs/createTask` queues a playground job through `queue_generation` (the one
path that validates, prices and checks the budget) and records its ApiTask in the same
transaction; it answers at once with the task's id. `GET /api/v1/jobs/recordInfo?taskId=`
describes the task (task_records.py). Every answer, errors too, is
`{"code": N, "msg": "...", "data": ...}` with the HTTP status N; an error's `msg` starts with
the field it is about (`input.size: ...`).
"""

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, transaction
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseNotModified,
    JsonResponse,
)
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from playground.api import outbound
from playground.api.models import ApiTask
from playground.api.openai_views import StagedInputs, seconds_to_next_month
from playground.api.rate_limits import (
    RateLimited,
    RateStatus,
    check_rate,
    rate_limit_response_fields,
)
from playground.api.requests import (
    INTEGER_PARAMS,
    STRING_PARAMS,
    ImagesRequest,
    find_model,
    form_data,
    unsupported_param,
)
from playground.api.responses import ApiError
from playground.api.task_inputs import InputUrlRefused, task_edit_inputs
from playground.api.task_records import image_for_token, record_body
from playground.apikeys.auth import ApiKeyError, authenticate_api_request, check_key_caps
from playground.apikeys.models import ApiKey
from playground.catalog.models import ImageModel
from playground.gallery.models import Image
from playground.generations.forms import GenerationForm
from playground.generations.queueing import (
    JobInputs,
    JobRefused,
    NoInputs,
    estimate_for,
    queue_generation,
)
from playground.webhooks.secrets import has_webhook_secret

logger = logging.getLogger(__name__)

TOP_FIELDS = ("model", "callBackUrl", "input")
# The Images API's parameters, under `input`; a task does not stream.
STRING_INPUTS = STRING_PARAMS - {"model"}
INTEGER_INPUTS = INTEGER_PARAMS - {"partial_images"}
MAX_CALLBACK_URL = 2000
TASK_ID = re.compile(r"task_[0-9a-f]{32}")
# A result file may be kept by the program's own cache, not for long: a revoked key or a
# deleted image should stop being served soon.
RESULT_MAX_AGE_SECONDS = 600
DATA_URL_SHOWN = 64  # characters of a data URL kept in the task's recorded `param`


class TaskError(Exception):
    """An error answered in Kie's shape, with the same HTTP status as its `code`."""

    def __init__(
        self, status: int, field_name: str | None, reason: str, retry_after: int | None = None
    ) -> None:
        super().__init__(reason)
        self.status = status
        self.field = field_name
        self.reason = reason
        self.retry_after = retry_after
        self.headers: dict[str, str] = {}

    def response(self) -> JsonResponse:
        msg = f"{self.field}: {self.reason}" if self.field else self.reason
        response = JsonResponse({"code": self.status, "msg": msg, "data": None}, status=self.status)
        if self.retry_after is not None:
            response["Retry-After"] = str(self.retry_after)
        for name, value in self.headers.items():
            response[name] = value
        return response


def _count_request(key: ApiKey, kind: str) -> RateStatus:
    """Count this request against the key's (and for a new task the user's) rate limits."""
    try:
        return check_rate(key, kind)
    except RateLimited as limited:
        fields = rate_limit_response_fields(limited)
        error = TaskError(429, None, fields["message"], retry_after=fields["retry_after"])
        error.headers = fields["headers"]
        raise error from limited


def _with_rate(response: HttpResponse, rate: RateStatus) -> HttpResponse:
    for name, value in rate.headers().items():
        response[name] = value
    return response


def _success(data: dict[str, Any]) -> JsonResponse:
    return JsonResponse({"code": 200, "msg": "success", "data": data})


def _method_not_allowed(request: HttpRequest, allowed: str) -> JsonResponse:
    response = TaskError(405, "method", f"use {allowed} for {request.path}.").response()
    response["Allow"] = allowed
    return response


def _authenticate(request: HttpRequest) -> ApiKey:
    try:
        return authenticate_api_request(request)
    except ApiKeyError as error:
        raise _key_error(error) from error


def _key_error(error: ApiKeyError) -> TaskError:
    """A key error in Kie's codes: a spend cap reached is 402, like credits run out."""
    if error.status == 429:
        return TaskError(402, None, error.message, retry_after=error.retry_after)
    return TaskError(error.status, "Authorization", error.message, retry_after=error.retry_after)


def _form_field(name: str) -> str:
    if name == "model":
        return "model"
    return "input" if name in ("__all__", "image") else f"input.{name}"


def _refusal(refused: JobRefused) -> TaskError:
    """The first reason a job was refused, naming its field; the budget is 402."""
    for name, messages in refused.errors.items():
        if not messages:
            continue
        if refused.over_budget:
            return TaskError(402, None, messages[0], retry_after=seconds_to_next_month())
        return TaskError(422, _form_field(name), messages[0])
    return TaskError(422, None, str(refused) or "The request was refused.")


# -- the request body ----------------------------------------------------------------------


@dataclass
class TaskRequest:
    """A createTask body, checked for shape and types (not yet against the model)."""

    body: dict[str, Any]
    model_id: str
    callback_url: str
    params: dict[str, Any] = field(default_factory=dict)
    input_urls: list[str] = field(default_factory=list)
    mask_url: str = ""


def _read_json(request: HttpRequest) -> dict[str, Any]:
    try:
        raw = request.body
    except RequestDataTooBig as error:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024)
        raise TaskError(
            413, "body", f"larger than {limit} MB; send large images as URLs."
        ) from error
    try:
        body = json.loads(raw or b"")
    except (ValueError, UnicodeDecodeError) as error:
        raise TaskError(422, "body", f"not valid JSON ({error}).") from error
    if not isinstance(body, dict):
        raise TaskError(422, "body", "must be a JSON object.")
    return body


def _input_value(name: str, value: Any) -> Any:
    if name in INTEGER_INPUTS:
        if isinstance(value, float) and value.is_integer():
            return int(value)  # 2.0 is a whole number, as JSON Schema counts it
        if isinstance(value, bool) or not isinstance(value, int):
            raise TaskError(422, f"input.{name}", "must be an integer.")
        return value
    if not isinstance(value, str):
        raise TaskError(422, f"input.{name}", "must be a string.")
    return value


def _url_list(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise TaskError(422, "input.input_urls", "must be a list of URLs.")
    for index, url in enumerate(value):
        if not isinstance(url, str) or not url.strip():
            raise TaskError(422, f"input.input_urls[{index}]", "must be a non-empty string.")
    return [url.strip() for url in value]


def parse_task_request(body: dict[str, Any]) -> TaskRequest:
    for name in body:
        if name not in TOP_FIELDS:
            raise TaskError(422, str(name)[:60], "unknown field.")
    model_id = body.get("model")
    if not isinstance(model_id, str) or not model_id.strip():
        raise TaskError(422, "model", "required, as a string.")
    callback_url = body.get("callBackUrl") or ""
    if not isinstance(callback_url, str):
        raise TaskError(422, "callBackUrl", "must be a string.")
    given = body.get("input")
    if not isinstance(given, dict):
        raise TaskError(422, "input", "required, as a JSON object.")
    task_request = TaskRequest(body, model_id.strip(), callback_url.strip())
    for name, value in given.items():
        if name == "input_urls":
            task_request.input_urls = _url_list(value)
        elif name == "mask_url":
            if value is not None and not isinstance(value, str):
                raise TaskError(422, "input.mask_url", "must be a string.")
            task_request.mask_url = (value or "").strip()
        elif name not in STRING_INPUTS and name not in INTEGER_INPUTS:
            raise TaskError(422, f"input.{str(name)[:60]}", "unknown field.")
        elif value is not None:
            task_request.params[name] = _input_value(name, value)
    return task_request


def _recorded_param(body: dict[str, Any]) -> dict[str, Any]:
    """The body as sent, with data URLs shortened: `param` is no place for megabytes."""

    def short(url: Any) -> Any:
        if isinstance(url, str) and url[:5].lower() == "data:" and len(url) > DATA_URL_SHOWN:
            return f"{url[:DATA_URL_SHOWN]}… ({len(url):,} characters)"
        return url

    given = body.get("input")
    if not isinstance(given, dict):
        return body
    shortened = dict(given)
    if isinstance(shortened.get("input_urls"), list):
        shortened["input_urls"] = [short(url) for url in shortened["input_urls"]]
    if "mask_url" in shortened:
        shortened["mask_url"] = short(shortened["mask_url"])
    return {**body, "input": shortened}


# -- createTask ----------------------------------------------------------------------------


def _model(model_id: str) -> ImageModel:
    try:
        return find_model(model_id)
    except ApiError as error:
        raise TaskError(error.status, "model", error.message) from error


def _check_callback(owner: Any, callback_url: str) -> None:
    if not callback_url:
        return
    if len(callback_url) > MAX_CALLBACK_URL:
        raise TaskError(422, "callBackUrl", f"longer than {MAX_CALLBACK_URL} characters.")
    try:
        outbound.check_url(callback_url)
    except outbound.RefusedUrl as refused:
        raise TaskError(422, "callBackUrl", str(refused)) from refused
    if not has_webhook_secret(owner):
        raise TaskError(422, "callBackUrl", "create a webhook secret first at /account/webhooks/")


def _form(task_request: TaskRequest, model: ImageModel) -> GenerationForm:
    """The generate form for the request, validated before any URL is fetched."""
    is_edit = bool(task_request.input_urls)
    images_request = ImagesRequest(params={**task_request.params, "model": model.model_id})
    form = GenerationForm(form_data(images_request, model, is_edit))
    if (name := unsupported_param(images_request, form.fields)) is not None:
        raise TaskError(422, f"input.{name}", f"{model.model_id} does not take {name}.")
    if is_edit and not model.supports_edits:
        raise TaskError(422, "input.input_urls", f"{model.model_id} takes no reference images.")
    if not form.is_valid():
        raise _refusal(JobRefused({k: list(v) for k, v in form.errors.items()}))
    return form


def _inputs(request: HttpRequest, owner: Any, task_request: TaskRequest) -> JobInputs:
    if not task_request.input_urls and not task_request.mask_url:
        return NoInputs()
    try:
        return task_edit_inputs(owner, request, task_request.input_urls, task_request.mask_url)
    except InputUrlRefused as refused:
        raise TaskError(422, refused.field, refused.reason) from refused


def _queue_task(request: HttpRequest, key: ApiKey, task_request: TaskRequest) -> ApiTask:
    """Check everything, then queue the job and record its task in one transaction."""
    model = _model(task_request.model_id)
    _check_callback(key.owner, task_request.callback_url)
    form = _form(task_request, model)
    inputs = _inputs(request, key.owner, task_request)
    try:
        try:
            _low, high = estimate_for(form, inputs)
        except ValueError as error:
            raise TaskError(422, "input", f"this request cannot be priced: {error}") from error
        check_key_caps(key, high)
        inputs.stage()  # the files are written before the transaction begins
        with transaction.atomic():
            job = queue_generation(key.owner, form, StagedInputs(inputs), api_key=key)
            return ApiTask.objects.create(
                generation=job,
                api_key=key,
                callback_url=task_request.callback_url,
                param=_recorded_param(task_request.body),
                base_url=request.build_absolute_uri("/"),
            )
    except BaseException:
        inputs.discard()  # nothing was recorded: leave no files
        raise
    finally:
        inputs.close()


@csrf_exempt
def create_task(request: HttpRequest) -> HttpResponse:
    """`POST /api/v1/jobs/createTask`: queue a job; answer its taskId at once."""
    if request.method != "POST":
        return _method_not_allowed(request, "POST")
    try:
        key = _authenticate(request)
        rate = _count_request(key, "queue")  # before anything is read or written
        task_request = parse_task_request(_read_json(request))
        task = _queue_task(request, key, task_request)
    except TaskError as error:
        return error.response()
    except ApiKeyError as error:
        return _key_error(error).response()
    except JobRefused as refused:
        return _refusal(refused).response()
    except DatabaseError:
        logger.exception("queuing a task failed")
        return TaskError(
            503, None, "The task could not be queued just now; nothing was charged. Try again.", 5
        ).response()
    return _with_rate(_success({"taskId": task.task_id}), rate)


# -- recordInfo ----------------------------------------------------------------------------


def _task_of(owner: Any, task_id: str) -> ApiTask:
    """The owner's task with that id; 404 for anyone else's or none (checked as text first,
    so whatever was typed never reaches the database)."""
    task = None
    if TASK_ID.fullmatch(task_id):
        task = (
            ApiTask.objects.select_related("generation")
            .filter(task_id=task_id, generation__owner=owner)
            .first()
        )
    if task is None:
        raise TaskError(404, "taskId", "no such task")
    return task


@csrf_exempt  # answers 405 in its own shape to a POST, rather than a CSRF page
def record_info(request: HttpRequest) -> HttpResponse:
    """`GET /api/v1/jobs/recordInfo?taskId=...`: the task's state, results or failure."""
    if request.method not in ("GET", "HEAD"):
        return _method_not_allowed(request, "GET")
    try:
        key = _authenticate(request)
        rate = _count_request(key, "read")
        task_id = request.GET.get("taskId", "").strip()
        if not task_id:
            raise TaskError(422, "taskId", "required.")
        task = _task_of(key.owner, task_id)
        return _with_rate(JsonResponse(record_body(task)), rate)
    except TaskError as error:
        return error.response()
    except DatabaseError:
        logger.exception("reading a task failed")
        return TaskError(503, None, "The task could not be read just now. Try again.", 5).response()


# -- result files --------------------------------------------------------------------------


def _seconds_left(token: str) -> int:
    """How long a checked token stays valid (its timestamp is the second-last part)."""
    made = signing.b62_decode(token.rsplit(":", 2)[-2])
    return max(0, int(settings.API_RESULT_URL_SECONDS) - int(timezone.now().timestamp() - made))


def _result_image(token: str) -> Image:
    """The image a result token names, if it may still be served; TaskError otherwise."""
    try:
        image_id = image_for_token(token)
    except signing.SignatureExpired as error:
        raise TaskError(
            410, "result", "this result URL has expired; ask recordInfo again."
        ) from error
    except signing.BadSignature as error:
        raise TaskError(404, "result", "no such result") from error
    image = (
        Image.objects.select_related("generation", "generation__api_task__api_key", "owner")
        .filter(pk=image_id)
        .first()
    )
    task = getattr(image.generation, "api_task", None) if image else None
    if (
        image is None
        or image.generation.deleted_at is not None
        or not image.owner.is_active
        or task is None
        or task.api_key is None
        or task.api_key.is_revoked
    ):
        raise TaskError(404, "result", "no such result")
    return image


@csrf_exempt
def task_result(request: HttpRequest, token: str) -> HttpResponse:
    """`GET /api/v1/results/<token>`: an image's original bytes. The signed URL is the
    capability; the image, its job, its owner and the task's key are checked every time."""
    if request.method not in ("GET", "HEAD"):
        return _method_not_allowed(request, "GET")
    try:
        image = _result_image(token)
    except TaskError as error:
        return error.response()
    etag = f'"{image.sha256[:32]}-original"'
    cache_control = f"private, max-age={min(RESULT_MAX_AGE_SECONDS, _seconds_left(token))}"
    if request.headers.get("If-None-Match") == etag:
        return HttpResponseNotModified(headers={"ETag": etag, "Cache-Control": cache_control})
    response = FileResponse(
        image.file.open("rb"), content_type=image.content_type, filename=image.download_name
    )
    response["ETag"] = etag
    response["Cache-Control"] = cache_control
    return response
