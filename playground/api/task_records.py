"""A task API task as `recordInfo` and callbacks describe it, in Kie.ai's shapes.

`record_body(task)` is the whole answer: `{"code": 200, "msg": "success", "data": {...}}`,
where `data` carries `taskId`, `model`, `state`, `param` and `resultJson` (both JSON text, as
Kie sends them), `failCode`, `failMsg`, the times in milliseconds, and the cost in USD.
Result URLs are signed and expire (API_RESULT_URL_SECONDS); the view that serves them checks
the signature, the image and its owner again on every request.
"""

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core import signing
from django.urls import reverse

from playground.api.models import ApiTask
from playground.gallery.models import Image
from playground.generations.models import Generation

RESULT_SALT = "playground.api.result-url"

# The playground's job states, in Kie's words.
WAITING = "waiting"  # queued, not yet started by a worker
QUEUING = "queuing"  # back in the queue after a worker gave it back or an upstream retry
GENERATING = "generating"
SUCCESS = "success"
FAIL = "fail"
FINISHED_STATES = (SUCCESS, FAIL)


def task_state(job: Generation) -> str:
    if job.state == Generation.State.QUEUED:
        return QUEUING if job.runs else WAITING
    if job.state == Generation.State.RUNNING:
        return GENERATING
    if job.state == Generation.State.SUCCEEDED:
        return SUCCESS
    return FAIL


def _millis(moment: datetime | None) -> int | None:
    return int(moment.timestamp() * 1000) if moment else None


def result_token(image: Image) -> str:
    """A signed, timestamped token naming one image (it expires API_RESULT_URL_SECONDS after
    it was made)."""
    return signing.dumps({"image": image.pk}, salt=RESULT_SALT, compress=False)


def image_for_token(token: str) -> int:
    """The image id a result token names; raises signing.BadSignature (or SignatureExpired)."""
    payload = signing.loads(token, salt=RESULT_SALT, max_age=settings.API_RESULT_URL_SECONDS)
    if not isinstance(payload, dict) or not isinstance(payload.get("image"), int):
        raise signing.BadSignature("not a result token")
    return payload["image"]


def result_url(task: ApiTask, image: Image) -> str:
    path = reverse("api-task-result", args=[result_token(image)])
    return task.base_url.rstrip("/") + path


def _fail(job: Generation) -> tuple[str, str]:
    if job.state == Generation.State.CANCELLED:
        return "cancelled", job.error_message or "The task was cancelled."
    if job.state == Generation.State.FAILED:
        return job.error_code or "failed", job.error_message or "The task failed."
    return "", ""


def _usd(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


def record_data(task: ApiTask, images: list[Image] | None = None) -> dict[str, Any]:
    """`data` of recordInfo for `task` (whose generation is loaded fresh by the caller)."""
    job = task.generation
    state = task_state(job)
    if images is None:
        images = (
            []
            if job.deleted_at
            else list(Image.objects.filter(generation_id=job.pk).order_by("index"))
        )
    result = {"resultUrls": [result_url(task, image) for image in images]} if images else {}
    fail_code, fail_msg = _fail(job)
    finished = state in FINISHED_STATES
    cost_time = None
    if finished and job.finished_at and job.created_at:
        cost_time = int((job.finished_at - job.created_at).total_seconds() * 1000)
    return {
        "taskId": task.task_id,
        "model": job.model,
        "state": state,
        "param": json.dumps(task.param, separators=(",", ":")),
        "resultJson": json.dumps(result, separators=(",", ":")) if result else "",
        "failCode": fail_code,
        "failMsg": fail_msg,
        "costTime": cost_time,
        "completeTime": _millis(job.finished_at) if finished else None,
        "createTime": _millis(job.created_at),
        "updateTime": _millis(job.finished_at or job.started_at or job.created_at),
        "costUsd": _usd(job.actual_usd),
        "estimatedUsd": {
            "low": _usd(job.estimated_usd_low),
            "high": _usd(job.estimated_usd_high),
        },
        "usage": job.usage,
    }


def record_body(task: ApiTask) -> dict[str, Any]:
    return {"code": 200, "msg": "success", "data": record_data(task)}


def callback_body(task: ApiTask) -> dict[str, Any]:
    """What a task's callback posts: its record, as Kie's callbacks carry it. Kie's own sample
    verifier reads the id the signature covers from `data.task_id`, so it is there too."""
    body = record_body(task)
    body["data"]["task_id"] = body["data"]["taskId"]
    return body
