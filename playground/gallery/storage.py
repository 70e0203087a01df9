"""Storing upstream images: original bytes untouched, a WebP thumbnail derived separately."""

import hashlib
import io
from dataclasses import dataclass
from datetime import datetime

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from PIL import Image as PILImage

from playground.gallery.models import Image
from playground.generations.models import Generation

THUMBNAIL_EDGE = 384
DISPLAY_EDGE = 1024  # large enough for a result panel on a wide screen, a fraction of a PNG
DISPLAY_METHOD = 1  # WebP effort: fast, the file a little larger than at the default 4
DISPLAY_JPEG_QUALITY = 85
PIL_FORMATS = {"PNG": "png", "JPEG": "jpeg", "WEBP": "webp"}


@dataclass(frozen=True)
class Renditions:
    """What is derived from an upstream image before it is stored: its facts and two WebPs."""

    image_format: str
    width: int
    height: int
    thumbnail: bytes
    display: bytes
    display_name: str  # display.jpg or display.webp: its type goes by its name


def _webp(picture: PILImage.Image, quality: int, method: int) -> bytes:
    if picture.mode not in ("RGB", "RGBA"):
        picture = picture.convert("RGBA" if "A" in picture.getbands() else "RGB")
    out = io.BytesIO()
    picture.save(out, "WEBP", quality=quality, method=method)
    return out.getvalue()


def webp_thumbnail(
    data: bytes, edge: int = THUMBNAIL_EDGE, quality: int = 80, method: int = 4
) -> bytes:
    """A WebP of an image fitted within edge x edge, keeping transparency."""
    with PILImage.open(io.BytesIO(data)) as picture:
        picture.thumbnail((edge, edge))
        return _webp(picture, quality, method)


def make_renditions(data: bytes) -> Renditions:
    """Decode once; the display WebP from the picture, the thumbnail from the display size.

    Pillow releases the GIL while it decodes, resizes and encodes, so the images of one job
    are prepared side by side in threads (see the runner); this is the costly part of storing.
    """
    with PILImage.open(io.BytesIO(data)) as picture:
        image_format = PIL_FORMATS.get(picture.format or "", (picture.format or "bin").lower())
        width, height = picture.size
        picture.load()
        display = picture.copy()
    display.thumbnail((DISPLAY_EDGE, DISPLAY_EDGE))
    small = display.copy()
    # A box reduction first, then the fine resample: a third of the time, alike at this size.
    small.thumbnail((THUMBNAIL_EDGE, THUMBNAIL_EDGE), reducing_gap=1.0)
    # The display rendition is made while the person waits for the job to settle: JPEG
    # encodes several times faster than WebP, so opaque images get one; transparency needs WebP.
    if "A" in display.getbands() or display.mode in ("P", "LA", "PA"):
        shown, shown_name = _webp(display, quality=85, method=DISPLAY_METHOD), "display.webp"
    else:
        shown, shown_name = _jpeg(display, quality=DISPLAY_JPEG_QUALITY), "display.jpg"
    return Renditions(
        image_format=image_format,
        width=width,
        height=height,
        thumbnail=_webp(small, quality=80, method=2),
        display=shown,
        display_name=shown_name,
    )


def _jpeg(picture: PILImage.Image, quality: int) -> bytes:
    out = io.BytesIO()
    picture.convert("RGB").save(out, "JPEG", quality=quality, optimize=False)
    return out.getvalue()


def store_image(
    generation: Generation,
    index: int,
    data: bytes,
    revised_prompt: str | None = None,
    created_at: datetime | None = None,
    renditions: Renditions | None = None,
) -> Image:
    """Save one upstream image and its renditions; on any failure leave no file or row behind."""
    made = renditions or make_renditions(data)
    image = Image(
        owner_id=generation.owner_id,
        generation=generation,
        index=index,
        format=made.image_format,
        width=made.width,
        height=made.height,
        byte_size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        revised_prompt=revised_prompt or "",
        created_at=created_at or timezone.now(),
    )
    try:
        image.file.save("original", ContentFile(data), save=False)
        image.thumbnail.save("thumbnail.webp", ContentFile(made.thumbnail), save=False)
        image.display.save(made.display_name, ContentFile(made.display), save=False)
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
