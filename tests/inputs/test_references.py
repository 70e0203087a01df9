"""Reference images: refused in plain words, or normalised with the original bytes kept."""

import hashlib
import io
import pickle
import tempfile

import pytest
from django.core.files.uploadedfile import TemporaryUploadedFile
from PIL import Image, ImageFile

from playground.inputs.images import (
    MAX_INPUT_BYTES,
    ImageRefused,
    NormalizedImage,
    normalize_reference,
)
from tests.inputs.pictures import (
    animated,
    decoded,
    gradient,
    jpeg,
    jpeg_rotated,
    noise,
    png,
    webp,
    with_png_size,
)


def normalize(name: str, data: bytes) -> NormalizedImage:
    return normalize_reference(name, io.BytesIO(data), len(data))


def refusal(name: str, data: bytes, size: int | None = None) -> ImageRefused:
    with pytest.raises(ImageRefused) as caught:
        normalize_reference(name, io.BytesIO(data), len(data) if size is None else size)
    assert caught.value.name == name
    assert str(caught.value) == f"{name}: {caught.value.reason}"
    return caught.value


def source_bytes(image: NormalizedImage) -> bytes:
    assert image.source.tell() == 0
    data = image.source.read()
    image.source.seek(0)
    return data


@pytest.mark.parametrize(
    ("encoded", "expected_format"),
    [
        (png(gradient()), "png"),
        (png(gradient(mode="RGBA")), "png"),
        (png(gradient(mode="L")), "png"),
        (jpeg(gradient()), "jpeg"),
        (webp(gradient()), "webp"),
        (webp(gradient(mode="RGBA"), lossless=True), "webp"),
    ],
)
def test_it_keeps_an_image_that_needs_no_change_byte_identical(encoded, expected_format):
    fileobj = io.BytesIO(encoded)
    image = normalize_reference("holiday.img", fileobj, len(encoded))
    assert image.source is fileobj
    assert source_bytes(image) == encoded
    assert image.format == expected_format
    assert (image.width, image.height) == (64, 48)
    assert image.byte_size == len(encoded)
    assert image.sha256 == hashlib.sha256(encoded).hexdigest()
    assert image.notices == []
    assert image.name == "holiday.img"


def test_it_judges_the_format_by_the_content_not_the_name():
    image = normalize("photo.png", jpeg(gradient()))
    assert image.format == "jpeg"


def test_it_refuses_a_text_file_named_like_a_png():
    refused = refusal("photo.png", b"Dear diary, today I took a photo.\n" * 20)
    assert str(refused) == "photo.png: not an image we can read (PNG, JPEG or WebP)"


def test_it_refuses_formats_other_than_png_jpeg_and_webp():
    gif = io.BytesIO()
    gradient().save(gif, "GIF")
    assert refusal("cat.gif", gif.getvalue()).reason.startswith("not an image we can read")


def test_it_refuses_a_file_of_50_mb_before_reading_it():
    class Unreadable(io.BytesIO):
        def read(self, *args: object) -> bytes:
            raise AssertionError("a file this large must not be read")

    with pytest.raises(ImageRefused) as caught:
        normalize_reference("huge.png", Unreadable(b""), MAX_INPUT_BYTES)
    assert str(caught.value) == "huge.png: the file is 50.0 MB; files must be under 50 MB"


def test_it_accepts_a_file_just_under_50_mb():
    data = png(gradient())
    assert normalize_reference("big.png", io.BytesIO(data), MAX_INPUT_BYTES - 1).format == "png"


def test_it_refuses_a_decompression_bomb_from_its_header_without_decoding_it(monkeypatch):
    bomb = with_png_size(png(Image.new("1", (8, 8))), 20000, 20000)

    def decode(picture: ImageFile.ImageFile) -> None:
        raise AssertionError("a bomb must be refused before its pixels are decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", decode)
    refused = refusal("bomb.png", bomb)
    assert refused.reason == "the image has too many pixels (the limit is 40 megapixels)"


def test_it_refuses_more_than_40_megapixels_before_decoding():
    # Below Pillow's own limit; the pixel data is that of an 8x8 image, so a decode would have
    # failed as "damaged": the refusal proves the size was checked first.
    large = with_png_size(png(Image.new("L", (8, 8))), 8000, 5001)
    refused = refusal("large.png", large)
    assert refused.reason == "the image is 8000x5001 pixels; the limit is 40 megapixels"


@pytest.mark.parametrize("maker", [png, jpeg, webp])
def test_it_refuses_a_truncated_file(maker):
    data = maker(noise((200, 150)))
    refused = refusal("cut.img", data[: len(data) // 2])
    assert refused.reason in {
        "the file is truncated or damaged",
        # A WebP cut in half no longer describes itself as one.
        "not an image we can read (PNG, JPEG or WebP)",
    }


def test_it_says_a_png_cut_in_half_is_truncated():
    data = png(noise((200, 150)))
    assert refusal("cut.png", data[: len(data) // 2]).reason == "the file is truncated or damaged"


def test_it_converts_a_cmyk_jpeg_to_an_rgb_jpeg():
    data = jpeg(gradient().convert("CMYK"))
    assert decoded(data).mode == "CMYK"
    image = normalize("print.jpg", data)
    assert image.format == "jpeg"
    assert image.notices == ["print.jpg: CMYK; converted to RGB, colours may shift"]
    assert decoded(source_bytes(image)).mode == "RGB"


def test_it_reduces_a_16_bit_png_to_8_bits_by_scaling():
    wide = Image.new("I;16", (4, 2))
    wide.putdata([0, 257 * 64, 257 * 128, 65535] * 2)
    data = png(wide)
    assert decoded(data).mode.startswith("I")
    image = normalize("scan.png", data)
    assert image.notices == ["scan.png: 16-bit; reduced to 8 bits per channel"]
    result = decoded(source_bytes(image))
    assert result.mode == "RGB"
    assert [result.getpixel((x, 0)) for x in range(4)] == [
        (0, 0, 0),
        (64, 64, 64),
        (128, 128, 128),
        (255, 255, 255),
    ]


def test_it_converts_a_palette_png_to_rgb_and_keeps_its_transparency():
    opaque = normalize("flat.png", png(gradient().convert("P")))
    assert decoded(source_bytes(opaque)).mode == "RGB"
    assert opaque.notices == []
    palette = Image.new("P", (8, 8), 0)
    palette.putpalette([255, 0, 0, 0, 0, 255])
    palette.putpixel((0, 0), 1)
    transparent = normalize("sticker.png", png(palette, transparency=0))
    result = decoded(source_bytes(transparent))
    assert result.mode == "RGBA"
    assert result.getpixel((0, 0)) == (0, 0, 255, 255)
    assert result.getpixel((1, 1))[3] == 0


def test_it_turns_an_exif_rotated_jpeg_upright():
    picture = Image.new("RGB", (40, 20), "blue")
    picture.paste("red", (0, 0, 10, 10))  # top-left corner as stored
    image = normalize("phone.jpg", jpeg_rotated(picture, 6))
    assert (image.width, image.height) == (20, 40)
    assert image.format == "jpeg"  # a photo stays a photo: PNG would only grow it
    result = decoded(source_bytes(image))
    assert result.size == (20, 40)
    # Orientation 6 is displayed turned 90 degrees clockwise: top-left goes top-right.
    red, _, blue = result.getpixel((17, 2))
    assert red > 200 and blue < 60
    assert "exif" not in result.info or Image.Exif().load(result.info["exif"]).get(0x0112, 1) == 1


def test_it_keeps_an_upright_exif_jpeg_untouched():
    data = jpeg_rotated(gradient(), 1)
    assert source_bytes(normalize("upright.jpg", data)) == data


@pytest.mark.parametrize(("image_format", "expected"), [("PNG", "png"), ("WEBP", "webp")])
def test_it_reduces_an_animation_to_its_first_frame(image_format, expected):
    data = animated(image_format)
    with Image.open(io.BytesIO(data)) as picture:
        assert picture.n_frames == 2
    image = normalize("loop.img", data)
    assert image.notices == ["loop.img: animated; only its first frame is used"]
    assert image.format == "png"
    with Image.open(image.source) as result:
        assert getattr(result, "n_frames", 1) == 1
        assert result.convert("RGB").getpixel((0, 0)) == (255, 0, 0)


def test_it_reencodes_into_a_spooled_file_positioned_at_the_start():
    image = normalize("phone.jpg", jpeg_rotated(gradient(), 8))
    assert isinstance(image.source, tempfile.SpooledTemporaryFile)
    data = source_bytes(image)
    assert image.sha256 == hashlib.sha256(data).hexdigest()
    assert image.byte_size == len(data)


def test_it_hashes_in_chunks_of_at_most_one_mebibyte():
    data = png(noise((1200, 1000)))
    assert len(data) > 2 * 1024 * 1024

    class Recording(io.BytesIO):
        hash_reads: list[int] = []

        def read(self, size: int | None = -1) -> bytes:
            chunk = super().read(size)
            self.hash_reads.append(size if size is not None else -1)
            return chunk

    image = normalize_reference("big.png", Recording(data), len(data))
    assert image.sha256 == hashlib.sha256(data).hexdigest()
    assert -1 not in Recording.hash_reads
    assert max(Recording.hash_reads) <= 1024 * 1024


def test_it_keeps_name_and_reason_through_pickling():
    refused = pickle.loads(pickle.dumps(ImageRefused("a.png", "the file is truncated or damaged")))
    assert (refused.name, refused.reason) == ("a.png", "the file is truncated or damaged")
    assert str(refused) == "a.png: the file is truncated or damaged"


def test_it_keeps_the_first_picture_of_a_multi_picture_jpeg():
    pictures = [Image.new("RGB", (40, 30), "red"), Image.new("RGB", (40, 30), "blue")]
    out = io.BytesIO()
    pictures[0].save(out, "MPO", save_all=True, append_images=pictures[1:])
    image = normalize("3d.jpg", out.getvalue())
    assert image.notices == ["3d.jpg: holds several pictures; only the first is used"]
    red, _, blue = decoded(source_bytes(image)).getpixel((0, 0))
    assert red > 240 and blue < 15


def test_it_reads_an_uploaded_file_in_place():
    data = png(gradient())
    upload = TemporaryUploadedFile("upload.png", "image/png", len(data), None)
    upload.write(data)
    image = normalize_reference(upload.name, upload, upload.size)
    assert image.source is upload
    assert source_bytes(image) == data
    upload.close()
