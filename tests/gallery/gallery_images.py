"""Gallery images for the gallery tests: real stored files, or many rows sharing one image's."""

import io
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone
from PIL import Image as PILImage

from playground.gallery.models import Image
from playground.gallery.storage import store_image
from playground.generations.models import Generation


def png(color: str | tuple[int, int, int] = "red", size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def make_image(
    owner: Any,
    prompt: str = "a lighthouse at dusk",
    *,
    model: str = "gpt-image-2",
    operation: str = "generate",
    quality: str = "low",
    state: str = "succeeded",
    created_at: datetime | None = None,
    revised_prompt: str = "",
    index: int = 0,
    data: bytes | None = None,
) -> Image:
    """One stored image (original, thumbnails, display) of a new job with these settings."""
    job = Generation.objects.create(
        owner=owner,
        model=model,
        operation=operation,
        prompt=prompt,
        params={"model": model, "prompt": prompt, "n": index + 1, "quality": quality},
        state=state,
    )
    return store_image(
        job, index, data or png(), revised_prompt=revised_prompt, created_at=created_at
    )


def clone_images(template: Image, count: int, start: datetime | None = None) -> list[Image]:
    """`count` more rows of `template`'s owner sharing its files, one job each, a second apart.

    Created with bulk_create: fast enough for thousands, and each with its own created_at.
    """
    start = start or timezone.now() - timedelta(days=1)
    jobs = Generation.objects.bulk_create(
        Generation(
            owner_id=template.owner_id,
            model="gpt-image-2",
            prompt=f"clone {number}",
            params={"n": 1, "quality": "low"},
            state="succeeded",
        )
        for number in range(count)
    )
    fields = {
        "owner_id": template.owner_id,
        "file": template.file.name,
        "thumbnail": template.thumbnail.name,
        "thumbnail_2x": template.thumbnail_2x.name,
        "display": template.display.name,
        "format": template.format,
        "width": template.width,
        "height": template.height,
        "byte_size": template.byte_size,
        "sha256": template.sha256,
    }
    return Image.objects.bulk_create(
        Image(generation=job, created_at=start - timedelta(seconds=number), **fields)
        for number, job in enumerate(jobs)
    )
