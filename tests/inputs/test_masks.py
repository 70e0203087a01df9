"""Masks: always an RGBA PNG at the first reference's size, alpha 0 = edit, alpha 255 = keep."""

import io

import pytest
from PIL import Image

from playground.inputs.images import (
    MAX_INPUT_BYTES,
    MAX_MASK_BYTES,
    ImageRefused,
    normalize_mask,
)
from tests.inputs.pictures import animated, jpeg, noise, png, webp, with_png_size

TARGET = (64, 48)
HOLE = (8, 8, 24, 20)  # left, top, right, bottom of the area to edit


def make_mask(
    name: str, data: bytes, target: tuple[int, int] = TARGET
) -> tuple[Image.Image, list[str]]:
    result, notices = normalize_mask(name, io.BytesIO(data), len(data), target)
    assert len(result) < MAX_MASK_BYTES
    mask = Image.open(io.BytesIO(result))
    assert mask.format == "PNG"
    assert mask.mode == "RGBA"
    assert mask.size == target
    red, green, blue, alpha = mask.split()
    assert red.getextrema() == green.getextrema() == blue.getextrema() == (0, 0)
    assert sum(alpha.histogram()[1:255]) == 0  # binary alpha
    return mask, notices


def edited(mask: Image.Image) -> set[tuple[int, int]]:
    alpha = mask.getchannel("A")
    width, height = mask.size
    return {(x, y) for y in range(height) for x in range(width) if alpha.getpixel((x, y)) == 0}


def hole_pixels(box: tuple[int, int, int, int] = HOLE) -> set[tuple[int, int]]:
    left, top, right, bottom = box
    return {(x, y) for y in range(top, bottom) for x in range(left, right)}


def alpha_mask(alpha_inside: int = 0, alpha_outside: int = 255) -> Image.Image:
    """Colourful RGBA (the colours must be ignored) with a hole in the alpha."""
    picture = Image.new("RGBA", TARGET, (250, 250, 250, alpha_outside))
    picture.paste((10, 200, 30, alpha_inside), HOLE)
    return picture


def black_and_white(size: tuple[int, int] = TARGET, box=HOLE) -> Image.Image:
    picture = Image.new("RGB", size, "black")
    picture.paste("white", box)
    return picture


def refusal(name: str, data: bytes, size: int | None = None) -> ImageRefused:
    with pytest.raises(ImageRefused) as caught:
        normalize_mask(name, io.BytesIO(data), len(data) if size is None else size, TARGET)
    assert caught.value.name == name
    return caught.value


def test_it_uses_the_alpha_of_an_rgba_mask_as_is():
    mask, notices = make_mask("mask.png", png(alpha_mask()))
    assert notices == []
    assert edited(mask) == hole_pixels()


def test_it_uses_the_alpha_of_a_webp_and_a_grey_alpha_mask():
    mask, notices = make_mask("mask.webp", webp(alpha_mask(), lossless=True))
    assert (edited(mask), notices) == (hole_pixels(), [])
    grey = alpha_mask().convert("LA")
    mask, notices = make_mask("mask-la.png", png(grey))
    assert (edited(mask), notices) == (hole_pixels(), [])


def test_it_uses_the_transparency_of_a_palette_mask():
    palette = Image.new("P", TARGET, 1)
    palette.putpalette([0, 0, 0, 255, 255, 255])
    palette.paste(0, HOLE)
    mask, notices = make_mask("mask.png", png(palette, transparency=0))
    assert (edited(mask), notices) == (hole_pixels(), [])


def test_it_binarises_partial_alpha_at_128():
    mask, _ = make_mask("soft.png", png(alpha_mask(alpha_inside=127, alpha_outside=128)))
    assert edited(mask) == hole_pixels()


def test_it_reads_a_mask_without_alpha_as_white_is_edited():
    mask, notices = make_mask("bw.png", png(black_and_white()))
    assert notices == ["bw.png: black-and-white mask; white areas are edited"]
    assert edited(mask) == hole_pixels()


def test_it_reads_a_grey_jpeg_mask_with_white_from_128():
    picture = Image.new("L", TARGET, 127)
    picture.paste(128, HOLE)
    mask, notices = make_mask("bw.jpg", jpeg(picture, quality=100))
    assert notices == ["bw.jpg: black-and-white mask; white areas are edited"]
    assert edited(mask) == hole_pixels()


def test_it_reads_an_opaque_rgba_mask_by_its_colours():
    # What a browser canvas exports: alpha everywhere 255 says nothing, the colours do.
    mask, notices = make_mask("canvas.png", png(black_and_white().convert("RGBA")))
    assert notices == ["canvas.png: black-and-white mask; white areas are edited"]
    assert edited(mask) == hole_pixels()


def test_it_resizes_a_mask_of_another_size_with_hard_edges():
    small = Image.new("RGBA", (32, 24), (0, 0, 0, 255))
    small.paste((0, 0, 0, 0), (4, 4, 12, 10))
    mask, notices = make_mask("small.png", png(small))
    assert notices == ["small.png: resized from 32x24 to 64x48"]
    assert edited(mask) == hole_pixels()


def test_it_refuses_a_mask_that_marks_nothing_to_edit():
    everything_kept = Image.new("RGBA", TARGET, (255, 255, 255, 200))
    refused = refusal("keep.png", png(everything_kept))
    assert str(refused) == "keep.png: the mask marks nothing to edit"
    assert refusal("black.png", png(Image.new("RGB", TARGET))).reason == (
        "the mask marks nothing to edit"
    )


def test_it_accepts_a_mask_that_edits_everything():
    mask, _ = make_mask("all.png", png(Image.new("RGBA", TARGET, (0, 0, 0, 0))))
    assert len(edited(mask)) == TARGET[0] * TARGET[1]


def test_it_keeps_a_noisy_4k_mask_under_4_mb():
    target = (3840, 2160)
    data = png(noise(target, mode="L"))
    mask, notices = make_mask("noisy.png", data, target)
    assert notices == ["noisy.png: black-and-white mask; white areas are edited"]
    edited_share = mask.getchannel("A").histogram()[0] / (target[0] * target[1])
    assert 0.3 < edited_share < 0.7


def test_it_uses_the_first_frame_of_an_animated_mask():
    mask, notices = make_mask("loop.png", animated("PNG", TARGET, ("white", "black")))
    assert notices == [
        "loop.png: animated; only its first frame is used",
        "loop.png: black-and-white mask; white areas are edited",
    ]
    assert mask.getchannel("A").getextrema() == (0, 0)


def test_it_turns_an_exif_rotated_mask_upright():
    stored = black_and_white((48, 64), (0, 0, 10, 10))
    exif = Image.Exif()
    exif[0x0112] = 6
    mask, _ = make_mask("phone.jpg", jpeg(stored, quality=100, exif=exif.tobytes()))
    assert mask.getchannel("A").getpixel((TARGET[0] - 3, 3)) == 0
    assert mask.getchannel("A").getpixel((3, 3)) == 255


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"GIF89a not really", "not an image we can read (PNG, JPEG or WebP)"),
        (png(noise((200, 150)))[:3000], "the file is truncated or damaged"),
        (
            with_png_size(png(Image.new("1", (8, 8))), 20000, 20000),
            "the image has too many pixels (the limit is 40 megapixels)",
        ),
    ],
)
def test_it_refuses_masks_it_cannot_read(data, reason):
    assert refusal("mask.png", data).reason == reason


def test_it_refuses_a_mask_of_50_mb_before_reading_it():
    refused = refusal("mask.png", b"", size=MAX_INPUT_BYTES)
    assert refused.reason == "the file is 50.0 MB; files must be under 50 MB"


def test_it_refuses_a_mask_that_stays_too_big_as_png(monkeypatch):
    monkeypatch.setattr("playground.inputs.images.MAX_MASK_BYTES", 100)
    data = png(noise(TARGET, mode="L"))
    refused = refusal("noisy.png", data)
    assert refused.reason.startswith("the mask is ")
    assert refused.reason.endswith(" MB as PNG; it must be under 4 MB")


@pytest.mark.parametrize(("mode", "key"), [("RGB", (0, 0, 0)), ("L", 0)])
def test_it_uses_a_png_colour_key_as_alpha(mode, key):
    picture = Image.new(mode, TARGET, "white")
    picture.paste(key, HOLE)
    mask, notices = make_mask("keyed.png", png(picture, transparency=key))
    assert (edited(mask), notices) == (hole_pixels(), [])
