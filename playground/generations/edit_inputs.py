"""Reference images and the mask of an edit: checked, normalised, then stored with the job."""

from dataclasses import dataclass, field
from typing import Any, BinaryIO

from django.core.files.uploadedfile import UploadedFile

from playground.core.query import parse_id
from playground.gallery.models import Image
from playground.generations.models import Generation, GenerationInput
from playground.inputs.images import (
    ImageRefused,
    NormalizedImage,
    normalize_mask,
    normalize_reference,
    open_checked,
    orientation,
    pixel_size,
)
from playground.inputs.limits import (
    ConversionBudget,
    ConversionRefused,
    DecodersBusy,
    DecodeSlots,
    check_request_pixels,
)
from playground.inputs.models import InputFile
from playground.inputs.storage import delete_files, save_staged, stage_input, stage_mask
from playground.providers.client import FileTuple

MAX_REFERENCES = 16
# EXIF orientations that turn a picture a quarter: its width and height swap when shown.
TURNED_ORIENTATIONS = frozenset({5, 6, 7, 8})


class InputsRefused(ValueError):
    """Bad references or mask: `errors` maps a form field to its messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(m for messages in errors.values() for m in messages))
        self.errors = errors


@dataclass
class Reference:
    image: NormalizedImage
    source_image: Image | None = None


@dataclass
class EditInputs:
    references: list[Reference] = field(default_factory=list)
    mask: bytes | None = None
    notices: list[str] = field(default_factory=list)
    # A row per reference and the mask's: existing ones, or unsaved ones whose files
    # `stage` wrote (listed in `written` too, for `discard`).
    staged: list[InputFile] = field(default_factory=list)
    staged_mask: InputFile | None = None
    written: list[InputFile] = field(default_factory=list)

    @property
    def is_edit(self) -> bool:
        return bool(self.references)

    def reference_sizes(self) -> tuple[tuple[int, int], ...]:
        return tuple((r.image.width, r.image.height) for r in self.references)

    def stage(self) -> None:
        """Write the files (copies, thumbnails) before the transaction, so it stays short."""
        try:
            for reference in self.references:
                self.staged.append(self._track(stage_input(reference.image)))
            if self.mask is not None:
                self.staged_mask = self._track(stage_mask(self.mask))
        except BaseException:
            self.discard()
            raise

    def _track(self, row: InputFile) -> InputFile:
        if row.pk is None:
            self.written.append(row)
        return row

    def attach(self, generation: Generation) -> None:
        """Record the staged rows and link them to the job (inside the job's transaction)."""
        for position, (reference, staged) in enumerate(
            zip(self.references, self.staged, strict=True)
        ):
            GenerationInput.objects.create(
                generation=generation,
                position=position,
                input_file=save_staged(staged)[0],
                source_image=reference.source_image,
                original_name=reference.image.name[:255],
            )
        if self.staged_mask is not None:
            generation.mask = save_staged(self.staged_mask)[0]
        generation.notices = self.notices
        generation.save(update_fields=["mask", "notices"])

    def discard(self) -> None:
        """Delete the files `stage` wrote: the job was not recorded, so no row refers to them."""
        for row in self.written:
            delete_files(row)

    def close(self) -> None:
        for reference in self.references:
            reference.image.source.close()


@dataclass
class StoredInputs:
    """The references and mask an earlier job was sent with, for running it again."""

    items: list[GenerationInput]
    mask: InputFile | None = None
    notices: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, job: Generation) -> "StoredInputs":
        items = list(job.inputs.select_related("input_file"))
        return cls(items=items, mask=job.mask, notices=list(job.notices))

    @property
    def is_edit(self) -> bool:
        return bool(self.items)

    def reference_sizes(self) -> tuple[tuple[int, int], ...]:
        return tuple((item.input_file.width, item.input_file.height) for item in self.items)

    def stage(self) -> None:
        pass  # the files are stored already

    def attach(self, generation: Generation) -> None:
        GenerationInput.objects.bulk_create(
            GenerationInput(
                generation=generation,
                position=item.position,
                input_file_id=item.input_file_id,
                source_image_id=item.source_image_id,
                original_name=item.original_name,
            )
            for item in self.items
        )
        generation.mask = self.mask
        generation.notices = self.notices
        generation.save(update_fields=["mask", "notices"])

    def discard(self) -> None:
        pass  # nothing new was stored: the files are shared with the earlier job

    def close(self) -> None:
        pass


def _ordered_sources(
    uploads: list[UploadedFile], gallery_ids: list[str], order: str
) -> list[UploadedFile | str]:
    """Uploads and gallery ids in the order the person arranged them.

    `order` is like "upload,gallery:12,upload"; without it (no JavaScript) gallery
    references come first, then the uploads in the order the browser sent them.
    """
    tokens = [token.strip() for token in order.split(",") if token.strip()]
    if not tokens:
        return [*gallery_ids, *uploads]
    remaining_uploads = list(uploads)
    sources: list[UploadedFile | str] = []
    for token in tokens:
        if token == "upload" and remaining_uploads:
            sources.append(remaining_uploads.pop(0))
        elif token.startswith("gallery:") and token[8:] in gallery_ids:
            sources.append(token[8:])
    # Anything the order did not mention still counts, so nothing is silently dropped.
    mentioned = {s for s in sources if isinstance(s, str)}
    sources += [g for g in gallery_ids if g not in mentioned] + remaining_uploads
    return sources


@dataclass
class _Source:
    """One reference to check: its name, its bytes, and the gallery image it came from."""

    name: str
    fileobj: BinaryIO
    size: int
    source_image: Image | None = None

    def close(self) -> None:
        if self.source_image is not None:
            self.fileobj.close()  # an upload's file belongs to the request


def _gallery_source(owner: Any, image_id: str) -> _Source:
    pk = parse_id(image_id)  # ASCII digits in a database's range; anything else is no image
    image = Image.objects.for_user(owner).filter(pk=pk).first() if pk is not None else None
    if image is None:
        raise ImageRefused(f"gallery image {image_id[:40]}", "not found in your gallery")
    return _Source(image.download_name, image.file.open("rb"), image.byte_size, image)


def _open_sources(
    owner: Any, sources: list[UploadedFile | str], problems: list[str]
) -> list[_Source]:
    opened = []
    for source in sources:
        try:
            if isinstance(source, str):
                opened.append(_gallery_source(owner, source))
            else:
                opened.append(_Source(source.name, source, source.size))
        except ImageRefused as refused:
            problems.append(str(refused))
    return opened


def _weigh(sources: list[_Source], problems: list[str]) -> None:
    """Check every header and the request's pixel total before anything is decoded."""
    sizes = []
    for source in sources:
        try:
            width, height = pixel_size(source.name, source.fileobj, source.size)
        except ImageRefused as refused:
            problems.append(str(refused))
            continue
        sizes.append((source.name, width, height))
    try:
        check_request_pixels(sizes)
    except ImageRefused as refused:
        problems.append(str(refused))


def _normalize_all(sources: list[_Source], slots: DecodeSlots, inputs: EditInputs) -> list[str]:
    problems: list[str] = []
    conversions = ConversionBudget()
    for source in sources:
        try:
            with slots.slot():
                image = normalize_reference(source.name, source.fileobj, source.size, conversions)
        except ConversionRefused as refused:
            problems.append(str(refused))
            break  # the request is refused: decoding the rest would only cost
        except ImageRefused as refused:
            problems.append(str(refused))
            continue
        if image.source is not source.fileobj:
            source.close()  # a re-encoded copy is sent instead
        inputs.references.append(Reference(image, source_image=source.source_image))
        inputs.notices += image.notices
    return problems


def prepare_edit_inputs(
    owner: Any,
    uploads: list[UploadedFile],
    gallery_ids: list[str],
    order: str,
    mask_upload: UploadedFile | None,
) -> EditInputs:
    """Check every reference and the mask before anything is stored; raise InputsRefused.

    Nothing is decoded until every header was read and the pixels they add up to fit the
    request's budget; decodes then take turns at the process's slots (limits.py).
    """
    sources = _ordered_sources(uploads, gallery_ids, order)
    if len(sources) > MAX_REFERENCES:
        raise InputsRefused(
            {"image": [f"At most {MAX_REFERENCES} reference images ({len(sources)} given)."]}
        )
    inputs = EditInputs()
    problems: list[str] = []
    opened = _open_sources(owner, sources, problems)
    try:
        _weigh(opened, problems)
        if problems:
            raise InputsRefused({"image": problems})
        slots = DecodeSlots()
        problems = _normalize_all(opened, slots, inputs)
        if problems:
            raise InputsRefused({"image": problems})
        if mask_upload is not None:
            _add_mask(inputs, mask_upload, slots)
    except DecodersBusy as busy:
        _close_all(inputs, opened)
        raise InputsRefused({"image": [str(busy)]}) from busy
    except BaseException:
        _close_all(inputs, opened)
        raise
    return inputs


def _close_all(inputs: EditInputs, opened: list[_Source]) -> None:
    inputs.close()
    for source in opened:
        source.close()


def mask_size_mismatch(mask: tuple[int, int], image: tuple[int, int]) -> str:
    """OpenAI's words for a mask whose pixel size is not the first image's."""
    return (
        f"Invalid mask image: mask size {mask[0]}x{mask[1]} does not match image size "
        f"{image[0]}x{image[1]}."
    )


def upright_size(name: str, fileobj: BinaryIO, size: int) -> tuple[int, int]:
    """(width, height) as the picture is meant to be seen (EXIF turns it), from its header:
    nothing is decoded."""
    with open_checked(name, fileobj, size) as picture:
        width, height = picture.size
        # `exif` is in the header's info when the file has it there; reading it decodes nothing.
        turned = "exif" in picture.info and orientation(picture) in TURNED_ORIENTATIONS
    fileobj.seek(0)
    return (height, width) if turned else (width, height)


def _add_mask(inputs: EditInputs, mask_upload: UploadedFile, slots: DecodeSlots) -> None:
    """The mask, at exactly the first reference's pixel size as OpenAI requires: a mask of
    another size is refused, not stretched onto it. Black-and-white masks are converted."""
    if not inputs.references:
        raise InputsRefused({"mask": ["A mask needs a reference image to apply to."]})
    first = inputs.references[0].image
    target = (first.width, first.height)
    try:
        mask_size = upright_size(mask_upload.name, mask_upload, mask_upload.size)
        if mask_size != target:
            raise InputsRefused({"mask": [mask_size_mismatch(mask_size, target)]})
        with slots.slot():
            inputs.mask, mask_notices = normalize_mask(
                mask_upload.name, mask_upload, mask_upload.size, target
            )
    except ImageRefused as refused:
        raise InputsRefused({"mask": [str(refused)]}) from refused
    inputs.notices += mask_notices


def upstream_files(generation: Generation) -> tuple[list[FileTuple], FileTuple | None]:
    """The references and mask of an edit as open files for the SDK to stream; the caller
    closes them (UpstreamRequest.close)."""
    images: list[FileTuple] = [
        (
            f"image-{item.position + 1}.{item.input_file.format}",
            item.input_file.file.open("rb"),
            item.input_file.content_type,
        )
        for item in generation.inputs.select_related("input_file")
    ]
    mask = ("mask.png", generation.mask.file.open("rb"), "image/png") if generation.mask else None
    return images, mask
