"""Storing upstream images: original bytes untouched, smaller renditions derived separately."""

import hashlib
import io
from dataclasses import dataclass
from datetime import datetime

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from PIL import Image as PILImage

from playground.core.stored_files import remove_files, stored_files
from playground.gallery.models import THUMBNAIL_2X_EDGE, THUMBNAIL_EDGE, Image
from playground.generations.models import Generation, JobDeleted

# Grid cells are 160-250 CSS pixels wide: 320 px covers them on ordinary screens and 512 px on
# dense ones (srcset picks). At these qualities a 24-image page of photos stays well under 1 MB.
THUMBNAIL_QUALITY = 75
THUMBNAIL_2X_QUALITY = 60  # shown at half its pixel size: artefacts are half as visible
THUMBNAIL_METHOD = 2  # WebP effort: made while the job settles; 4 saves only ~4 % here
DISPLAY_EDGE = 1024  # large enough for a result panel on a wide screen, a fraction of a PNG
DISPLAY_METHOD = 1  # WebP effort: fast, the file a little larger than at the default 4
DISPLAY_JPEG_QUALITY = 85
PIL_FORMATS = {"PNG": "png", "JPEG": "jpeg", "WEBP": "webp"}


@dataclass(frozen=True)
class ImageFacts:
    """What an image's header tells without decoding it."""

    image_format: str
    width: int
    height: int


@dataclass(frozen=True)
class Renditions(ImageFacts):
    """What is derived from an upstream image by decoding it: its smaller renditions."""

    thumbnail: bytes
    display: bytes
    display_name: str  # display.jpg or display.webp: its type goes by its name
    thumbnail_2x: bytes = b""


def read_facts(data: bytes) -> ImageFacts:
    """Format and size from the header alone; raises on what Pillow cannot identify."""
    with PILImage.open(io.BytesIO(data)) as picture:
        image_format = PIL_FORMATS.get(picture.format or "", (picture.format or "bin").lower())
        return ImageFacts(image_format, *picture.size)


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


def thumbnail_of_original(image: Image) -> bytes:
    """A grid thumbnail made from the stored original, for the moment before its own exists;
    quick to make and not kept."""
    with image.file.open("rb") as original:
        return webp_thumbnail(original.read(), THUMBNAIL_EDGE, THUMBNAIL_QUALITY, method=0)


def make_renditions(data: bytes) -> Renditions:
    """Decode once; each smaller rendition is reduced from the one above it.

    Pillow releases the GIL while it decodes, resizes and encodes, so the images of one job
    are prepared side by side in threads (see the runner); this is the costly part of storing.
    """
    with PILImage.open(io.BytesIO(data)) as picture:
        image_format = PIL_FORMATS.get(picture.format or "", (picture.format or "bin").lower())
        width, height = picture.size
        picture.load()
        display = picture.copy()
    display.thumbnail((DISPLAY_EDGE, DISPLAY_EDGE))
    # A box reduction first, then the fine resample: a third of the time, alike at this size.
    large = display.copy()
    large.thumbnail((THUMBNAIL_2X_EDGE, THUMBNAIL_2X_EDGE), reducing_gap=1.0)
    small = large.copy()
    small.thumbnail((THUMBNAIL_EDGE, THUMBNAIL_EDGE), reducing_gap=1.0)
    larger = large.size != small.size  # else a small image: one thumbnail is enough
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
        thumbnail=_webp(small, quality=THUMBNAIL_QUALITY, method=THUMBNAIL_METHOD),
        thumbnail_2x=_webp(large, quality=THUMBNAIL_2X_QUALITY, method=THUMBNAIL_METHOD)
        if larger
        else b"",
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
    return _store(generation, index, data, revised_prompt, created_at, made, made)


def store_original(
    generation: Generation,
    index: int,
    data: bytes,
    revised_prompt: str | None = None,
    created_at: datetime | None = None,
) -> Image:
    """Save one upstream image as it came, without decoding it, so that its job can settle at
    once; `store_renditions` adds the renditions after, and until then the views serve the
    original in their place. On any failure leave no file or row behind."""
    return _store(generation, index, data, revised_prompt, created_at, read_facts(data), None)


def _store(
    generation: Generation,
    index: int,
    data: bytes,
    revised_prompt: str | None,
    created_at: datetime | None,
    facts: ImageFacts,
    renditions: Renditions | None,
) -> Image:
    image = Image(
        owner_id=generation.owner_id,
        generation=generation,
        index=index,
        format=facts.image_format,
        width=facts.width,
        height=facts.height,
        byte_size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        revised_prompt=revised_prompt or "",
        created_at=created_at or timezone.now(),
    )
    try:
        image.file.save("original", ContentFile(data), save=False)
        if renditions is not None:
            _save_rendition_files(image, renditions)
        with transaction.atomic():
            _lock_live_job(generation.pk)
            image.save()
    except BaseException:
        delete_files(image)
        raise
    return image


def store_renditions(image: Image, made: Renditions) -> bool:
    """Add the renditions of an image stored without them; False, with no file left behind,
    when the image or its job was deleted meanwhile or another worker added them first."""
    added = False
    try:
        _save_rendition_files(image, made)
        with transaction.atomic():
            _lock_live_job(image.generation_id)
            added = bool(
                Image.objects.filter(pk=image.pk, thumbnail="").update(
                    thumbnail=image.thumbnail.name,
                    thumbnail_2x=image.thumbnail_2x.name,
                    display=image.display.name,
                )
            )
    except JobDeleted:
        pass
    finally:
        if not added:
            _delete_rendition_files(image)
    return added


def _save_rendition_files(image: Image, made: Renditions) -> None:
    image.thumbnail.save("thumbnail.webp", ContentFile(made.thumbnail), save=False)
    if made.thumbnail_2x:
        image.thumbnail_2x.save("thumbnail.webp", ContentFile(made.thumbnail_2x), save=False)
    image.display.save(made.display_name, ContentFile(made.display), save=False)


def _delete_rendition_files(image: Image) -> None:
    fields = (image.thumbnail, image.thumbnail_2x, image.display)
    remove_files([(field.storage, field.name) for field in fields if field.name])
    for field in fields:
        field.name = ""


def _lock_live_job(generation_id: int) -> None:
    """Locked, so a delete of the job waits for this write and then deletes what it wrote."""
    alive = (
        Generation.objects.select_for_update()
        .filter(pk=generation_id, deleted_at__isnull=True)
        .values_list("pk", flat=True)
        .first()
    )
    if alive is None:
        raise JobDeleted(generation_id)


def delete_files(image: Image) -> None:
    """Delete the files of an image that was never recorded (every file field); logs failures."""
    remove_files(stored_files(image))
