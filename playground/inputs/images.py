"""Checking and normalising uploaded reference images and masks for image edits.

Pure Pillow: no models, no storage. Every refusal is an ImageRefused whose text can be shown to
the user as is. Images are decoded one at a time and dropped as soon as possible, so validating
many large references keeps the web process small.
"""

import hashlib
import io
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

from PIL import ExifTags, Image

MAX_INPUT_BYTES = 50 * 1024 * 1024
MAX_INPUT_PIXELS = 40_000_000
MAX_MASK_BYTES = 4 * 1024 * 1024
CHUNK_BYTES = 1024 * 1024
THUMBNAIL_EDGE = 256
BAND_PIXELS = 4_000_000  # pixels per band when shrinking an image with alpha
SPOOL_BYTES = 1024 * 1024

# Pillow format -> ours. MPO is a JPEG with extra pictures appended (many cameras write it).
PIL_FORMATS = {"PNG": "png", "JPEG": "jpeg", "MPO": "jpeg", "WEBP": "webp"}
# Only these plugins ever look at an upload, whatever its name says.
OPEN_FORMATS = ("PNG", "JPEG", "WEBP")
READY_MODES = frozenset({"RGB", "RGBA", "L", "LA"})
OPAQUE_MODES = frozenset({"RGB", "L"})
EXIF_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

NOT_AN_IMAGE = "not an image we can read (PNG, JPEG or WebP)"
DAMAGED = "the file is truncated or damaged"
NOTHING_TO_EDIT = "the mask marks nothing to edit"
TOO_MANY_PIXELS = "the image has too many pixels (the limit is 40 megapixels)"

# Pillow raises a zoo of exception types on malformed files; all of them mean "unreadable".
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, KeyError)
BOMB_ERRORS = (Image.DecompressionBombError, Image.DecompressionBombWarning)


class ImageRefused(ValueError):
    """An upload we will not send upstream; str() is "NAME: REASON" in plain words."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason

    def __reduce__(self) -> tuple[type["ImageRefused"], tuple[str, str]]:
        return type(self), (self.name, self.reason)


@dataclass
class NormalizedImage:
    """One reference ready to store and send: the original bytes when they needed no change."""

    source: BinaryIO
    format: str
    width: int
    height: int
    byte_size: int
    sha256: str
    notices: list[str] = field(default_factory=list)
    name: str = ""
    # A WebP thumbnail made while the image was decoded anyway (empty: make it from `source`).
    thumbnail: bytes = b""


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def check_byte_size(name: str, size: int) -> None:
    if size >= MAX_INPUT_BYTES:
        raise ImageRefused(name, f"the file is {megabytes(size)}; files must be under 50 MB")


def open_checked(name: str, fileobj: BinaryIO, size: int) -> Image.Image:
    """Open without decoding, refusing by size, format and pixel count (the header's).

    The caller must use the result in a `with` block and must not call close() on it: Pillow's
    close() would also close the caller's file object.
    """
    check_byte_size(name, size)
    fileobj.seek(0)
    try:
        picture = Image.open(fileobj, formats=OPEN_FORMATS)
    except BOMB_ERRORS as exc:
        raise ImageRefused(name, TOO_MANY_PIXELS) from exc
    except DECODE_ERRORS as exc:
        raise ImageRefused(name, NOT_AN_IMAGE) from exc
    try:
        if picture.format not in PIL_FORMATS:
            raise ImageRefused(name, NOT_AN_IMAGE)
        width, height = picture.size
        if width * height > MAX_INPUT_PIXELS:
            raise ImageRefused(
                name, f"the image is {width}x{height} pixels; the limit is 40 megapixels"
            )
    except BaseException:
        picture.__exit__()
        raise
    return picture


def pixel_size(name: str, fileobj: BinaryIO, size: int) -> tuple[int, int]:
    """(width, height) from the header alone, with the checks of open_checked; nothing is
    decoded, so a request can weigh all its images before it decodes any."""
    with open_checked(name, fileobj, size) as picture:
        dimensions = picture.size
    fileobj.seek(0)
    return dimensions


def open_loaded(name: str, fileobj: BinaryIO, size: int) -> Image.Image:
    """Open and fully decode the first frame, refusing by size, then pixels, before decoding.

    Used like open_checked: in a `with` block, never close().
    """
    picture = open_checked(name, fileobj, size)
    try:
        try:
            picture.load()
        except BOMB_ERRORS as exc:
            raise ImageRefused(name, TOO_MANY_PIXELS) from exc
        except DECODE_ERRORS as exc:
            raise ImageRefused(name, DAMAGED) from exc
    except BaseException:
        picture.__exit__()
        raise
    return picture


def frame_count(picture: Image.Image) -> int:
    return getattr(picture, "n_frames", 1)


def frames_notice(name: str, picture: Image.Image) -> str:
    if picture.format == "MPO":
        return f"{name}: holds several pictures; only the first is used"
    return f"{name}: animated; only its first frame is used"


def orientation(picture: Image.Image) -> int:
    """The EXIF orientation (1 = upright); a malformed EXIF block counts as upright."""
    try:
        value = picture.getexif().get(ExifTags.Base.Orientation, 1)
    except DECODE_ERRORS:
        return 1
    return value if value in range(2, 9) else 1


def upright(picture: Image.Image, turn: int | None = None) -> Image.Image:
    """The image as it is meant to be seen: a rotated copy only when EXIF asks for one.

    `turn` is the EXIF orientation when read beforehand (e.g. from the image before a resize).
    """
    turn = orientation(picture) if turn is None else turn
    if turn == 1:
        return picture
    # The same transpositions as ImageOps.exif_transpose, without its copy of an upright image.
    return picture.transpose(EXIF_TRANSPOSE[turn])


def to_8bit_gray(picture: Image.Image) -> Image.Image:
    """16/32-bit grey ("I;16", "I") to "L", scaling 0..65535 onto 0..255 rather than clipping."""
    wide = picture if picture.mode == "I" else picture.convert("I")
    return wide.point(lambda value: value * (1 / 257)).convert("L")


def ready_mode(name: str, picture: Image.Image) -> tuple[Image.Image, str | None]:
    """RGB/RGBA/L/LA as they are; anything else to RGB, or RGBA when it has transparency."""
    if picture.mode in READY_MODES:
        return picture, None
    if picture.mode.startswith("I"):
        gray = to_8bit_gray(picture)
        return gray.convert("RGB"), f"{name}: 16-bit; reduced to 8 bits per channel"
    if picture.mode == "CMYK":
        return picture.convert("RGB"), f"{name}: CMYK; converted to RGB, colours may shift"
    return picture.convert("RGBA" if picture.has_transparency_data else "RGB"), None


def sha256_and_size(fileobj: BinaryIO) -> tuple[str, int]:
    """Hash a file in 1 MiB chunks, leaving it at position 0."""
    digest = hashlib.sha256()
    size = 0
    fileobj.seek(0)
    while chunk := fileobj.read(CHUNK_BYTES):
        digest.update(chunk)
        size += len(chunk)
    fileobj.seek(0)
    return digest.hexdigest(), size


def encode(picture: Image.Image, image_format: str, **options: object) -> BinaryIO:
    """Encode into a temporary file that stays in memory only while small."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (returned open)
    try:
        picture.save(spool, image_format, **options)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool  # type: ignore[return-value]


def normalized_picture(name: str, picture: Image.Image, notices: list[str]) -> Image.Image:
    """A single upright frame in a ready mode (a new image: the caller's is not modified)."""
    if frame_count(picture) > 1:
        notices.append(frames_notice(name, picture))
    rotated = upright(picture)
    converted, notice = ready_mode(name, rotated)
    if notice:
        notices.append(notice)
    # transpose or convert made a copy; copy explicitly if neither did, so the result
    # never shares anything with the opened file (one frame, no file pointer).
    return converted if converted is not picture else picture.copy()


def reencode(
    name: str,
    picture: Image.Image,
    icc_profile: bytes | None,
    notices: list[str],
    was_jpeg: bool = False,
) -> tuple[BinaryIO, str]:
    """PNG (lossless); a big opaque photo that would reach 50 MB as PNG becomes a JPEG instead.

    A JPEG that only needed turning upright stays a JPEG (quality 95): as PNG a 12 MP phone
    photo takes seconds and grows fourfold for no gain. zlib level 1: on a 12 MP photo about
    4 times faster than the default 6 (twice as fast as 3) for a few percent more bytes.
    """
    options = {"icc_profile": icc_profile} if icc_profile else {}
    if was_jpeg and picture.mode in OPAQUE_MODES:
        return encode(picture, "JPEG", quality=95, **options), "jpeg"
    source = encode(picture, "PNG", compress_level=1, **options)
    source.seek(0, io.SEEK_END)
    size = source.tell()
    source.seek(0)
    if size < MAX_INPUT_BYTES:
        return source, "png"
    source.close()
    if picture.mode not in OPAQUE_MODES:
        reason = f"too large once converted to PNG ({megabytes(size)}); files must be under 50 MB"
        raise ImageRefused(name, reason)
    notices.append(f"{name}: too large as PNG; re-encoded as JPEG")
    return encode(picture, "JPEG", quality=95, **options), "jpeg"


def conversion_reason(picture: Image.Image) -> str:
    """Why an image cannot be sent as it is, in a few words."""
    if frame_count(picture) > 1:
        return "it is animated"
    if picture.mode == "P":
        return "it has palette colours"
    if picture.mode.startswith("I"):
        return "it is 16-bit"
    if picture.mode not in READY_MODES:
        return f"its colour mode is {picture.mode}"
    return "its EXIF data says to turn it"


# Called as (name, reason, width, height) before an image is re-encoded losslessly (as PNG,
# the costly case); raises ImageRefused to refuse instead.
ConversionCheck = Callable[[str, str, int, int], None]


def normalize_reference(
    name: str, fileobj: BinaryIO, size: int, before_conversion: ConversionCheck | None = None
) -> NormalizedImage:
    """Validate one reference image; keep its original bytes whenever they need no change."""
    notices: list[str] = []
    with open_loaded(name, fileobj, size) as picture:
        image_format = PIL_FORMATS[picture.format or ""]
        width, height = picture.size
        unchanged = (
            frame_count(picture) == 1 and orientation(picture) == 1 and picture.mode in READY_MODES
        )
        if unchanged:
            source: BinaryIO = fileobj
            thumbnail = shrink_to_thumbnail(picture)
        else:
            # A JPEG stays a JPEG (cheap to encode); anything else becomes a PNG.
            if before_conversion is not None and image_format != "jpeg":
                before_conversion(name, conversion_reason(picture), width, height)
            # Keep the colour profile unless the conversion changed the colour model.
            keep_icc = picture.mode in READY_MODES or picture.mode in ("P", "PA")
            icc_profile = picture.info.get("icc_profile") if keep_icc else None
            fixed = normalized_picture(name, picture, notices)
    del picture  # free the decoded pixels now: only `fixed`, if any, stays while it is encoded
    if not unchanged:
        try:
            width, height = fixed.size
            was_jpeg = image_format == "jpeg"
            source, image_format = reencode(name, fixed, icc_profile, notices, was_jpeg)
            thumbnail = shrink_to_thumbnail(fixed)
        finally:
            fixed.close()
    sha256, byte_size = sha256_and_size(source)
    if byte_size >= MAX_INPUT_BYTES:
        if source is not fileobj:
            source.close()
        check_byte_size(name, byte_size)
    return NormalizedImage(
        source=source,
        format=image_format,
        width=width,
        height=height,
        byte_size=byte_size,
        sha256=sha256,
        notices=notices,
        name=name,
        thumbnail=thumbnail,
    )


def to_gray(picture: Image.Image) -> Image.Image:
    if picture.mode == "L":
        return picture
    if picture.mode.startswith("I"):
        return to_8bit_gray(picture)
    if picture.mode not in ("1", "RGB", "RGBA", "LA", "P", "PA"):
        picture = picture.convert("RGB")
    return picture.convert("L")


def mask_alpha(name: str, picture: Image.Image, notices: list[str]) -> Image.Image:
    """An "L" image where 0 marks the area to edit: the mask's alpha, else white = edit."""
    if picture.has_transparency_data:
        if "A" in picture.getbands():
            alpha = picture.getchannel("A")
        else:  # a palette or colour key with transparency
            alpha = picture.convert("RGBA").getchannel("A")
        if alpha.getextrema()[0] < 255:
            return alpha
        # Fully opaque alpha says nothing (browser canvases export like this): read the colours.
    notices.append(f"{name}: black-and-white mask; white areas are edited")
    return to_gray(picture).point(lambda value: 0 if value >= 128 else 255)


def normalize_mask(
    name: str, fileobj: BinaryIO, size: int, target: tuple[int, int]
) -> tuple[bytes, list[str]]:
    """PNG bytes of an RGBA mask at exactly `target` (alpha 0 = edit, 255 = keep), and notices."""
    notices: list[str] = []
    with open_loaded(name, fileobj, size) as picture:
        if frame_count(picture) > 1:
            notices.append(frames_notice(name, picture))
        rotated = upright(picture)
        alpha = mask_alpha(name, rotated, notices)
        del rotated
    del picture
    # Binary alpha: hard edges upstream, and a PNG that compresses to almost nothing.
    alpha = alpha.point(lambda value: 0 if value < 128 else 255)
    if alpha.size != tuple(target):
        width, height = alpha.size
        notices.append(f"{name}: resized from {width}x{height} to {target[0]}x{target[1]}")
        alpha = alpha.resize(tuple(target), Image.Resampling.NEAREST)
    if alpha.getextrema()[0] == 255:
        raise ImageRefused(name, NOTHING_TO_EDIT)
    black = Image.new("L", alpha.size, 0)
    mask = Image.merge("RGBA", (black, black, black, alpha))
    return mask_png(name, mask), notices


def mask_png(name: str, mask: Image.Image) -> bytes:
    """The mask as PNG under 4 MB.

    zlib's default level is fast on anything; optimize=True (level 9) gains a few percent but
    takes 15 s on a noisy 4K mask, so it is only the last try for a mask just over the limit.
    """
    out = io.BytesIO()
    mask.save(out, "PNG")
    if MAX_MASK_BYTES <= out.tell() < MAX_MASK_BYTES * 5 // 4:
        out = io.BytesIO()
        mask.save(out, "PNG", optimize=True)
    if out.tell() >= MAX_MASK_BYTES:
        raise ImageRefused(
            name, f"the mask is {megabytes(out.tell())} as PNG; it must be under 4 MB"
        )
    return out.getvalue()


def webp_thumbnail(small: Image.Image) -> bytes:
    if small.mode not in ("RGB", "RGBA"):
        small = small.convert("RGBA" if "A" in small.getbands() else "RGB")
    out = io.BytesIO()
    small.save(out, "WEBP", quality=80, method=4)
    return out.getvalue()


def reduced(picture: Image.Image, edge: int) -> Image.Image:
    """An image in a ready mode shrunk by a whole factor to at least twice `edge` (as
    Image.thumbnail would), or `picture` itself when it is small already.

    Pillow resizes an image with alpha through a premultiplied copy of the whole of it (160 MB
    for 40 MP): such images are shrunk band by band, so only a band is ever copied.
    """
    factor = max(picture.size) // (2 * edge)
    if factor < 2:
        return picture
    if picture.mode not in ("RGBA", "LA"):
        return picture.reduce(factor)
    width, height = picture.size
    small = Image.new(picture.mode, (-(-width // factor), -(-height // factor)))
    rows = factor * max(1, BAND_PIXELS // (width * factor))  # whole blocks of `factor` rows
    for top in range(0, height, rows):
        band = picture.crop((0, top, width, min(height, top + rows)))
        small.paste(band.reduce(factor), (0, top // factor))
    return small


def shrink_to_thumbnail(picture: Image.Image, edge: int = THUMBNAIL_EDGE) -> bytes:
    """The WebP thumbnail of an upright image in a ready mode, from its decoded pixels: no
    second decode and no full-size copy. Shrinks `picture` in place when it is small."""
    small = reduced(picture, edge)
    small.thumbnail((edge, edge))
    return webp_thumbnail(small)


def thumbnail_webp(source: BinaryIO, edge: int = THUMBNAIL_EDGE) -> bytes:
    """A small upright WebP of an image, keeping transparency; leaves `source` at position 0."""
    source.seek(0)
    with Image.open(source, formats=OPEN_FORMATS) as picture:
        if picture.format in ("JPEG", "MPO"):
            # Let libjpeg decode at 1/2..1/8 scale: a fraction of the memory of a full decode.
            picture.draft("RGB", (edge, edge))
        picture.load()
        turn = orientation(picture)
        if picture.mode in READY_MODES:
            small = reduced(picture, edge).copy()  # no full-size copy, with alpha or without
        elif picture.mode.startswith("I"):
            small = to_8bit_gray(picture)
        else:  # palettes and the like resize badly: convert first
            small = picture.convert("RGBA" if picture.has_transparency_data else "RGB")
    del picture
    source.seek(0)
    small.thumbnail((edge, edge))
    return webp_thumbnail(upright(small, turn))
