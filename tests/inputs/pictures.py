"""Images built in code for the input tests: no binary fixtures in the repository."""

import io
import struct
import zlib

from PIL import Image


def encode(picture: Image.Image, image_format: str, **options: object) -> bytes:
    out = io.BytesIO()
    picture.save(out, image_format, **options)
    return out.getvalue()


def gradient(size: tuple[int, int] = (64, 48), mode: str = "RGB") -> Image.Image:
    """A picture with some structure, so lossy formats and rotations are easy to check."""
    picture = Image.linear_gradient("L").resize(size)
    if mode == "L":
        return picture
    other = picture.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    rgb = Image.merge("RGB", (picture, other, Image.new("L", size, 90)))
    if mode == "RGBA":
        rgb.putalpha(Image.new("L", size, 200))
    return rgb


def noise(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """Random pixels: they compress badly, so a file stays big and half of it is half a picture."""
    bands = [Image.effect_noise(size, 100 + 20 * i) for i in range(3)]
    return bands[0] if mode == "L" else Image.merge("RGB", bands)


def png(picture: Image.Image, **options: object) -> bytes:
    return encode(picture, "PNG", **options)


def jpeg(picture: Image.Image, **options: object) -> bytes:
    return encode(picture, "JPEG", **{"quality": 90, **options})


def webp(picture: Image.Image, **options: object) -> bytes:
    return encode(picture, "WEBP", **options)


def with_png_size(data: bytes, width: int, height: int) -> bytes:
    """A PNG whose header claims another size (CRC fixed): a decompression bomb in a few bytes."""
    assert data[12:16] == b"IHDR"
    header = struct.pack(">II", width, height) + data[24:29]
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + header))
    return data[:16] + header + crc + data[33:]


def jpeg_rotated(picture: Image.Image, orientation: int) -> bytes:
    """A JPEG whose EXIF says how to turn it for display."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    return jpeg(picture, exif=exif.tobytes())


def animated(
    image_format: str, size: tuple[int, int] = (32, 24), colours: tuple[str, str] = ("red", "blue")
) -> bytes:
    """Two frames of one colour each."""
    frames = [Image.new("RGB", size, colour) for colour in colours]
    options = {"lossless": True} if image_format == "WEBP" else {}
    return encode(
        frames[0], image_format, save_all=True, append_images=frames[1:], duration=100, **options
    )


def decoded(data: bytes) -> Image.Image:
    picture = Image.open(io.BytesIO(data))
    picture.load()
    return picture
