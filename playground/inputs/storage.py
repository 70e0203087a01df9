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


def delete_files(input_file: InputFile, keep: InputFile | None = None) -> None:
    """Delete a row's files, except any name the `keep` row uses: on a bucket, unlike on disk,
    two requests writing the same bytes at once can both be given the same free name."""
    kept = {keep.file.name, keep.thumbnail.name} if keep is not None else set()
    for field_file in (input_file.file, input_file.thumbnail):
        if field_file.name and field_file.name not in kept:
            field_file.storage.delete(field_file.name)


def write_files(row: InputFile, content: File, thumbnail: bytes) -> InputFile:
    """Write an unsaved row's files; on any failure delete what was written."""
    try:
        row.file.save("input", content, save=False)
        row.thumbnail.save("thumbnail.webp", ContentFile(thumbnail), save=False)
    except BaseException:
        delete_files(row)
        raise
    return row


def save_staged(row: InputFile) -> tuple[InputFile, bool]:
    """Record a staged row; (the row to use, whether this call created it).

    Two requests storing the same bytes at once both write files (the storage gives the second
    a different name); the loser of the unique sha256 deletes its own copies and uses the
    winner's row.
    """
    if row.pk is not None:
        return row, False
    if existing := find_input(row.sha256):
        delete_files(row, keep=existing)
        return existing, False
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        existing = None
        try:
            existing = find_input(row.sha256)
        finally:
            delete_files(row, keep=existing)
        if existing is None:
            raise
        return existing, False
    return row, True


def save_new(row: InputFile, content: File, thumbnail: bytes) -> InputFile:
    """Write the files, then the row; on any failure delete what was written."""
    write_files(row, content, thumbnail)
    try:
        return save_staged(row)[0]
    except BaseException:
        delete_files(row)
        raise


def stage_input(image: NormalizedImage) -> InputFile:
    """The row for a normalised reference: an existing one, or an unsaved one whose files are
    written (streaming the bytes from `image.source`), for `save_staged` to record later."""
    if existing := find_input(image.sha256):
        return existing
    thumbnail = image.thumbnail or thumbnail_webp(image.source)
    row = InputFile(
        sha256=image.sha256,
        format=image.format,
        width=image.width,
        height=image.height,
        byte_size=image.byte_size,
    )
    image.source.seek(0)
    # Wrapped in File: an upload's temporary file must be copied, never moved away.
    return write_files(row, File(image.source), thumbnail)


def stage_mask(data: bytes) -> InputFile:
    """Like stage_input, for a mask's PNG bytes (as made by normalize_mask)."""
    sha256 = hashlib.sha256(data).hexdigest()
    if existing := find_input(sha256):
        return existing
    with Image.open(io.BytesIO(data), formats=("PNG",)) as picture:
        width, height = picture.size
    thumbnail = thumbnail_webp(io.BytesIO(data))
    row = InputFile(sha256=sha256, format="png", width=width, height=height, byte_size=len(data))
    return write_files(row, ContentFile(data), thumbnail)


def store_input(image: NormalizedImage) -> InputFile:
    """The stored row for a normalised reference."""
    return _record(stage_input(image))


def store_mask(data: bytes) -> InputFile:
    """The stored row for a mask's PNG bytes."""
    return _record(stage_mask(data))


def _record(row: InputFile) -> InputFile:
    try:
        return save_staged(row)[0]
    except BaseException:
        if row.pk is None:
            delete_files(row)
        raise


def open_input(input_file: InputFile) -> BinaryIO:
    """The stored bytes as an open binary file (the caller closes it)."""
    return input_file.file.storage.open(input_file.file.name, "rb")


def read_bytes(input_file: InputFile) -> bytes:
    with open_input(input_file) as stored:
        return stored.read()
