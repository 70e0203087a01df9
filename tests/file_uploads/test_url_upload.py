"""`POST /api/file-url-upload`: `fileUrl` fetched under the task API's rules (a host an admin
allowed, a public address unless private ones are allowed, the byte cap and the deadline)."""

from collections.abc import Iterator

import pytest

from playground.api.models import AllowedFetchHost
from playground.file_uploads.models import FileUpload
from tests.api.test_task_inputs import PictureServer, noise_png
from tests.file_uploads.uploads import URL, assert_refused, png, post_json, stored_files

pytestmark = pytest.mark.django_db


@pytest.fixture
def pictures() -> Iterator[PictureServer]:
    server = PictureServer(
        {"small.png": png((200, 150), "blue"), "noise.png": noise_png((64, 64)), "x.txt": b"hi"}
    )
    yield server
    server.stop()


@pytest.fixture
def allowed(settings) -> None:  # type: ignore[no-untyped-def]
    """The picture server's host allowed by an admin, its loopback address too."""
    settings.API_ALLOW_PRIVATE_URLS = True
    AllowedFetchHost.objects.create(host="127.0.0.1")


def test_it_fetches_and_stores_the_file_named_after_the_url(client, secret, pictures, allowed):
    body = {"fileUrl": pictures.url("small.png"), "uploadPath": "images/downloaded"}
    response = post_json(client, URL, secret, body)
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["success"] is True and answer["msg"] == "File uploaded successfully"
    data = answer["data"]
    assert data["fileName"] == "small.png" and data["filePath"] == "images/downloaded/small.png"
    assert data["mimeType"] == "image/png" and data["fileSize"] == len(png((200, 150), "blue"))
    upload = FileUpload.objects.get()
    assert (upload.width, upload.height, upload.method) == (200, 150, "url")
    assert pictures.hits == ["/small.png"]


def test_a_file_name_given_is_used(client, secret, pictures, allowed):
    body = {"fileUrl": pictures.url("small.png"), "uploadPath": "a", "fileName": "mine.png"}
    data = post_json(client, URL, secret, body).json()["data"]
    assert data["filePath"] == "a/mine.png" and data["originalName"] == "small.png"


def test_a_host_no_admin_allowed_is_not_fetched(client, secret, pictures, settings):
    settings.API_ALLOW_PRIVATE_URLS = True
    response = post_json(client, URL, secret, {"fileUrl": pictures.url("small.png")})
    assert_refused(
        response, 400, "fileUrl: the host 127.0.0.1 is not allowed; an admin can allow it."
    )
    assert pictures.hits == [] and not FileUpload.objects.exists()


def test_an_allowed_host_on_a_private_address_is_refused(client, secret, pictures):
    AllowedFetchHost.objects.create(host="127.0.0.1")
    msg = assert_refused(
        post_json(client, URL, secret, {"fileUrl": pictures.url("small.png")}), 400, "fileUrl: "
    )
    assert "loopback" in msg
    assert pictures.hits == [] and not FileUpload.objects.exists()


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("missing.png", "Fetching it answered HTTP 404"),
        ("noise.png", "It is larger than"),
        ("unsized/noise.png", "It is larger than"),
        ("x.txt", "not an image we can read"),
    ],
)
def test_a_failed_oversize_or_unreadable_fetch_is_refused(
    client, secret, pictures, allowed, settings, path, reason
):
    settings.API_FETCH_MAX_BYTES = 5000
    before = stored_files()
    response = post_json(client, URL, secret, {"fileUrl": pictures.url(path)})
    assert reason in assert_refused(response, 400, "fileUrl: ")
    assert not FileUpload.objects.exists() and stored_files() == before


@pytest.mark.parametrize(
    ("body", "msg_start"),
    [
        ({}, "fileUrl: required"),
        ({"fileUrl": "ftp://example.com/a.png"}, "fileUrl: Only http and https URLs are allowed"),
        ({"fileUrl": "http://[::1/a.png"}, "fileUrl: The URL is not valid"),
        ({"fileUrl": "https://example.com/" + "a" * 2100}, "fileUrl: longer than 2000"),
        ({"fileUrl": "https://example.com/a.png", "uploadPath": "./x"}, "uploadPath: "),
        ({"fileUrl": "https://example.com/a.png", "fileName": "a\\b.png"}, "fileName: "),
    ],
)
def test_bad_fields_are_refused_before_anything_is_fetched(client, secret, body, msg_start):
    assert_refused(post_json(client, URL, secret, body), 400, msg_start)


def test_a_large_body_is_413(client, secret):
    body = {"fileUrl": "https://example.com/a.png", "fileName": "a" * 70_000}
    assert_refused(post_json(client, URL, secret, body), 413, "body: the request body is larger")
