"""Reference images and masks of an edits request, decoded and checked with Pillow."""

import io
from dataclasses import dataclass, field

from PIL import Image

from playground.core.errors import invalid

MAX_IMAGES = 16
MAX_IMAGE_BYTES = 50 * 1024 * 1024
# The SDK documents 4 MB for masks (the guide says 50 MB): enforce the stricter figure.
MAX_MASK_BYTES = 4 * 1024 * 1024
IMAGE_FORMATS = {"PNG": "png", "JPEG": "jpeg", "WEBP": "webp"}


@dataclass(frozen=True)
class InputImage:
    """A decoded reference image or mask (the bytes stay as sent)."""

    index: int
    data: bytes
    format: str
    width: int
    height: int
    image: Image.Image = field(repr=False, compare=False)


def decode_image(data: bytes, index: int, name: str, limit: int) -> InputImage:
    label = f"{name}[{index}]" if name == "image" else name
    if len(data) > limit:
        raise invalid(
            name,
            f"Invalid {label}: the file is {len(data)} bytes, over the {limit // 2**20} MB limit.",
            "file_too_large",
        )
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    # Pillow signals broken files with several exception types (SyntaxError for bad chunks).
    except (Image.DecompressionBombError, OSError, ValueError, SyntaxError) as error:
        raise invalid(
            name,
            f"Invalid {label}: not a readable image ({error.__class__.__name__}). "
            "Supported formats are png, webp and jpeg.",
            "invalid_image",
        ) from error
    if image.format not in IMAGE_FORMATS:
        raise invalid(
            name,
            f"Invalid {label}: unsupported image format {image.format!r}. "
            "Supported formats are png, webp and jpeg.",
            "invalid_image_format",
        )
    fmt = IMAGE_FORMATS[image.format]
    return InputImage(index, data, fmt, image.width, image.height, image)


def check_images(images: list[bytes]) -> tuple[InputImage, ...]:
    if not images:
        raise invalid("image", "Missing required parameter: 'image'.", "missing_required_parameter")
    if len(images) > MAX_IMAGES:
        raise invalid(
            "image",
            f"Too many images: got {len(images)}, at most {MAX_IMAGES} are allowed.",
            "too_many_images",
        )
    return tuple(decode_image(data, i, "image", MAX_IMAGE_BYTES) for i, data in enumerate(images))


def has_alpha(image: Image.Image) -> bool:
    return "A" in image.getbands() or "transparency" in image.info


def check_mask(mask: bytes, first: InputImage) -> InputImage:
    decoded = decode_image(mask, 0, "mask", MAX_MASK_BYTES)
    if decoded.format != "png":
        raise invalid("mask", f"Invalid mask: must be a PNG, got {decoded.format}.", "invalid_mask")
    if not has_alpha(decoded.image):
        raise invalid(
            "mask",
            "Invalid mask: the PNG has no alpha channel; fully transparent pixels mark the area "
            "to edit.",
            "invalid_mask",
        )
    if (decoded.width, decoded.height) != (first.width, first.height):
        raise invalid(
            "mask",
            f"Invalid mask image: mask size {decoded.width}x{decoded.height} does not match "
            f"image size {first.width}x{first.height}.",
            "invalid_mask",
        )
    return decoded
