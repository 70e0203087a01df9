"""Over ASGI, stored images are streamed by blocks (never read whole) and arrive intact."""

import io
import os
import warnings

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient
from PIL import Image as PILImage

from playground.gallery.storage import store_image
from playground.generations.models import Generation

pytestmark = pytest.mark.django_db(transaction=True)


def noisy_png(size: tuple[int, int]) -> bytes:
    """A PNG that does not compress: several blocks of FileResponse's 8 KB."""
    out = io.BytesIO()
    PILImage.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(out, "PNG")
    return out.getvalue()


def test_an_original_is_streamed_by_blocks_over_asgi(alice):
    data = noisy_png((256, 256))
    job = Generation.objects.create(owner=alice, model="m", prompt="p", params={"n": 1})
    image = store_image(job, 0, data)

    async def download() -> tuple[bool, list[bytes]]:
        asgi = AsyncClient()
        await asgi.aforce_login(alice)
        response = await asgi.get(f"/gallery/{image.pk}/original/")
        assert response.status_code == 200
        return response.is_async, [block async for block in response.streaming_content]

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Django warns when it must read a file whole
        is_async, blocks = async_to_sync(download)()
    assert is_async
    assert len(blocks) > 1
    assert b"".join(blocks) == data
