"""`POST /api/file-stream-upload`: a multipart `file`, with `uploadPath` and `fileName`."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from playground.file_uploads.models import FileUpload
from tests.api.test_task_inputs import noise_png
from tests.file_uploads.uploads import (
    STREAM,
    assert_refused,
    auth,
    jpeg,
    png,
    post_json,
    stored_files,
)

pytestmark = pytest.mark.django_db


def post_form(client, secret, **fields):  # type: ignore[no-untyped-def]
    return client.post(STREAM, fields, **auth(secret))


def test_it_stores_the_file_under_the_name_given(client, secret, alice):
    content = png((120, 90))
    response = post_form(
        client,
        secret,
        file=SimpleUploadedFile("local.png", content, "image/png"),
        uploadPath="images/user-uploads",
        fileName="my-image.png",
    )
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["success"] is True and answer["code"] == 200
    data = answer["data"]
    assert data["fileName"] == "my-image.png" and data["originalName"] == "local.png"
    assert data["filePath"] == "images/user-uploads/my-image.png"
    assert data["fileSize"] == len(content) and data["mimeType"] == "image/png"
    upload = FileUpload.objects.get()
    assert upload.owner == alice and upload.method == "stream"
    assert upload.file.read() == content


def test_without_a_file_name_it_keeps_the_uploads_own(client, secret):
    response = post_form(client, secret, file=SimpleUploadedFile("holiday photo.jpg", jpeg()))
    data = response.json()["data"]
    assert data["fileName"] == "holiday photo.jpg" and data["filePath"] == "holiday photo.jpg"
    assert data["mimeType"] == "image/jpeg"
    assert data["downloadUrl"].endswith("/holiday%20photo.jpg")


def test_the_type_comes_from_the_bytes_not_the_name(client, secret):
    response = post_form(client, secret, file=SimpleUploadedFile("picture.png", jpeg()))
    assert response.json()["data"]["mimeType"] == "image/jpeg"


@pytest.mark.parametrize(
    ("fields", "msg_start"),
    [
        ({"uploadPath": "images"}, "file: required"),
        ({"file": SimpleUploadedFile("notes.txt", b"hello")}, "file: not an image we can read"),
        ({"file": SimpleUploadedFile("empty.png", b"")}, "file: "),
        (
            {"file": [SimpleUploadedFile("a.png", png()), SimpleUploadedFile("b.png", png())]},
            "file: one file per request (2 given)",
        ),
        (
            {"file": SimpleUploadedFile("a.png", png()), "fileName": "x/y.png"},
            "fileName: a file name, not a path",
        ),
        (
            {"file": SimpleUploadedFile("a.png", png()), "uploadPath": "../up"},
            "uploadPath: folder names",
        ),
    ],
)
def test_it_refuses_bad_fields_naming_them_and_keeps_nothing(client, secret, fields, msg_start):
    before = stored_files()
    assert_refused(post_form(client, secret, **fields), 400, msg_start)
    assert not FileUpload.objects.exists() and stored_files() == before


def test_a_body_that_is_not_multipart_is_refused(client, secret):
    response = post_json(client, STREAM, secret, {"file": "a.png"})
    assert_refused(response, 400, "file: send the file as multipart/form-data")


@pytest.mark.parametrize("size", [(50, 50), (200, 200)])  # over the cap, and far over it
def test_a_file_over_the_limit_is_413(client, secret, settings, size):
    settings.API_FETCH_MAX_BYTES = 5000
    big = SimpleUploadedFile("big.png", noise_png(size))
    assert_refused(post_form(client, secret, file=big), 413, "file: the file is larger than")
    assert not FileUpload.objects.exists()


def test_it_needs_an_api_key(client, outsider):
    response = post_form(client, None, file=SimpleUploadedFile("a.png", png()))
    assert_refused(response, 401, "Authorization: ")
    assert not FileUpload.objects.exists()
