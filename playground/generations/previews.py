"""Partial images streamed while a job runs, kept as small WebP files."""

import io

from django.core.files.base import ContentFile
from PIL import Image as PILImage

from playground.generations.models import Generation, Preview
from playground.generations.push import job_changed

PREVIEW_EDGE = 512


def store_preview(generation_id: int, image_index: int, partial_index: int, data: bytes) -> None:
    if not Generation.objects.filter(pk=generation_id, state=Generation.State.RUNNING).exists():
        return  # cancelled meanwhile: nobody will look at it
    with PILImage.open(io.BytesIO(data)) as picture:
        picture.thumbnail((PREVIEW_EDGE, PREVIEW_EDGE))
        if picture.mode not in ("RGB", "RGBA"):
            picture = picture.convert("RGBA")
        out = io.BytesIO()
        picture.save(out, "WEBP", quality=70)
    preview = Preview(
        generation_id=generation_id, image_index=image_index, partial_index=partial_index
    )
    preview.file.save("preview.webp", ContentFile(out.getvalue()), save=False)
    try:
        preview.save()
    except BaseException:
        preview.file.storage.delete(preview.file.name)
        raise
    job_changed(generation_id)
