"""A client written from Kie.ai's documentation (tests/clients/kie_client.py) against the ASGI
live server, with a real worker running the jobs on the stand-in upstream: Kie's model ids and
input fields, polling recordInfo, the File Upload API, Kie's error shape and Kie's own sample
verifier for signed callbacks."""

import base64
import io
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from PIL import Image as PILImage

from playground.api.models import AllowedFetchHost
from playground.webhooks.secrets import new_webhook_secret
from tests.clients import kie_client
from tests.clients.kie_client import CallbackRequest, KieClient, KieError
from tests.workers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

TEXT_TO_IMAGE = "gpt-image-2-text-to-image"
IMAGE_TO_IMAGE = "gpt-image-2-image-to-image"
TEXT_TO_IMAGE_15 = "gpt-image/1.5-text-to-image"


def png(size: tuple[int, int], color: str = "teal") -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def picture_size(content: bytes) -> tuple[int, int]:
    with PILImage.open(io.BytesIO(content)) as picture:
        return picture.size


@pytest.fixture
def kie(live_server: Any, secret: str) -> KieClient:
    # Kie serves its File Upload API from a host of its own; here both are this server.
    return KieClient(secret, base_url=live_server.url, upload_base_url=live_server.url)


def finished(kie: KieClient, task_id: str) -> dict[str, Any]:
    return kie.wait_for_task(task_id, timeout=30, interval=0.1)


def fetched_results(kie: KieClient, record: dict[str, Any]) -> list[bytes]:
    assert record["state"] == "success", record
    urls = kie.result_urls(record)
    assert urls
    pictures = []
    for url in urls:
        answer = requests.get(url, timeout=10)
        assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("image/")
        pictures.append(answer.content)
    return pictures


def assert_aspect(content: bytes, width: int, height: int) -> tuple[int, int]:
    size = picture_size(content)
    assert abs(size[0] / size[1] - width / height) < 0.02, size
    return size


# -- Tasks -----------------------------------------------------------------------------------
def test_a_text_to_image_task_with_aspect_ratio_and_resolution_is_polled_to_success(kie, worker):
    task_id = kie.create_task(
        TEXT_TO_IMAGE,
        {"prompt": "a lighthouse at dusk", "aspect_ratio": "16:9", "resolution": "2K"},
    )
    record = finished(kie, task_id)
    assert record["taskId"] == task_id and record["failCode"] in ("", None)
    (picture,) = fetched_results(kie, record)
    width, _height = assert_aspect(picture, 16, 9)
    assert 1500 <= width <= 2600  # "2K" on its long side


def test_a_gpt_image_15_task_takes_aspect_ratio_and_quality(kie, worker):
    task_id = kie.create_task(
        TEXT_TO_IMAGE_15, {"prompt": "a paper boat", "aspect_ratio": "3:2", "quality": "medium"}
    )
    (picture,) = fetched_results(kie, finished(kie, task_id))
    assert_aspect(picture, 3, 2)


@pytest.mark.parametrize(
    ("aspect_ratio", "resolution"),
    [
        ("1:1", "4K"),  # "Images with a 1:1 aspect ratio cannot be converted to 4K images."
        ("auto", "2K"),  # "auto ... will only be converted to 1K images"
        ("4:5", "2K"),  # "for 2K and 4K resolution, ... 5:4, 4:5, 3:1, 1:3, 9:21" are not supported
    ],
)
def test_a_refused_combination_is_kies_422(kie, provider, aspect_ratio, resolution):
    with pytest.raises(KieError) as raised:
        kie.create_task(
            TEXT_TO_IMAGE,
            {"prompt": "a cat", "aspect_ratio": aspect_ratio, "resolution": resolution},
        )
    error = raised.value
    assert isinstance(error.answer, dict) and set(error.answer) >= {"code", "msg", "data"}
    assert error.code == 422 and isinstance(error.msg, str) and error.msg
    # The combination is refused, not either field: the same aspect ratio at 1K is taken.
    assert kie.create_task(
        TEXT_TO_IMAGE, {"prompt": "a cat", "aspect_ratio": aspect_ratio, "resolution": "1K"}
    )


def test_a_bad_key_is_kies_401(live_server, provider):
    stranger = KieClient("not-a-real-key", live_server.url, live_server.url)
    with pytest.raises(KieError) as raised:
        stranger.create_task(TEXT_TO_IMAGE, {"prompt": "a cat"})
    assert raised.value.code == 401


# -- File Upload API, then the upload as an image-to-image input -----------------------------
class PictureServer:
    """A plain HTTP server on loopback serving one picture, for the URL upload to fetch."""

    def __init__(self, content: bytes) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/source.png"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def uploaded(kie: KieClient, method: str, content: bytes, settings: Any) -> dict[str, Any]:
    if method == "base64":
        data_url = "data:image/png;base64," + base64.b64encode(content).decode()
        return kie.upload_base64(data_url, "images/kie-client", "source.png")
    if method == "stream":
        return kie.upload_stream(content, "images/kie-client", "source.png", "image/png")
    # The admin's settings for a source on loopback: the host allowed, private addresses too.
    AllowedFetchHost.objects.create(host="127.0.0.1")
    settings.API_ALLOW_PRIVATE_URLS = True
    source = PictureServer(content)
    try:
        return kie.upload_url(source.url, "images/kie-client", "source.png")
    finally:
        source.stop()


@pytest.mark.parametrize("method", ["base64", "stream", "url"])
def test_an_uploaded_file_is_an_image_to_image_input(kie, worker, settings, method):
    content = png((640, 480))
    upload = uploaded(kie, method, content, settings)
    assert upload["mimeType"] == "image/png" and upload["fileSize"] == len(content)

    task_id = kie.create_task(
        IMAGE_TO_IMAGE,
        {
            "prompt": "paint it at night",
            "input_urls": [upload["downloadUrl"]],
            "aspect_ratio": "4:3",
        },
    )
    (picture,) = fetched_results(kie, finished(kie, task_id))
    assert_aspect(picture, 4, 3)
    # The file is private to its owner: read back with the key, refused without it.
    download = requests.get(upload["downloadUrl"], headers=kie._headers(), timeout=10)
    assert download.status_code == 200, download.text[:300]
    assert download.content == content
    assert requests.get(upload["downloadUrl"], timeout=10).status_code == 401


# -- Signed callbacks, checked with Kie's sample verifier ------------------------------------
@dataclass
class Verified:
    body: dict[str, Any]
    outcome: tuple[bool, str]


@dataclass
class Receiver:
    url: str = ""
    received: list[Verified] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """Answers as Kie's sample handler does: 200 once verified, 401 otherwise."""
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            kie_client.request.current = CallbackRequest(self.headers, body)
            outcome = kie_client.verify_webhook_signature()
            state.received.append(Verified(json.loads(body), outcome))
            reply = json.dumps({"status": "received"} if outcome[0] else {"error": outcome[1]})
            self.send_response(200 if outcome[0] else 401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply.encode())

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/webhook-callback"
    yield state
    server.shutdown()
    server.server_close()


def test_a_callback_verifies_with_kies_sample_verifier(
    kie, worker, alice, receiver, settings, monkeypatch
):
    settings.API_ALLOW_PRIVATE_URLS = True  # the receiver is on loopback
    settings.CALLBACK_RETRY_SECONDS = [0.2, 0.4]
    # The webhookHmacKey, as the owner's Webhooks page makes and shows it.
    monkeypatch.setattr(kie_client, "WEBHOOK_HMAC_KEY", new_webhook_secret(alice))

    task_id = kie.create_task(
        TEXT_TO_IMAGE, {"prompt": "a red kite", "aspect_ratio": "1:1"}, call_back_url=receiver.url
    )
    assert wait_for(lambda: len(receiver.received) >= 1, timeout=30)
    first = receiver.received[0]
    assert first.outcome == (True, "Verified"), first
    assert first.body["code"] == 200 and first.body["data"]["task_id"] == task_id

    fetched_results(kie, finished(kie, task_id))
