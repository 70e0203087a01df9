"""Storing upstream images: original bytes untouched, a WebP thumbnail derived separately."""

import hashlib
import io
from datetime import datetime

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from PIL import Image as PILImage

from playground.gallery.models import Image
from playground.generations.models import Generation

THUMBNAIL_EDGE = 384
DISPLAY_EDGE = 1024  # large enough for a result panel on a wide screen, a fraction of a PNG
PIL_FORMATS = {"PNG": "png", "JPEG": "jpeg", "WEBP": "webp"}


def webp_thumbnail(
    data: bytes, edge: int = THUMBNAIL_EDGE, quality: int = 80, method: int = 4
) -> bytes:
    """A WebP of an image fitted within edge x edge, keeping transparency."""
    with PILImage.open(io.BytesIO(data)) as picture:
        picture.thumbnail((edge, edge))
        if picture.mode not in ("RGB", "RGBA"):
            picture = picture.convert("RGBA" if "A" in picture.getbands() else "RGB")
        out = io.BytesIO()
        picture.save(out, "WEBP", quality=quality, method=method)
    return out.getvalue()


def store_image(
    generation: Generation,
    index: int,
    data: bytes,
    revised_prompt: str | None = None,
    created_at: datetime | None = None,
) -> Image:
    """Save one upstream image and its thumbnail; on any failure leave no file or row behind."""
    with PILImage.open(io.BytesIO(data)) as picture:
        image_format = PIL_FORMATS.get(picture.format or "", (picture.format or "bin").lower())
        width, height = picture.size
    image = Image(
        owner_id=generation.owner_id,
        generation=generation,
        index=index,
        format=image_format,
        width=width,
        height=height,
        byte_size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        revised_prompt=revised_prompt or "",
        created_at=created_at or timezone.now(),
    )
    thumbnail = webp_thumbnail(data)
    # A quick encoder setting: this is made while the person waits for the job to settle.
    display = webp_thumbnail(data, DISPLAY_EDGE, quality=85, method=2)
    try:
        image.file.save("original", ContentFile(data), save=False)
        image.thumbnail.save("thumbnail.webp", ContentFile(thumbnail), save=False)
        image.display.save("display.webp", ContentFile(display), save=False)
        with transaction.atomic():
            image.save()
    except BaseException:
        delete_files(image)
        raise
    return image


def delete_files(image: Image) -> None:
    for field_file in (image.file, image.thumbnail, image.display):
        if field_file.name:
            field_file.storage.delete(field_file.name)


def delete_image(image: Image) -> None:
    """Delete the row first, then its files, so a failure never leaves a row without files."""
    image.delete()
    delete_files(image)
