"""Over ASGI, stored images are streamed by blocks (never read whole) and arrive intact."""

import asyncio
import io
import os
import warnings
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from PIL import Image as PILImage

from playground.core.asgi_files import FileStreamingASGIHandler
from playground.gallery.storage import store_image
from playground.generations.models import Generation

pytestmark = pytest.mark.django_db(transaction=True)


def noisy_png(size: tuple[int, int]) -> bytes:
    """A PNG that does not compress: several blocks of the handler's 64 KB."""
    out = io.BytesIO()
    PILImage.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(out, "PNG")
    return out.getvalue()


def test_an_original_is_streamed_by_blocks_over_asgi(client, alice):
    data = noisy_png((512, 512))
    job = Generation.objects.create(owner=alice, model="m", prompt="p", params={"n": 1})
    image = store_image(job, 0, data)
    client.force_login(alice)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    scope = {
        "type": "http",
        "method": "GET",
        "path": f"/gallery/{image.pk}/original/",
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1"), (b"cookie", cookie.encode())],
        "server": ("127.0.0.1", 80),
        "client": ("127.0.0.1", 5000),
    }

    async def download() -> tuple[bool, list[bytes]]:
        handler = FileStreamingASGIHandler()
        response = await handler.run_get_response(ASGIRequest(scope, io.BytesIO()))
        assert response.status_code == 200
        blocks = [block async for block in response.streaming_content]
        response.close()
        return response.is_async, blocks

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Django warns when it must read a file whole
        # A thread of its own: a browser test may have left an event loop in this one.
        with ThreadPoolExecutor(1) as pool:
            is_async, blocks = pool.submit(asyncio.run, download()).result()
    assert is_async
    assert len(blocks) > 1
    assert b"".join(blocks) == data
