"""An upload checked as a real image, as reference uploads are, then stored for its owner.

The image is decoded in full (playground/inputs: format, byte and pixel limits, one of the
process's decode slots), so only a PNG, JPEG or WebP image a task could use is kept. The bytes
are stored as they came; a task that uses them checks and normalises them like any reference.
"""

from dataclasses import dataclass
from typing import Any, BinaryIO

from django.conf import settings
from django.core.files.base import File

from playground.apikeys.models import ApiKey
from playground.core.errors import ApiError, invalid
from playground.file_uploads.fields import made_up_name, too_large
from playground.file_uploads.models import FileUpload
from playground.inputs.images import PIL_FORMATS, ImageRefused, open_loaded
from playground.inputs.limits import DecodersBusy, DecodeSlots
from playground.inputs.models import CONTENT_TYPES

BUSY_RETRY_SECONDS = 30


def max_upload_bytes() -> int:
    """The largest file taken: the task API's cap on one reference image from a URL."""
    return int(settings.API_FETCH_MAX_BYTES)


@dataclass
class Upload:
    """Who uploads what, how, and under which name (empty: made up from the image's type)."""

    key: ApiKey
    method: str
    field: str
    upload_path: str
    file_name: str = ""
    original_name: str = ""


def checked_image(field_name: str, fileobj: BinaryIO, size: int) -> tuple[str, int, int]:
    """(format, width, height) of a whole, readable PNG, JPEG or WebP image."""
    if size > max_upload_bytes():
        raise too_large(field_name, max_upload_bytes())
    if size == 0:
        raise invalid(field_name, "the file is empty.")
    try:
        with DecodeSlots().slot(), open_loaded(field_name, fileobj, size) as picture:
            image_format = PIL_FORMATS[picture.format or ""]
            width, height = picture.size
    except ImageRefused as refused:
        raise invalid(field_name, f"{refused.reason}.") from refused
    except DecodersBusy as busy:
        raise ApiError(503, str(busy), retry_after=BUSY_RETRY_SECONDS) from busy
    fileobj.seek(0)
    return image_format, width, height


def store_upload(upload: Upload, fileobj: Any, size: int) -> FileUpload:
    """Check the file, then write it and its row; on any failure nothing stays behind."""
    image_format, width, height = checked_image(upload.field, fileobj, size)
    row = FileUpload(
        owner=upload.key.owner,
        api_key=upload.key,
        file_name=upload.file_name or made_up_name(image_format),
        upload_path=upload.upload_path,
        original_name=upload.original_name,
        method=upload.method,
        mime_type=CONTENT_TYPES[image_format],
        byte_size=size,
        width=width,
        height=height,
    )
    # Wrapped in File: an upload's temporary file must be copied, never moved away.
    row.file.save(f"upload.{image_format}", File(fileobj), save=False)
    try:
        row.save()
    except BaseException:
        row.file.storage.delete(row.file.name)
        raise
    return row
