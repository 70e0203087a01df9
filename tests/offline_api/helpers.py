"""Small builders of input images for the offline API tests."""

import io

from PIL import Image, ImageDraw


def png_bytes(
    size: tuple[int, int], colour: tuple[int, ...] = (30, 90, 200), mode: str = "RGB"
) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def mask_bytes(size: tuple[int, int], hole: tuple[int, int, int, int]) -> bytes:
    """Opaque RGBA mask with a fully transparent rectangle (the area to edit)."""
    mask = Image.new("RGBA", size, (0, 0, 0, 255))
    ImageDraw.Draw(mask).rectangle(hole, fill=(0, 0, 0, 0))
    buffer = io.BytesIO()
    mask.save(buffer, "PNG")
    return buffer.getvalue()
