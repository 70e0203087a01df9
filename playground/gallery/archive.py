"""A ZIP of original images, streamed as it is written: never the whole archive in memory.

The originals are stored, not compressed again (PNG, JPEG and WebP are compressed already,
and their bytes, C2PA provenance included, stay exactly as the upstream returned them).
"""

from collections.abc import AsyncIterator, Iterable, Iterator

from asgiref.sync import sync_to_async
from django.db.models.fields.files import FieldFile
from django.http import StreamingHttpResponse
from zipstream import ZIP_STORED, ZipStream

from playground.gallery.models import Image

BLOCK_SIZE = 256 * 1024


def _blocks(field_file: FieldFile) -> Iterator[bytes]:
    """The file's bytes block by block; opened only when the archive reaches it."""
    with field_file.storage.open(field_file.name, "rb") as stream:
        while block := stream.read(BLOCK_SIZE):
            yield block


def member_names(images: Iterable[Image]) -> list[str]:
    """image-<job>-<n>.<ext> for each image, made unique should two ever coincide."""
    names: list[str] = []
    taken: set[str] = set()
    for image in images:
        name = image.download_name
        if name in taken:
            stem, _, extension = name.rpartition(".")
            name = f"{stem}-{image.pk}.{extension}"
        taken.add(name)
        names.append(name)
    return names


def zip_of(images: list[Image]) -> ZipStream:
    """A sized ZIP stream of the images' originals (its length is known before it is sent)."""
    archive = ZipStream(compress_type=ZIP_STORED, sized=True)
    for image, name in zip(images, member_names(images), strict=True):
        archive.add(_blocks(image.file), name, size=image.byte_size)
    return archive


def _next_block(blocks: Iterator[bytes]) -> bytes | None:
    return next(blocks, None)


class ZipResponse(StreamingHttpResponse):
    """A ZIP download streamed over WSGI and ASGI alike.

    Over ASGI Django would first read a synchronous iterator to its end (into memory); here
    each block is produced in a worker thread instead. The archive reads files only, never
    the database, so any thread will do.
    """

    def __init__(self, archive: ZipStream, filename: str) -> None:
        super().__init__(archive, content_type="application/zip")
        self["Content-Length"] = str(len(archive))
        self["Content-Disposition"] = f'attachment; filename="{filename}"'
        self["Cache-Control"] = "private, no-store"

    async def __aiter__(self) -> AsyncIterator[bytes]:
        blocks = iter(self.streaming_content)
        read = sync_to_async(_next_block, thread_sensitive=False)
        while (block := await read(blocks)) is not None:
            yield block
