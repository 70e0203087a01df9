"""`POST /api/file-base64-upload`: Kie's request and answer, each refusal naming its field."""

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from playground.file_uploads.models import FileUpload
from tests.api.test_task_inputs import noise_png
from tests.file_uploads.uploads import (
    BASE64,
    assert_refused,
    data_url,
    jpeg,
    png,
    post_json,
    stored_files,
)

pytestmark = pytest.mark.django_db

KIE_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def test_it_stores_a_data_url_and_answers_in_kies_shape(client, secret, alice):
    content = png((64, 48))
    response = post_json(
        client,
        BASE64,
        secret,
        {"base64Data": data_url(content), "uploadPath": "images/base64", "fileName": "test.png"},
    )
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["success"] is True and answer["code"] == 200
    assert answer["msg"] == "File uploaded successfully"
    data = answer["data"]
    upload = FileUpload.objects.get()
    assert data["fileName"] == "test.png" and data["filePath"] == "images/base64/test.png"
    assert data["fileSize"] == len(content) and data["mimeType"] == "image/png"
    assert data["downloadUrl"] == f"http://testserver/api/uploads/{upload.token}/test.png"
    assert data["fileUrl"] == data["downloadUrl"] and data["fileId"] == upload.token
    assert data["uploadPath"] == "images/base64" and data["originalName"] == "test.png"
    assert KIE_TIME.fullmatch(data["uploadedAt"]) and data["uploadTime"] == data["uploadedAt"]
    uploaded = datetime.fromisoformat(data["uploadedAt"])
    assert datetime.fromisoformat(data["expiresAt"]) - uploaded == timedelta(days=3)

    assert upload.owner == alice and upload.api_key.name == "script"
    assert (upload.width, upload.height, upload.method) == (64, 48, "base64")
    # Stored as sent, under a random name that is neither the token nor the file's name.
    assert upload.file.name.startswith("uploads/") and upload.file.name.endswith(".png")
    assert upload.token not in upload.file.name and "test" not in upload.file.name
    assert (Path(django_settings.MEDIA_ROOT) / upload.file.name).read_bytes() == content


def test_it_takes_bare_base64_and_makes_up_a_name(client, secret):
    import base64

    content = jpeg()
    body = {"base64Data": base64.b64encode(content).decode(), "uploadPath": "/documents/uploads/"}
    data = post_json(client, BASE64, secret, body).json()["data"]
    assert re.fullmatch(r"[0-9a-f]{16}\.jpg", data["fileName"])
    assert data["filePath"] == f"documents/uploads/{data['fileName']}"
    assert data["mimeType"] == "image/jpeg"


def test_it_needs_no_upload_path(client, secret):
    data = post_json(client, BASE64, secret, {"base64Data": data_url(png())}).json()["data"]
    assert data["filePath"] == data["fileName"] and data["uploadPath"] == ""


@pytest.mark.parametrize(
    ("body", "msg_start"),
    [
        ({"uploadPath": "images"}, "base64Data: required"),
        ({"base64Data": 12}, "base64Data: required"),
        ({"base64Data": "!!!not base64!!!"}, "base64Data: not valid base64"),
        ({"base64Data": "data:image/png,abc"}, "base64Data: a data URL must be base64"),
        ({"base64Data": data_url(b"hello")}, "base64Data: not an image we can read"),
        ({"base64Data": data_url(b"GIF89a" + b"\0" * 40)}, "base64Data: not an image we can"),
        ({"base64Data": data_url(png()[:60])}, "base64Data: the file is truncated or damaged"),
        ({"base64Data": data_url(png()), "uploadPath": "a/../b"}, "uploadPath: folder names"),
        ({"base64Data": data_url(png()), "uploadPath": "a//b"}, "uploadPath: folder names"),
        ({"base64Data": data_url(png()), "uploadPath": 5}, "uploadPath: must be a string"),
        ({"base64Data": data_url(png()), "uploadPath": "a\\b"}, "uploadPath: may not hold"),
        ({"base64Data": data_url(png()), "fileName": "a/b.png"}, "fileName: a file name, not a"),
        ({"base64Data": data_url(png()), "fileName": ".."}, "fileName: not a usable file name"),
        ({"base64Data": data_url(png()), "fileName": "x" * 201}, "fileName: longer than 200"),
        ({"base64Data": data_url(png()), "fileName": ["a.png"]}, "fileName: must be a string"),
        (b"{not json", "body: not valid JSON"),
        (["base64Data"], "body: must be a JSON object"),
    ],
)
def test_it_refuses_bad_fields_naming_them_and_keeps_nothing(client, secret, body, msg_start):
    before = stored_files()
    assert_refused(post_json(client, BASE64, secret, body), 400, msg_start)
    assert not FileUpload.objects.exists() and stored_files() == before


def test_a_file_over_the_limit_is_413(client, secret, settings):
    settings.API_FETCH_MAX_BYTES = 5000
    assert len(noise_png((50, 50))) > 5000
    response = post_json(client, BASE64, secret, {"base64Data": data_url(noise_png((50, 50)))})
    assert_refused(response, 413, "base64Data: the file is larger than")
    # A body too large to hold such a file is refused before it is read.
    huge = {"base64Data": "A" * 200_000}
    assert_refused(
        post_json(client, BASE64, secret, huge), 413, "base64Data: the request body is larger"
    )
    small = post_json(client, BASE64, secret, {"base64Data": data_url(noise_png((30, 30)))})
    assert small.status_code == 200
    assert FileUpload.objects.count() == 1


def test_it_needs_an_api_key_and_a_post(client, secret):
    body = {"base64Data": data_url(png())}
    assert_refused(post_json(client, BASE64, None, body), 401, "Authorization: No API key")
    assert_refused(post_json(client, BASE64, "pk_wrongwrongwrong", body), 401, "Authorization: ")
    response = client.get(BASE64, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert_refused(response, 405, "method: use POST")
    assert response["Allow"] == "POST"
    assert not FileUpload.objects.exists()


def test_uploads_count_against_the_keys_request_limit(client, secret, settings):
    settings.API_RATE_LIMIT_PER_KEY = "2/minute"
    body = {"base64Data": data_url(png())}
    first = post_json(client, BASE64, secret, body)
    assert first.status_code == 200 and first["x-ratelimit-remaining-requests"] == "1"
    assert post_json(client, BASE64, secret, body).status_code == 200
    refused = post_json(client, BASE64, secret, body)
    assert "Rate limit reached" in assert_refused(refused, 429, "")
    assert int(refused["Retry-After"]) >= 1
    assert FileUpload.objects.count() == 2
