"""The task API in Kie.ai's shapes: `createTask`, `recordInfo`, and the signed result URLs.

`POST /api/v1/jobs/createTask` queues a playground job through `queue_generation` (the one
path that validates, prices and checks the budget) and records its ApiTask in the same
transaction; it answers at once with the task's id. `GET /api/v1/jobs/recordInfo?taskId=`
describes the task (task_records.py). Every answer, errors too, is
`{"code": N, "msg": "...", "data": ...}` with the HTTP status N; an error's `msg` starts with
the field it is about (`input.size: ...`).
"""

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
from playground.api.kie_inputs import kie_request
from playground.api.models import ApiTask
from playground.api.openai_views import StagedInputs, refusal_error
from playground.api.rate_limits import (
    RateStatus,
    check_rate,
)
from playground.api.requests import find_model, form_data, read_json_object
from playground.api.task_inputs import InputUrlRefused, task_edit_inputs
from playground.api.task_records import image_for_token, record_body
from playground.apikeys.auth import authenticate_api_request
from playground.apikeys.models import ApiKey
from playground.catalog import spec
from playground.catalog.models import ImageModel
from playground.core.errors import ApiError, kie_response
from playground.gallery.models import Image
from playground.generations.forms import GenerationForm
from playground.generations.queueing import JobInputs, JobRefused, NoInputs, queue_generation
from playground.webhooks.secrets import has_webhook_secret

logger = logging.getLogger(__name__)

TASK_ID = re.compile(r"task_[0-9a-f]{32}")
# A result file may be kept by the program's own cache, not for long: a revoked key or a
# deleted image should stop being served soon.
RESULT_MAX_AGE_SECONDS = 600
DATA_URL_SHOWN = 64  # characters of a data URL kept in the task's recorded `param`


def _with_rate(response: HttpResponse, rate: RateStatus) -> HttpResponse:
    for name, value in rate.headers().items():
        response[name] = value
    return response


def _success(data: dict[str, Any]) -> JsonResponse:
    return JsonResponse({"code": 200, "msg": "success", "data": data})


def _method_not_allowed(request: HttpRequest, allowed: str) -> JsonResponse:
    response = kie_response(ApiError(405, f"use {allowed} for {request.path}.", param="method"))
    response["Allow"] = allowed
    return response


# -- the request body ----------------------------------------------------------------------


@dataclass
class TaskRequest:
    """A createTask body, checked against the task's specification (not yet the model)."""

    body: dict[str, Any]
    model_id: str
    callback_url: str
    checked: spec.TaskInput
    params: dict[str, Any] = field(default_factory=dict)
    input_urls: list[str] = field(default_factory=list)
    mask_url: str = ""


# `input` fields that are not Images API parameters of the form.
URL_INPUTS = ("input_urls", "mask_url")


def _read_json(request: HttpRequest) -> dict[str, Any]:
    try:
        raw = request.body
    except RequestDataTooBig as error:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024)
        raise ApiError(
            413, f"larger than {limit} MB; send large images as URLs.", param="body"
        ) from error
    try:
        return read_json_object(raw)
    except ApiError as error:
        error.param = "body"
        raise


def parse_task_request(body: dict[str, Any]) -> TaskRequest:
    """The body checked against the task's specification, with Kie's model ids and its
    `aspect_ratio` and `resolution` mapped to a catalog model and a size (kie_inputs.py)."""
    checked = spec.parse(spec.CreateTaskRequest, body)
    mapped = kie_request(checked.model.strip(), checked.input.model_dump(exclude_none=True))
    task_input = spec.parse(spec.TaskInput, mapped.input, prefix="input")
    given = task_input.model_dump(exclude_none=True)
    return TaskRequest(
        body=body,
        model_id=mapped.model_id,
        callback_url=(checked.callBackUrl or "").strip(),
        checked=task_input,
        params={name: value for name, value in given.items() if name not in URL_INPUTS},
        input_urls=[url.strip() for url in given.get("input_urls", [])],
        mask_url=given.get("mask_url", "").strip(),
    )


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


def _check_callback(owner: Any, callback_url: str) -> None:
    if not callback_url:
        return
    try:
        outbound.check_url(callback_url)
    except outbound.RefusedUrl as refused:
        raise ApiError(400, str(refused), param="callBackUrl") from refused
    if not has_webhook_secret(owner):
        raise ApiError(
            400, "create a webhook secret first at /account/webhooks/", param="callBackUrl"
        )


def _form(task_request: TaskRequest, model: ImageModel) -> GenerationForm:
    """The generate form for the request, validated before any URL is fetched."""
    is_edit = bool(task_request.input_urls)
    if task_request.mask_url and not is_edit:
        raise ApiError(
            400, "a mask needs input_urls: the image it applies to.", param="input.mask_url"
        )
    spec.check_for_model(task_request.checked, model, is_edit=is_edit, prefix="input.")
    form = GenerationForm(form_data(task_request.params, model, is_edit))
    if not form.is_valid():
        raise _in_input(refusal_error(JobRefused({k: list(v) for k, v in form.errors.items()})))
    return form


def _in_input(error: ApiError) -> ApiError:
    """An error about one of the form's parameters, named as the task names it."""
    if error.param and error.param != "model":
        error.param = f"input.{error.param}"
    return error


def _inputs(request: HttpRequest, owner: Any, task_request: TaskRequest) -> JobInputs:
    if not task_request.input_urls and not task_request.mask_url:
        return NoInputs()
    try:
        return task_edit_inputs(owner, request, task_request.input_urls, task_request.mask_url)
    except InputUrlRefused as refused:
        raise ApiError(400, refused.reason, param=refused.field) from refused


def _queue_task(request: HttpRequest, key: ApiKey, task_request: TaskRequest) -> ApiTask:
    """Check everything, then queue the job and record its task in one transaction."""
    model = find_model(task_request.model_id)
    _check_callback(key.owner, task_request.callback_url)
    form = _form(task_request, model)
    inputs = _inputs(request, key.owner, task_request)
    try:
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
    except BaseException as error:
        inputs.discard()  # nothing was recorded: leave no files
        if isinstance(error, JobRefused):
            raise _in_input(refusal_error(error)) from error
        raise
    finally:
        inputs.close()


@csrf_exempt
def create_task(request: HttpRequest) -> HttpResponse:
    """`POST /api/v1/jobs/createTask`: queue a job; answer its taskId at once."""
    if request.method != "POST":
        return _method_not_allowed(request, "POST")
    try:
        key = authenticate_api_request(request, param="Authorization")
        rate = check_rate(key, "queue")  # before anything is read or written
    except ApiError as error:
        return kie_response(error)
    try:
        task = _queue_task(request, key, parse_task_request(_read_json(request)))
    except ApiError as error:
        return _with_rate(kie_response(error), rate)
    except DatabaseError:
        logger.exception("queuing a task failed")
        return kie_response(
            ApiError(
                503,
                "The task could not be queued just now; nothing was charged. Try again.",
                retry_after=5,
            )
        )
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
        raise ApiError(404, "no such task", param="taskId")
    return task


@csrf_exempt  # answers 405 in its own shape to a POST, rather than a CSRF page
def record_info(request: HttpRequest) -> HttpResponse:
    """`GET /api/v1/jobs/recordInfo?taskId=...`: the task's state, results or failure."""
    if request.method not in ("GET", "HEAD"):
        return _method_not_allowed(request, "GET")
    try:
        key = authenticate_api_request(request, param="Authorization")
        rate = check_rate(key, "read")
        task_id = request.GET.get("taskId", "").strip()
        if not task_id:
            raise ApiError(400, "required.", param="taskId", code="missing_required_parameter")
        task = _task_of(key.owner, task_id)
        return _with_rate(JsonResponse(record_body(task)), rate)
    except ApiError as error:
        return kie_response(error)
    except DatabaseError:
        logger.exception("reading a task failed")
        return kie_response(
            ApiError(503, "The task could not be read just now. Try again.", retry_after=5)
        )


# -- result files --------------------------------------------------------------------------


def _seconds_left(token: str) -> int:
    """How long a checked token stays valid (its timestamp is the second-last part)."""
    made = signing.b62_decode(token.rsplit(":", 2)[-2])
    return max(0, int(settings.API_RESULT_URL_SECONDS) - int(timezone.now().timestamp() - made))


def _result_image(token: str) -> Image:
    """The image a result token names, if it may still be served; ApiError otherwise."""
    try:
        image_id = image_for_token(token)
    except signing.SignatureExpired as error:
        raise ApiError(
            410, "this result URL has expired; ask recordInfo again.", param="result"
        ) from error
    except signing.BadSignature as error:
        raise ApiError(404, "no such result", param="result") from error
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
        raise ApiError(404, "no such result", param="result")
    return image


@csrf_exempt
def task_result(request: HttpRequest, token: str) -> HttpResponse:
    """`GET /api/v1/results/<token>`: an image's original bytes. The signed URL is the
    capability; the image, its job, its owner and the task's key are checked every time."""
    if request.method not in ("GET", "HEAD"):
        return _method_not_allowed(request, "GET")
    try:
        image = _result_image(token)
    except ApiError as error:
        return kie_response(error)
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
