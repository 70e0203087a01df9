"""`POST /v1/images/generations` and `POST /v1/images/edits`, as OpenAI's Images API.

A program changes only the base URL and the key: each request is a playground job, queued
through `queue_generation` like the form's, charged to the key, kept in the owner's gallery.
The view queues in a worker thread, waits for the job without a database connection, then
answers with the stored images. A client that hangs up does not cancel its job.
"""

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.views.decorators.csrf import csrf_exempt

from playground.api import idempotency
from playground.api.rate_limits import (
    RateStatus,
    check_rate,
)
from playground.api.requests import (
    ImagesRequest,
    find_model,
    form_data,
    parse_edit_request,
    parse_generation_request,
)
from playground.api.responses import images_response, job_error, still_running
from playground.api.streaming import open_stream
from playground.api.waiting import read_and_close, wait_until_settled
from playground.apikeys.auth import authenticate_api_request
from playground.apikeys.models import ApiKey
from playground.catalog import spec
from playground.core.errors import ApiError, invalid
from playground.gallery.models import Image
from playground.generations.edit_inputs import EditInputs, InputsRefused, prepare_edit_inputs
from playground.generations.forms import GenerationForm
from playground.generations.models import Generation
from playground.generations.queueing import JobInputs, JobRefused, NoInputs, queue_generation

logger = logging.getLogger(__name__)

# After a job settled, its answer is read again after these pauses if the database fails.
SETTLED_READ_RETRIES = (0.2, 1.0, 3.0)


@dataclass
class Queued:
    job_id: int
    stream: bool
    rate: RateStatus


@dataclass
class StagedInputs:
    """Inputs whose files were written before the transaction began (it may be the
    idempotency record's, wider than the queueing's own)."""

    inputs: JobInputs

    @property
    def is_edit(self) -> bool:
        return self.inputs.is_edit

    def reference_sizes(self) -> tuple[tuple[int, int], ...]:
        return self.inputs.reference_sizes()

    def stage(self) -> None:
        pass

    def attach(self, generation: Generation) -> None:
        self.inputs.attach(generation)

    def discard(self) -> None:
        self.inputs.discard()

    def close(self) -> None:
        self.inputs.close()


def refusal_error(refused: JobRefused) -> ApiError:
    """The first reason a job was refused, naming its parameter; a budget refusal is OpenAI's
    insufficient_quota. No Retry-After: a monthly budget comes back when the month turns or an
    admin raises it, which is no moment to retry at."""
    for name, messages in refused.errors.items():
        if not messages:
            continue
        param = None if name == "__all__" else name
        if refused.over_budget:
            return ApiError(
                429, messages[0], code="insufficient_quota", error_type="insufficient_quota"
            )
        return invalid(param, messages[0])
    return invalid(None, str(refused) or "The request was refused.")


def _inputs_for(owner: Any, images_request: ImagesRequest) -> EditInputs:
    try:
        return prepare_edit_inputs(owner, images_request.images, [], "", images_request.mask)
    except InputsRefused as refused:
        name, messages = next(iter(refused.errors.items()))
        raise invalid(name, messages[0] if messages else "The images were refused.") from refused


def _validated_form(images_request: ImagesRequest) -> GenerationForm:
    """The generate form for the request, once the chosen model takes every value."""
    is_edit = bool(images_request.images)
    model = find_model(images_request.model_id)
    assert images_request.checked is not None
    spec.check_for_model(images_request.checked, model, is_edit=is_edit)
    form = GenerationForm(form_data(images_request.params, model, is_edit))
    if not form.is_valid():
        raise refusal_error(JobRefused({k: list(v) for k, v in form.errors.items()}))
    return form


def _queue(
    request: HttpRequest, endpoint: str, parse: Callable[[HttpRequest], ImagesRequest]
) -> Queued:
    """Authenticate, check and queue: the job's id, and whether to stream. Raises ApiError,
    (RateLimited among them) before anything is read or queued."""
    key = authenticate_api_request(request)
    rate = check_rate(key, "queue")
    try:
        return _queue_checked(request, endpoint, parse, key, rate)
    except ApiError as error:
        error.headers.update(rate.headers())  # a refusal still tells the caller its limits
        raise


def _queue_checked(
    request: HttpRequest,
    endpoint: str,
    parse: Callable[[HttpRequest], ImagesRequest],
    key: ApiKey,
    rate: RateStatus,
) -> Queued:
    try:
        replay_key = idempotency.idempotency_key(request.headers.get(idempotency.HEADER))
        images_request = parse(request)
        form = _validated_form(images_request)
        inputs: JobInputs = (
            _inputs_for(key.owner, images_request) if images_request.images else NoInputs()
        )
        try:

            def queue() -> Generation:
                return queue_generation(key.owner, form, StagedInputs(inputs), api_key=key)

            inputs.stage()  # the files are written before any transaction begins
            if replay_key is None:
                return Queued(queue().pk, images_request.stream, rate)
            generation, queued_now = idempotency.queue_once(
                key, replay_key, endpoint, images_request.fingerprint(), queue
            )
            if not queued_now:
                inputs.discard()  # this request's files: the earlier job has its own
            return Queued(generation.pk, images_request.stream, rate)
        except BaseException:
            inputs.discard()
            raise
        finally:
            inputs.close()
    except JobRefused as refused:
        raise refusal_error(refused) from refused
    except DatabaseError as error:
        logger.exception("queuing an API request failed")
        raise ApiError(
            503,
            "The job could not be queued just now; nothing was charged. Try again.",
            retry_after=5,
        ) from error


def _with_rate_headers(response: HttpResponseBase, rate: RateStatus) -> HttpResponseBase:
    for name, value in rate.headers().items():
        response[name] = value
    return response


def _settled_response(job_id: int) -> HttpResponse:
    job = Generation.objects.get(pk=job_id)
    images = list(Image.objects.filter(generation_id=job_id).order_by("index"))
    if job.state == Generation.State.SUCCEEDED and images:
        return images_response(job, images)
    return job_error(job).response()


async def _serve(
    request: HttpRequest, endpoint: str, parse: Callable[[HttpRequest], ImagesRequest]
) -> HttpResponseBase:
    if request.method != "POST":
        response = ApiError(
            405, f"Use POST for {request.path}.", code="method_not_allowed"
        ).response()
        response["Allow"] = "POST"
        return response
    try:
        queued = await sync_to_async(read_and_close(lambda: _queue(request, endpoint, parse)))()
    except ApiError as error:  # a refusal, a rate limit (RateLimited) included
        return error.response()
    job_id = queued.job_id
    waited = float(settings.API_WAIT_SECONDS)
    if queued.stream:
        # Server-Sent Events as previews arrive, then the originals, as OpenAI streams.
        return _with_rate_headers(await open_stream(job_id, endpoint, waited), queued.rate)
    if not await wait_until_settled(job_id, waited):
        return _with_rate_headers(still_running(job_id, waited).response(), queued.rate)
    return _with_rate_headers(await _read_settled(job_id), queued.rate)


async def _read_settled(job_id: int) -> HttpResponse:
    """The settled job's answer, read again if the database fails for a moment; past that,
    an error naming the job (it is in the gallery), never one that invites a paid retry."""
    for delay in SETTLED_READ_RETRIES:
        try:
            return await sync_to_async(read_and_close(lambda: _settled_response(job_id)))()
        except DatabaseError as error:
            logger.warning("reading the result of job %s failed (%s)", job_id, error)
            await asyncio.sleep(delay)
    return ApiError(
        503,
        f"Job {job_id} has finished and its images are in your gallery, but they could not "
        "be read just now. Do not send the request again: that would run and charge it again.",
        code="result_unavailable",
        retry_after=5,
    ).response()


@csrf_exempt
async def image_generations(request: HttpRequest) -> HttpResponseBase:
    return await _serve(request, "generations", parse_generation_request)


@csrf_exempt
async def image_edits(request: HttpRequest) -> HttpResponseBase:
    return await _serve(request, "edits", parse_edit_request)
