"""`stream=true` of the Images API: Server-Sent Events as OpenAI sends them.

The job is queued as for a plain request. `open_stream` then holds the answer's headers until
the job has produced something (its first preview or image) or has ended: a job refused or
failed before that (a moderation block) answers a real HTTP error in OpenAI's shape, as
OpenAI's own endpoint does, and a wait that runs out first answers as a plain request does.
Once the headers are out, each preview the worker stored goes as a `<prefix>.partial_image`
event, then each stored original as `<prefix>.completed`; a job that fails after producing
something ends the stream with an `error` event in OpenAI's error shape.

The stream waits on the job's announcements, re-reading every few seconds as `waiting` does.
Every read is short and gives its connection back; a client that hangs up only ends the
stream, never the job.
"""

import asyncio
import base64
import contextlib
import io
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Collection
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import sync_to_async
from django.db import DatabaseError
from django.http import HttpResponseBase, StreamingHttpResponse
from PIL import Image as PILImage

from playground.api.responses import ApiError, job_error, still_running, usage_body
from playground.api.waiting import RECHECK_SECONDS, read_and_close
from playground.gallery.models import Image
from playground.generations.models import Generation, Preview
from playground.generations.push import job_event_hub

logger = logging.getLogger(__name__)

PREFIXES = {"generations": "image_generation", "edits": "image_edit"}
PIL_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}
DESCRIBED = ("background", "output_format", "quality", "size")

# An event to send, or the error that ends the events.
Event = dict[str, Any] | ApiError


@dataclass
class Progress:
    """What one read found: events not sent yet, and whether the stream is over."""

    events: list[dict[str, Any]] = field(default_factory=list)
    sent_previews: list[int] = field(default_factory=list)
    finished: bool = False
    error: ApiError | None = None


def sse(event: dict[str, Any]) -> bytes:
    data = json.dumps(event, separators=(",", ":"))
    return f"event: {event['type']}\ndata: {data}\n\n".encode()


def error_event(error: ApiError) -> dict[str, Any]:
    return {"type": "error", **error.body()}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _described(job: Generation) -> dict[str, Any]:
    """The settings every event reports: what upstream resolved, else what was asked."""
    meta = job.response_meta or {}
    params = job.params or {}
    return {name: meta.get(name) or params.get(name) for name in DESCRIBED}


def _in_output_format(preview: Preview, output_format: str | None) -> bytes:
    """A preview is kept as a small WebP; the event carries it in the job's output format."""
    with preview.file.open("rb") as stored:
        data = stored.read()
    target = PIL_FORMATS.get(output_format or "png", "PNG")
    if target == "WEBP":
        return data
    with PILImage.open(io.BytesIO(data)) as picture:
        if target == "JPEG" and picture.mode != "RGB":
            picture = picture.convert("RGB")
        out = io.BytesIO()
        picture.save(out, target)
    return out.getvalue()


def _partial_event(job: Generation, preview: Preview, prefix: str) -> dict[str, Any]:
    described = _described(job)
    return {
        "type": f"{prefix}.partial_image",
        "b64_json": _b64(_in_output_format(preview, described["output_format"])),
        "partial_image_index": preview.partial_index,
        **described,
        "created_at": int(preview.created_at.timestamp()),
    }


def _completed_event(job: Generation, image: Image, prefix: str) -> dict[str, Any]:
    with image.file.open("rb") as stored:
        data = stored.read()
    # Every completed event carries the usage of the whole request, as OpenAI's do.
    return {
        "type": f"{prefix}.completed",
        "b64_json": _b64(data),
        **_described(job),
        "created_at": int(job.created_at.timestamp()),
        "usage": usage_body(job.usage),
    }


def read_progress(job_id: int, prefix: str, sent: Collection[int]) -> Progress:
    """The job's previews not sent yet, then, once it has settled, its final events (or
    its error, as `Progress.error`)."""
    job = Generation.objects.get(pk=job_id)  # read before the previews: none can come after
    progress = Progress()
    for preview in Preview.objects.filter(generation_id=job_id).exclude(pk__in=list(sent)):
        progress.events.append(_partial_event(job, preview, prefix))
        progress.sent_previews.append(preview.pk)
    if job.state in Generation.UNFINISHED_STATES:
        return progress
    progress.finished = True
    images = list(Image.objects.filter(generation_id=job_id).order_by("index"))
    if job.state == Generation.State.SUCCEEDED and images:
        progress.events.extend(_completed_event(job, image, prefix) for image in images)
    else:
        progress.error = job_error(job)
    return progress


async def job_events(job_id: int, prefix: str, timeout: float) -> AsyncGenerator[Event, None]:
    """The job's events as they come, for at most `timeout` seconds; an ApiError ends them
    (the job failed, or is still running when the time is up)."""
    hub = job_event_hub()
    announced = hub.watch_job(job_id)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    sent: set[int] = set()
    try:
        while True:
            announced.clear()  # before the read: an announcement during it is not lost
            try:
                progress = await sync_to_async(
                    read_and_close(lambda: read_progress(job_id, prefix, frozenset(sent)))
                )()
            except DatabaseError as error:
                # The job is queued and paid for: a database busy for a moment is waited out.
                logger.warning("reading job %s failed (%s); will read again", job_id, error)
                progress = Progress()
            sent.update(progress.sent_previews)
            for event in progress.events:
                yield event
            if progress.error is not None:
                yield progress.error
            if progress.finished:
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                yield still_running(job_id, timeout)
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(announced.wait(), min(RECHECK_SECONDS, remaining))
    finally:
        hub.unwatch_job(job_id, announced)


async def _as_sse(first: list[Event], rest: AsyncGenerator[Event, None]) -> AsyncIterator[bytes]:
    try:
        for event in first:
            yield sse(event if isinstance(event, dict) else error_event(event))
        async for event in rest:
            yield sse(event if isinstance(event, dict) else error_event(event))
    finally:
        await rest.aclose()


def _event_stream(content: AsyncIterator[bytes]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(content, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # a reverse proxy must pass each event on at once
    return response


async def open_stream(job_id: int, endpoint: str, timeout: float) -> HttpResponseBase:
    """The answer to `stream=true`, once the job has produced something or has ended.

    Its first event decides: an error (the job failed before producing anything, or is still
    running after `timeout` seconds) is answered as the plain request answers it, with its
    HTTP status; anything else starts the event stream, within the same `timeout`.
    """
    events = job_events(job_id, PREFIXES[endpoint], timeout)
    first = await anext(events)  # an error in the wait ends `events` too
    if isinstance(first, ApiError):
        await events.aclose()
        return first.response()
    return _event_stream(_as_sse([first], events))
