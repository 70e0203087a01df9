"""Weight on the wire: text responses gzip-compressed, images as they are, static files in .br."""

import gzip
import hashlib
import io
import os
import re

import pytest
from django.core.management import call_command
from django.test import Client
from django.test.utils import override_settings
from django.utils import timezone
from PIL import Image as PILImage

from playground.core.compression import is_compressible
from playground.gallery.storage import store_image
from playground.generations.models import Generation

pytestmark = pytest.mark.django_db

GZIP = {"Accept-Encoding": "gzip, deflate, br"}
# CSRF tokens are masked afresh for every response (Django's BREACH mitigation).
CSRF_TOKEN = re.compile(rb"[A-Za-z0-9]{64}")


def same_page(compressed: bytes, plain: bytes) -> None:
    html = gzip.decompress(compressed)
    assert CSRF_TOKEN.sub(b"TOKEN", html) == CSRF_TOKEN.sub(b"TOKEN", plain)


def noise_png(side: int = 96) -> bytes:
    out = io.BytesIO()
    PILImage.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(out, "PNG")
    return out.getvalue()


def picture(color: str) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (32, 24), color).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize("path", ["/", "/gallery/"])
def test_pages_are_gzip_compressed_when_the_client_accepts_it(logged_in, alice, path):
    for number, color in enumerate(("red", "green", "blue", "orange", "teal", "purple")):
        job = Generation.objects.create(
            owner=alice,
            model="gpt-image-2",
            prompt=f"picture {number}",
            params={"n": 1},
            state="succeeded",
            finished_at=timezone.now(),  # a fixed elapsed time: both renderings say the same
        )
        store_image(job, 0, picture(color))
    compressed = logged_in.get(path, headers=GZIP)
    plain = logged_in.get(path)
    assert compressed.status_code == plain.status_code == 200
    assert compressed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in compressed["Vary"]
    assert not plain.has_header("Content-Encoding")
    assert int(compressed["Content-Length"]) == len(compressed.content)
    assert len(compressed.content) < len(plain.content) / 2
    same_page(compressed.content, plain.content)


def test_an_htmx_partial_is_compressed_too(logged_in):
    url = "/pricing/estimate/?model=gpt-image-2&size=1024x1024&n=1"
    htmx = {"HX-Request": "true"}
    compressed = logged_in.get(url, headers={**htmx, **GZIP})
    plain = logged_in.get(url, headers=htmx)
    assert len(plain.content) > 200  # large enough to be worth it
    assert compressed["Content-Encoding"] == "gzip"
    assert gzip.decompress(compressed.content) == plain.content


def test_images_are_served_byte_identical_and_never_gzipped(logged_in, alice):
    data = noise_png()
    job = Generation.objects.create(owner=alice, model="gpt-image-2", prompt="p", params={"n": 1})
    image = store_image(job, 0, data)
    for suffix in ("original", "download", "thumbnail"):
        response = logged_in.get(f"/gallery/{image.pk}/{suffix}/", headers=GZIP)
        assert response.status_code == 200
        assert not response.has_header("Content-Encoding"), suffix
        assert "Accept-Encoding" not in response.get("Vary", ""), suffix
        assert response["ETag"].startswith('"'), suffix  # still a strong ETag
        body = b"".join(response.streaming_content)
        if suffix != "thumbnail":
            assert body == data
            assert hashlib.sha256(body).hexdigest() == image.sha256


def test_it_compresses_text_like_types_only():
    for content_type in (
        "text/html; charset=utf-8",
        "text/plain",
        "text/css",
        "application/json",
        "application/javascript",
        "image/svg+xml",
    ):
        assert is_compressible(content_type), content_type
    for content_type in ("image/png", "image/webp", "image/jpeg", "text/event-stream", ""):
        assert not is_compressible(content_type), content_type


def test_collectstatic_writes_brotli_files_that_whitenoise_serves(tmp_path):
    storage = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=storage):
        # The project's own files: the admin's hundreds would only make the test slow.
        call_command("collectstatic", interactive=False, verbosity=0, ignore_patterns=["admin"])
        (css,) = (tmp_path / "css").glob("app.*.css")
        assert css.with_name(css.name + ".br").exists()
        assert css.with_name(css.name + ".gz").exists()
        for script in ("mask/index", "mask/editor"):
            (hashed,) = (tmp_path / "js").glob(f"{script}.*.js")
            assert hashed.with_name(hashed.name + ".br").exists()

        # A new client loads the middleware afresh: whitenoise indexes this STATIC_ROOT.
        response = Client().get(f"/static/css/{css.name}", headers=GZIP)
        assert response.status_code == 200
        assert response["Content-Encoding"] == "br"
        body = b"".join(response.streaming_content)
        assert body == css.with_name(css.name + ".br").read_bytes()
