"""Reference images and masks given to createTask as URLs: this server's own result and gallery
URLs, data URLs, and fetches from hosts an admin allowed, under the address rules."""

import base64
import hashlib
import io
import threading
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from PIL import Image as PILImage

from playground.accounts.models import UserBudget
from playground.api.models import AllowedFetchHost, ApiTask
from playground.apikeys.models import ApiKey
from playground.gallery.models import Image
from playground.generations.models import Generation
from playground.inputs.models import InputFile
from tests.api.test_openai_images import mask_png
from tests.api.test_task_api import (
    assert_error,
    create,
    created_task_id,
    finished_record,
    old_token,
    png,
    result_urls,
    task_body,
)

pytestmark = pytest.mark.django_db(transaction=True)


def data_url(content: bytes, media_type: str = "image/png") -> str:
    return f"data:{media_type};base64,{base64.b64encode(content).decode()}"


def noise_png(size: tuple[int, int]) -> bytes:
    """A PNG that does not compress: its bytes grow with its pixels."""
    picture = PILImage.frombytes(
        "RGB", size, hashlib.shake_256(b"noise").digest(3 * size[0] * size[1])
    )
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()


class PictureServer:
    """A plain HTTP server on loopback serving pictures: `/<name>` with a Content-Length,
    `/unsized/<name>` without one (the body ends when the connection closes)."""

    def __init__(self, pictures: dict[str, bytes]) -> None:
        self.pictures = pictures
        self.hits: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits.append(self.path)
                unsized = self.path.startswith("/unsized/")
                content = server.pictures.get(self.path.removeprefix("/unsized").lstrip("/"))
                if content is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                if not unsized:
                    self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{path}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def pictures() -> Iterator[PictureServer]:
    server = PictureServer({"small.png": png((200, 150), "blue"), "noise.png": noise_png((64, 64))})
    yield server
    server.stop()


def input_files_on_disk() -> set[Path]:
    folder = Path(django_settings.MEDIA_ROOT) / "inputs"
    return {path for path in folder.rglob("*") if path.is_file()} if folder.exists() else set()


def job_of(task_id: str) -> Generation:
    return ApiTask.objects.select_related("generation").get(task_id=task_id).generation


def test_it_edits_with_result_gallery_and_data_urls_and_a_mask(
    live_server, secret, worker, upstream
):
    first = finished_record(live_server, secret, created_task_id(live_server, secret, task_body()))
    (result_url,) = result_urls(first)
    earlier = Image.objects.get()
    gallery_url = f"{live_server.url}/gallery/{earlier.pk}/original/"
    body = task_body(
        prompt="put a hat on it",
        input_urls=[result_url, gallery_url, data_url(png((300, 300), "green"))],
        mask_url=data_url(mask_png((earlier.width, earlier.height))),
    )
    task_id = created_task_id(live_server, secret, body)
    data = finished_record(live_server, secret, task_id)
    assert data["state"] == "success", data

    job = job_of(task_id)
    assert job.operation == "edit" and job.mask is not None
    inputs = list(job.inputs.all())
    assert [item.source_image_id for item in inputs] == [earlier.pk, earlier.pk, None]
    sent = upstream.requests[-1]
    assert sent["path"].endswith("/images/edits")
    size = [earlier.width, earlier.height]
    assert sent["image_sizes"] == [size, size, [300, 300]] and sent["mask_size"] == size
    # The data URLs are not copied whole into the task's recorded request.
    recorded = ApiTask.objects.get(task_id=task_id).param["input"]
    assert recorded["input_urls"][:2] == [result_url, gallery_url]
    assert len(recorded["input_urls"][2]) < 200 and len(recorded["mask_url"]) < 200


def test_another_users_images_and_expired_results_are_refused(
    live_server, secret, worker, alice, bob
):
    _key, bobs_secret = ApiKey.issue(bob, "bobs", created_by=bob)
    (bobs_result,) = result_urls(
        finished_record(
            live_server, bobs_secret, created_task_id(live_server, bobs_secret, task_body())
        )
    )
    bobs_image = Image.objects.get(owner=bob)
    for url in (bobs_result, f"{live_server.url}/gallery/{bobs_image.pk}/"):
        response = create(live_server, secret, task_body(input_urls=[data_url(png((64, 64))), url]))
        assert_error(response, 422, "input.input_urls[1]: the URL names no image in your gallery")
    expired = f"{live_server.url}/api/v1/results/{old_token(bobs_image.pk)}"
    response = create(live_server, secret, task_body(input_urls=[expired]))
    assert_error(response, 422, "input.input_urls[0]: the result URL has expired")
    assert_error(
        create(
            live_server,
            secret,
            task_body(mask_url=bobs_result, input_urls=[data_url(png((64, 64)))]),
        ),
        422,
        "input.mask_url: the URL names no image in your gallery",
    )
    assert not Generation.objects.filter(owner=alice).exists()


def test_other_hosts_need_an_admins_allowance_and_a_public_address(
    live_server, secret, provider, pictures, settings
):
    url = pictures.url("small.png")
    for refused in (url, "https://images.example.com/a.png"):
        host = "127.0.0.1" if refused == url else "images.example.com"
        response = create(live_server, secret, task_body(input_urls=[refused]))
        assert_error(
            response,
            422,
            f"input.input_urls[0]: the host {host} is not allowed; an admin can allow it",
        )
    AllowedFetchHost.objects.create(host="127.0.0.1")
    msg = assert_error(
        create(live_server, secret, task_body(input_urls=[url])), 422, "input.input_urls[0]: "
    )
    assert "loopback" in msg
    assert pictures.hits == [] and not Generation.objects.exists()

    settings.API_ALLOW_PRIVATE_URLS = True
    task_id = created_task_id(live_server, secret, task_body(input_urls=[url]))
    assert pictures.hits == ["/small.png"]
    (item,) = job_of(task_id).inputs.select_related("input_file")
    assert (item.input_file.width, item.input_file.height) == (200, 150)


@pytest.mark.parametrize("path", ["noise.png", "unsized/noise.png", "missing.png"])
def test_an_oversize_or_failed_fetch_is_refused(
    live_server, secret, provider, pictures, settings, path
):
    settings.API_ALLOW_PRIVATE_URLS = True
    settings.API_FETCH_MAX_BYTES = 5000
    AllowedFetchHost.objects.create(host="127.0.0.1")
    response = create(live_server, secret, task_body(input_urls=[pictures.url(path)]))
    reason = "HTTP 404" if path == "missing.png" else "larger than"
    assert reason in assert_error(response, 422, "input.input_urls[0]: ")
    assert not Generation.objects.exists()


@pytest.mark.parametrize(
    ("input_urls", "mask_url", "msg_start"),
    [
        (
            ["ftp://example.com/a.png"],
            None,
            "input.input_urls[0]: Only http and https URLs are allowed",
        ),
        (["http://[::1/a.png"], None, "input.input_urls[0]: The URL is not valid"),
        (["data:text/plain;base64,aGVsbG8="], None, "input.input_urls[0]: a data URL must"),
        (["data:image/png,abc"], None, "input.input_urls[0]: a data URL must"),
        (["data:image/png;base64,!!!!"], None, "input.input_urls[0]: the data URL is not valid"),
        (["data:image/png;base64,aGVsbG8="], None, "input.input_urls[0]: "),
        ([data_url(png((64, 64))), data_url(b"GIF89a-nope")], None, "input.input_urls[1]: "),
        ([data_url(noise_png((100, 100)))], None, "input.input_urls[0]: the image is larger than"),
        ([], data_url(mask_png((64, 64))), "input.mask_url: a mask needs input_urls"),
        ([data_url(png((64, 64)))], "data:image/png;base64,aGVsbG8=", "input.mask_url: "),
        (
            [data_url(png((64, 64)))],
            data_url(mask_png((128, 128))),
            "input.mask_url: Invalid mask image: mask size 128x128 does not match image size",
        ),
        (["/gallery/"], None, "input.input_urls[0]: this server's URL names no image"),
        (["/gallery/99999999/"], None, "input.input_urls[0]: the URL names no image in"),
        (["/gallery/99999999999999999999999/original/"], None, "input.input_urls[0]: the URL"),
        (["/api/v1/results/not-a-token"], None, "input.input_urls[0]: the result URL is not valid"),
        (["https://example.com/" + "a" * 3000], None, "input.input_urls[0]: the URL is longer"),
    ],
)
def test_unusable_urls_are_422_naming_the_field_and_leave_nothing(
    live_server, secret, provider, settings, input_urls, mask_url, msg_start
):
    settings.API_FETCH_MAX_BYTES = 20_000
    own = [live_server.url + url if url.startswith("/") else url for url in input_urls]
    before = input_files_on_disk()
    response = create(live_server, secret, task_body(input_urls=own, mask_url=mask_url))
    assert_error(response, 422, msg_start)
    assert not Generation.objects.exists() and not InputFile.objects.exists()
    assert input_files_on_disk() == before


def test_a_refusal_after_the_inputs_were_written_removes_them(live_server, secret, alice, provider):
    UserBudget.objects.create(user=alice, monthly_usd=Decimal("0.01"))
    before = input_files_on_disk()
    response = create(
        live_server,
        secret,
        task_body(quality="high", input_urls=[data_url(png((320, 240), "teal"))]),
    )
    assert "monthly budget" in assert_error(response, 402, "")
    assert not Generation.objects.exists() and not InputFile.objects.exists()
    assert input_files_on_disk() == before


def test_the_images_of_one_task_together_are_capped(live_server, secret, provider, settings):
    settings.API_FETCH_MAX_TOTAL_BYTES = 6000
    picture = data_url(noise_png((40, 40)))  # about 4,900 bytes: one fits, two do not
    response = create(live_server, secret, task_body(input_urls=[picture]))
    assert response.status_code == 200, response.text
    response = create(live_server, secret, task_body(input_urls=[picture, picture]))
    assert "together are larger than" in assert_error(response, 422, "input.input_urls[1]: ")
    assert Generation.objects.count() == 1


def test_slow_fetches_share_one_deadline(live_server, secret, provider, settings):
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    picture = png((64, 64), "blue")

    class Slow(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            time.sleep(0.7)
            self.send_response(200)
            self.send_header("Content-Length", str(len(picture)))
            self.end_headers()
            self.wfile.write(picture)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings.API_ALLOW_PRIVATE_URLS = True
        settings.API_FETCH_TIMEOUT_SECONDS = 2
        AllowedFetchHost.objects.create(host="127.0.0.1")
        url = f"http://127.0.0.1:{server.server_address[1]}/slow.png"
        started = time.monotonic()
        response = create(live_server, secret, task_body(input_urls=[url] * 6))
        took = time.monotonic() - started
    finally:
        server.shutdown()
        server.server_close()
    # Each fetch alone is well within 2 s; six of them are not.
    assert "took longer than 2 s" in assert_error(response, 422, "input.input_urls[")
    assert took < 4
    assert not Generation.objects.exists()
