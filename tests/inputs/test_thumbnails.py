"""Thumbnails of inputs: small upright WebPs that keep transparency."""

import io

import pytest
from PIL import Image
from PIL.JpegImagePlugin import JpegImageFile

from playground.inputs.images import thumbnail_webp
from tests.inputs.pictures import decoded, gradient, jpeg, jpeg_rotated, png, webp


@pytest.mark.parametrize("maker", [png, jpeg, webp])
def test_it_fits_a_thumbnail_within_the_edge(maker):
    source = io.BytesIO(maker(gradient((1200, 600))))
    source.seek(0, io.SEEK_END)  # it starts from the beginning wherever the file was left
    thumbnail = decoded(thumbnail_webp(source))
    assert thumbnail.format == "WEBP"
    assert thumbnail.size == (256, 128)
    assert source.tell() == 0
    assert decoded(thumbnail_webp(source, edge=64)).size == (64, 32)


def test_it_keeps_transparency():
    picture = Image.new("RGBA", (300, 300), (255, 0, 0, 255))
    picture.paste((0, 0, 0, 0), (0, 0, 150, 300))
    thumbnail = decoded(thumbnail_webp(io.BytesIO(png(picture))))
    assert thumbnail.mode == "RGBA"
    assert thumbnail.getpixel((10, 10))[3] == 0
    assert thumbnail.getpixel((240, 10))[3] == 255


def test_it_decodes_a_jpeg_in_draft_mode(monkeypatch):
    drafts = []
    original = JpegImageFile.draft

    def spy(self, mode, size):
        drafts.append(size)
        return original(self, mode, size)

    monkeypatch.setattr(JpegImageFile, "draft", spy)
    thumbnail_webp(io.BytesIO(jpeg(gradient((2048, 1536)))))
    assert drafts[0] == (256, 256)  # before load: libjpeg decodes at 1/4 scale


def test_it_turns_an_exif_rotated_jpeg_upright():
    assert decoded(thumbnail_webp(io.BytesIO(jpeg_rotated(gradient((400, 200)), 6)))).size == (
        128,
        256,
    )


@pytest.mark.parametrize("mode", ["P", "L", "LA", "I;16", "CMYK"])
def test_it_makes_rgb_or_rgba_webp_from_any_mode(mode):
    picture = gradient((300, 200)).convert("L" if mode == "I;16" else mode)
    if mode == "I;16":
        picture = picture.convert("I").point(lambda value: value * 257).convert("I;16")
    data = jpeg(picture) if mode == "CMYK" else png(picture)
    thumbnail = decoded(thumbnail_webp(io.BytesIO(data)))
    assert thumbnail.mode in {"RGB", "RGBA"}
    assert thumbnail.size == (256, 171)
    assert thumbnail.getextrema()[0][1] > 200  # a 16-bit grey is scaled down, not clipped
