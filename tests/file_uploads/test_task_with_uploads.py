"""A program written from Kie's docs: upload the references here, then name their `downloadUrl`
in createTask's `input_urls` and `mask_url`; the task reads them without an HTTP fetch."""

import base64
from datetime import timedelta
from typing import Any

import pytest
import requests
from django.utils import timezone

from playground.api.models import ApiTask
from playground.file_uploads.models import FileUpload
from playground.generations.models import Generation
from tests.api.test_openai_images import mask_png
from tests.api.test_task_api import (
    assert_error,
    create,
    created_task_id,
    finished_record,
    task_body,
)
from tests.file_uploads.uploads import BASE64, STREAM, jpeg, png

pytestmark = pytest.mark.django_db(transaction=True)


def uploaded(live_server: Any, secret: str, content: bytes, name: str) -> str:
    """The downloadUrl of a base64 upload made over HTTP, as a program would."""
    response = requests.post(
        live_server.url + BASE64,
        json={
            "base64Data": base64.b64encode(content).decode(),
            "uploadPath": "refs",
            "fileName": name,
        },
        headers={"Authorization": f"Bearer {secret}"},
        timeout=20,
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]["downloadUrl"]


def streamed(live_server: Any, secret: str, content: bytes, name: str) -> str:
    response = requests.post(
        live_server.url + STREAM,
        files={"file": (name, content)},
        data={"uploadPath": "refs"},
        headers={"Authorization": f"Bearer {secret}"},
        timeout=20,
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]["downloadUrl"]


def test_it_runs_a_task_whose_references_and_mask_are_uploads(
    live_server, secret, worker, upstream
):
    first = uploaded(live_server, secret, png((300, 200), "orange"), "first.png")
    second = streamed(live_server, secret, jpeg((120, 90)), "zweites Bild ä?.jpg")
    mask = uploaded(live_server, secret, mask_png((300, 200)), "mask.png")
    assert first.startswith(live_server.url + "/api/uploads/") and first.endswith("/first.png")
    assert second.endswith("/zweites%20Bild%20%C3%A4%3F.jpg")
    # The owner's key fetches the bytes back, as Kie's downloadUrl would give them.
    fetched = requests.get(first, headers={"Authorization": f"Bearer {secret}"}, timeout=10)
    assert fetched.status_code == 200 and fetched.headers["Content-Type"] == "image/png"

    body = task_body(prompt="add a rainbow", input_urls=[first, second], mask_url=mask)
    task_id = created_task_id(live_server, secret, body)
    data = finished_record(live_server, secret, task_id)
    assert data["state"] == "success", data

    job = ApiTask.objects.select_related("generation").get(task_id=task_id).generation
    assert job.operation == "edit" and job.mask is not None
    sizes = [(item.input_file.width, item.input_file.height) for item in job.inputs.all()]
    assert sizes == [(300, 200), (120, 90)]
    sent = upstream.requests[-1]
    assert sent["image_sizes"] == [[300, 200], [120, 90]] and sent["mask_size"] == [300, 200]
    assert ApiTask.objects.get(task_id=task_id).param["input"]["input_urls"] == [first, second]


def test_an_outsiders_upload_names_no_file_of_yours(live_server, secret, outsider, provider):
    bobs = uploaded(live_server, outsider, png((64, 64)), "bobs.png")
    mine = uploaded(live_server, secret, png((64, 64)), "mine.png")
    response = create(live_server, secret, task_body(input_urls=[mine, bobs]))
    assert_error(response, 422, "input.input_urls[1]: the URL names no file of yours")
    response = create(live_server, secret, task_body(input_urls=[mine], mask_url=bobs))
    assert_error(response, 422, "input.mask_url: the URL names no file of yours")
    assert not Generation.objects.exists()


def test_an_expired_upload_is_refused(live_server, secret, provider):
    url = uploaded(live_server, secret, png((64, 64)), "old.png")
    FileUpload.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = create(live_server, secret, task_body(input_urls=[url]))
    assert_error(response, 422, "input.input_urls[0]: the URL names no file of yours")
    assert not Generation.objects.exists()


def test_an_upload_that_is_not_a_usable_reference_is_refused_by_the_task(
    live_server, secret, provider
):
    """A mask that marks nothing to edit is a real image, so it uploads; the task says why
    it cannot use it, naming the field."""
    opaque = uploaded(live_server, secret, png((64, 64), "black"), "opaque.png")
    reference = uploaded(live_server, secret, png((64, 64)), "ref.png")
    response = create(live_server, secret, task_body(input_urls=[reference], mask_url=opaque))
    assert_error(response, 422, "input.mask_url: ")
    assert not Generation.objects.exists()
