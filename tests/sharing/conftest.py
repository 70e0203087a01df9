"""Images in the gallery for sharing tests: real files through the gallery's own storage."""

import io
import random

import pytest
from PIL import Image as PILImage

from playground.gallery.models import Image
from playground.gallery.storage import store_image
from tests.jobs import make_job


def png_bytes(width: int = 64, height: int = 48, seed: int = 0) -> bytes:
    """A noisy PNG: every seed gives different bytes, so hashes tell images apart."""
    noise = random.Random(seed).randbytes(width * height * 3)
    out = io.BytesIO()
    PILImage.frombytes("RGB", (width, height), noise).save(out, "PNG")
    return out.getvalue()


def make_image(
    owner,
    prompt: str = "a lighthouse at dusk",
    *,
    index: int = 0,
    job=None,
    seed: int = 0,
    size: tuple[int, int] = (64, 48),
    revised_prompt: str = "",
) -> Image:  # type: ignore[no-untyped-def]
    job = job or make_job(owner, prompt=prompt, state="succeeded")
    return store_image(job, index, png_bytes(*size, seed=seed), revised_prompt=revised_prompt)


@pytest.fixture
def staff(django_user_model):  # type: ignore[no-untyped-def]
    return django_user_model.objects.create_user("sam", password="sam-password-1", is_staff=True)
