"""Storing edit inputs by content: the same bytes are stored once, never half-written."""

import hashlib
import io
from typing import BinaryIO

from django.core.files.base import ContentFile, File
from django.db import IntegrityError, transaction
from PIL import Image

from playground.inputs.images import NormalizedImage, thumbnail_webp
from playground.inputs.models import InputFile


def find_input(sha256: str) -> InputFile | None:
    return InputFile.objects.filter(sha256=sha256).first()


def delete_files(input_file: InputFile) -> None:
    for field_file in (input_file.file, input_file.thumbnail):
        if field_file.name:
            field_file.storage.delete(field_file.name)


def save_new(row: InputFile, content: File, thumbnail: bytes) -> InputFile:
    """Write the files, then the row; on any failure delete what was written.

    Two requests storing the same bytes at once both write files (the storage gives the second
    a different name); the loser of the unique sha256 deletes its own copies and returns the
    winner's row.
    """
    try:
        row.file.save("input", content, save=False)
        row.thumbnail.save("thumbnail.webp", ContentFile(thumbnail), save=False)
        with transaction.atomic():
            row.save()
    except IntegrityError:
        delete_files(row)
        existing = find_input(row.sha256)
        if existing is None:
            raise
        return existing
    except BaseException:
        delete_files(row)
        raise
    return row


def store_input(image: NormalizedImage) -> InputFile:
    """The stored row for a normalised reference, streaming its bytes from `image.source`."""
    if existing := find_input(image.sha256):
        return existing
    thumbnail = thumbnail_webp(image.source)
    row = InputFile(
        sha256=image.sha256,
        format=image.format,
        width=image.width,
        height=image.height,
        byte_size=image.byte_size,
    )
    image.source.seek(0)
    # Wrapped in File: an upload's temporary file must be copied, never moved away.
    return save_new(row, File(image.source), thumbnail)


def store_mask(data: bytes) -> InputFile:
    """The stored row for a mask's PNG bytes (as made by normalize_mask)."""
    sha256 = hashlib.sha256(data).hexdigest()
    if existing := find_input(sha256):
        return existing
    with Image.open(io.BytesIO(data), formats=("PNG",)) as picture:
        width, height = picture.size
    thumbnail = thumbnail_webp(io.BytesIO(data))
    row = InputFile(sha256=sha256, format="png", width=width, height=height, byte_size=len(data))
    return save_new(row, ContentFile(data), thumbnail)


def open_input(input_file: InputFile) -> BinaryIO:
    """The stored bytes as an open binary file (the caller closes it)."""
    return input_file.file.storage.open(input_file.file.name, "rb")


def read_bytes(input_file: InputFile) -> bytes:
    with open_input(input_file) as stored:
        return stored.read()
