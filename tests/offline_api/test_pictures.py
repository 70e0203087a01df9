"""The procedural pictures: exact sizes, formats, alpha, determinism, the visible mask."""

import io
from typing import Any

import pytest
from PIL import Image

from playground.offline_api import pictures
from playground.offline_api.validation import ImageRequest, validate_request

from .helpers import mask_bytes, png_bytes


def generation(**params: Any) -> ImageRequest:
    return validate_request("generations", {"model": "gpt-image-2", "prompt": "a fox", **params})


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.mark.parametrize(
    ("size", "expected"),
    [("1024x1536", (1024, 1536)), ("auto", (1024, 1024)), ("3840x2160", (3840, 2160))],
)
def test_it_honours_the_size_exactly(size: str, expected: tuple[int, int]) -> None:
    image = decode(pictures.picture_bytes(generation(size=size, prompt=f"size {size}"), 0))
    assert image.size == expected


@pytest.mark.parametrize(("fmt", "pil"), [("png", "PNG"), ("jpeg", "JPEG"), ("webp", "WEBP")])
def test_it_encodes_the_output_format(fmt: str, pil: str) -> None:
    image = decode(pictures.picture_bytes(generation(output_format=fmt), 0))
    assert image.format == pil


def test_it_uses_output_compression_as_quality() -> None:
    small = pictures.picture_bytes(generation(output_format="jpeg", output_compression=10), 0)
    large = pictures.picture_bytes(generation(output_format="jpeg", output_compression=95), 0)
    assert len(small) < len(large)


def test_it_marks_pngs_with_a_software_text_chunk() -> None:
    data = pictures.picture_bytes(generation(), 0)
    assert b"tEXtSoftware\x00offline-images-api" in data
    assert decode(data).info["Software"] == "offline-images-api"


@pytest.mark.parametrize("fmt", ["png", "webp"])
def test_it_makes_a_real_alpha_channel_for_transparent_backgrounds(fmt: str) -> None:
    request = generation(background="transparent", output_format=fmt, prompt="transparent")
    image = decode(pictures.picture_bytes(request, 0)).convert("RGBA")
    alpha = image.getchannel("A")
    assert alpha.getextrema() == (0, 255)
    assert alpha.getpixel((2, 2)) == 0 or alpha.getpixel((1021, 1021)) == 0
    assert alpha.getpixel((512, 512)) == 255


def test_it_makes_opaque_pictures_without_alpha() -> None:
    assert decode(pictures.picture_bytes(generation(background="opaque"), 0)).mode == "RGB"


def test_it_is_deterministic() -> None:
    request = generation(n=3, prompt="same request")
    first = pictures.encode_for(request, pictures.render(request, 1))
    assert pictures.encode_for(request, pictures.render(request, 1)) == first
    assert pictures.encode_for(request, pictures.render(request, 2)) != first
    other = generation(n=3, prompt="other request")
    assert pictures.encode_for(other, pictures.render(other, 1)) != first


def test_it_draws_the_prompt_and_index_so_pictures_differ_per_index() -> None:
    request = generation(n=2, prompt="red balloon")
    one, two = pictures.render(request, 0), pictures.render(request, 1)
    assert one.tobytes() != two.tobytes()
    assert pictures.caption_lines("a b c d e f g h i j") == ["a b c d e f g h ..."]


def test_it_renders_1024_pictures_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    """What keeps it fast, checked without a clock: the per-pixel colouring is done at 256x256
    and only scaled up, and the PNG is written at zlib's fastest level."""
    coloured: list[tuple[int, int]] = []
    colorize = pictures.ImageOps.colorize

    def spy(image: Image.Image, *args: Any, **kwargs: Any) -> Image.Image:
        coloured.append(image.size)
        return colorize(image, *args, **kwargs)

    monkeypatch.setattr(pictures.ImageOps, "colorize", spy)
    request = generation(prompt="speed check", quality="high")
    data = pictures.encode_for(request, pictures.render(request, 0))
    assert coloured == [(256, 256)]
    assert decode(data).size == (1024, 1024)
    idat = data.index(b"IDAT")
    assert data[idat + 5] >> 6 == 0  # the zlib header's FLEVEL: 0 is the fastest compressor


def test_it_fills_the_masked_area_visibly() -> None:
    base = png_bytes((256, 256), (0, 0, 255))
    mask = mask_bytes((256, 256), (0, 0, 127, 127))  # top-left quarter transparent
    params = {"model": "gpt-image-1.5", "prompt": "edit", "size": "1024x1024"}
    request = validate_request("edits", params, [base, png_bytes((64, 64), (255, 0, 0))], mask)
    image = pictures.render(request, 0).convert("RGB")
    inside = {image.getpixel((x, 300)) for x in range(60, 120)}
    assert inside <= set(pictures.HATCH_COLOURS) and len(inside) == 2
    assert image.getpixel((800, 300)) == (0, 0, 255)  # outside: the first image, scaled
    # The second reference appears as a thumbnail strip along the bottom.
    assert image.getpixel((100, 1024 - 100)) == (255, 0, 0)


def test_it_leaves_the_picture_alone_without_a_mask() -> None:
    params = {"model": "gpt-image-1.5", "prompt": "edit"}
    request = validate_request("edits", params, [png_bytes((64, 64), (0, 0, 255))])
    image = pictures.render(request, 0).convert("RGB")
    assert image.getpixel((300, 300)) == (0, 0, 255)


def test_it_makes_progressively_sharper_partial_images() -> None:
    request = generation(prompt="partials", stream=True, partial_images=3)
    final = pictures.render(request, 0)
    previews = pictures.partial_renditions(final, 3)
    assert [p.size for p in previews] == [final.size] * 3
    colours = [len(p.getcolors(1 << 21) or []) for p in [*previews, final]]
    assert colours[0] < colours[1] < colours[2] <= colours[3]
    assert pictures.partial_renditions(final, 0) == []
