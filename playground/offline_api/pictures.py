"""Deterministic procedural pictures standing in for what the model would draw.

Everything derives from a sha256 of the prompt and image index, so the same request always
gives the same bytes. Pictures show the prompt's first words and "i/n" so a person can tell
results apart; edits show the reference images and the masked area, hatched.
"""

import hashlib
import io
import random
import textwrap
from collections import OrderedDict
from functools import cache
from threading import Lock

from PIL import Image, ImageChops, ImageDraw, ImageFont, ImageOps
from PIL.PngImagePlugin import PngInfo

from playground.offline_api.validation import ImageRequest

SOFTWARE = "offline-images-api"
PIL_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}
HATCH_COLOURS = ((255, 0, 200), (255, 230, 0))
Colour = tuple[int, int, int]

_cache: OrderedDict[tuple[object, ...], bytes] = OrderedDict()
_cache_lock = Lock()
CACHE_SIZE = 32


def seed_bytes(prompt: str, index: int) -> bytes:
    return hashlib.sha256(f"{prompt}\x00{index}".encode()).digest()


@cache
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def gradient(width: int, height: int, start: Colour, end: Colour, variant: int) -> Image.Image:
    """A two-colour gradient, built at 256x256 and scaled up (cheap at any size)."""
    vertical = Image.linear_gradient("L")
    if variant == 0:
        shade = vertical
    elif variant == 1:
        shade = vertical.rotate(90)
    elif variant == 2:
        shade = ImageChops.add(vertical, vertical.rotate(90), scale=2)
    else:
        shade = Image.radial_gradient("L")
    small = ImageOps.colorize(shade, start, end)
    return small.resize((width, height), Image.Resampling.BILINEAR)


def card_mask(width: int, height: int) -> Image.Image:
    """Opaque rounded card in the middle, transparent margin and corners."""
    mask = Image.new("L", (width, height), 0)
    inset = max(4, min(width, height) // 12)
    box = (inset, inset, width - inset - 1, height - inset - 1)
    ImageDraw.Draw(mask).rounded_rectangle(box, radius=inset * 2, fill=255)
    return mask


def with_background(image: Image.Image, background: str) -> Image.Image:
    if background != "transparent":
        return image.convert("RGB")
    image = image.convert("RGBA")
    alpha = ImageChops.darker(image.getchannel("A"), card_mask(*image.size))
    image.putalpha(alpha)
    return image


def draw_shapes(image: Image.Image, rng: random.Random) -> None:
    draw = ImageDraw.Draw(image)
    width, height = image.size
    unit = min(width, height)
    for _ in range(rng.randint(5, 9)):
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256), 255)
        x, y = rng.randrange(width), rng.randrange(height)
        radius = rng.randint(unit // 16, unit // 5)
        box = (x - radius, y - radius, x + radius, y + radius)
        kind = rng.randrange(3)
        if kind == 0:
            draw.ellipse(box, fill=colour)
        elif kind == 1:
            draw.rectangle(box, fill=colour)
        else:
            draw.regular_polygon((x, y, radius), rng.randint(3, 7), fill=colour)


def caption_lines(prompt: str, max_words: int = 8, width: int = 28) -> list[str]:
    words = " ".join(prompt.split()[:max_words])
    if len(prompt.split()) > max_words:
        words += " ..."
    return textwrap.wrap(words, width=width)[:3] or [""]


def draw_labels(image: Image.Image, request: ImageRequest, index: int) -> None:
    """The prompt's first words in a banner, "i/n" top left, model and size bottom right."""
    draw = ImageDraw.Draw(image)
    width, height = image.size
    unit = min(width, height)
    big, small = font(max(14, unit // 16)), font(max(10, unit // 40))
    text = "\n".join(caption_lines(request.prompt))
    left, top, right, bottom = draw.multiline_textbbox((0, 0), text, font=big, spacing=unit // 80)
    pad = unit // 40
    x, y = (width - (right - left)) // 2, (height - (bottom - top)) // 2
    if request.kind == "edits":
        y = unit // 5  # near the top, so the banner never hides the edited (hatched) area
    banner = (x - pad, y - pad, x + right - left + pad, y + bottom - top + pad)
    draw.rounded_rectangle(banner, radius=pad, fill=(20, 20, 28, 255))
    draw.multiline_text(
        (x - left, y - top), text, font=big, fill=(255, 255, 255, 255), spacing=unit // 80
    )
    stroke = {"stroke_width": max(1, unit // 300), "stroke_fill": (0, 0, 0, 255)}
    corner = unit // 10
    draw.text((corner, corner), f"{index + 1}/{request.n}", font=big, fill="white", **stroke)
    footer = f"{request.model_id} - {request.size} - {request.quality} - offline"
    draw.text(
        (width - corner, height - corner), footer, font=small, fill="white", anchor="rs", **stroke
    )


def hatch(width: int, height: int) -> Image.Image:
    """Bright diagonal stripes that no real picture looks like."""
    spacing = max(8, min(width, height) // 32)
    image = Image.new("RGB", (width, height), HATCH_COLOURS[0])
    draw = ImageDraw.Draw(image)
    for offset in range(-height, width, spacing * 2):
        draw.line((offset, 0, offset + height, height), fill=HATCH_COLOURS[1], width=spacing)
    return image


def edit_area(request: ImageRequest) -> Image.Image | None:
    """L image, 255 where the mask's alpha is 0 (the area sent for editing), at output size."""
    if request.mask is None:
        return None
    alpha = request.mask.image.convert("RGBA").getchannel("A")
    fitted = ImageOps.fit(alpha, (request.width, request.height), Image.Resampling.NEAREST)
    return fitted.point([255] + [0] * 255)


def paste_thumbnails(image: Image.Image, request: ImageRequest) -> None:
    others = request.images[1:]
    if not others:
        return
    width, height = image.size
    gap = max(2, min(width, height) // 100)
    side = min(height // 5, (width - gap) // len(others) - gap)
    for position, reference in enumerate(others):
        thumb = ImageOps.fit(reference.image.convert("RGB"), (side, side))
        thumb = ImageOps.expand(thumb, border=max(1, gap // 2), fill="white")
        image.paste(thumb, (gap + position * (side + gap), height - side - 2 * gap))


def render_edit_base(request: ImageRequest, rng: random.Random) -> Image.Image:
    size = (request.width, request.height)
    base = ImageOps.fit(request.images[0].image.convert("RGBA"), size, Image.Resampling.BILINEAR)
    base = with_background(base, request.background)
    if (area := edit_area(request)) is not None:
        base.paste(hatch(*size), mask=area)
    # A frame in the prompt's colour shows the picture came back through the stand-in.
    frame = (rng.randrange(256), rng.randrange(256), rng.randrange(256), 255)
    ImageDraw.Draw(base).rectangle(
        (0, 0, size[0] - 1, size[1] - 1), outline=frame, width=max(2, min(size) // 64)
    )
    paste_thumbnails(base, request)
    return base


def render(request: ImageRequest, index: int) -> Image.Image:
    """The final picture number `index` (0-based) of a request, as a Pillow image."""
    digest = seed_bytes(request.prompt, index)
    rng = random.Random(digest)
    if request.kind == "edits" and request.images:
        image = render_edit_base(request, rng)
    else:
        start, end = (digest[0], digest[1], digest[2]), (digest[3], digest[4], digest[5])
        image = gradient(request.width, request.height, start, end, digest[6] % 4)
        image = with_background(image, request.background)
        draw_shapes(image, rng)
    draw_labels(image, request, index)
    return image


def partial_renditions(image: Image.Image, count: int) -> list[Image.Image]:
    """`count` pixelated previews, each sharper than the one before."""
    previews = []
    for step in range(count):
        factor = 2 ** (count - step + 2)
        small = image.reduce(factor) if min(image.size) >= factor else image
        previews.append(small.resize(image.size, Image.Resampling.NEAREST))
    return previews


def encode(image: Image.Image, output_format: str, compression: int | None = None) -> bytes:
    buffer = io.BytesIO()
    if output_format == "png":
        info = PngInfo()
        info.add_text("Software", SOFTWARE)
        image.save(buffer, "PNG", pnginfo=info, compress_level=1)
    elif output_format == "jpeg":
        # The API's output_compression defaults to 100; it maps onto the encoder's quality.
        quality = 100 if compression is None else compression
        image.convert("RGB").save(buffer, "JPEG", quality=quality)
    else:
        image.save(buffer, "WEBP", quality=100 if compression is None else compression, method=2)
    return buffer.getvalue()


def encode_for(request: ImageRequest, image: Image.Image) -> bytes:
    return encode(image, request.output_format, request.output_compression)


def cache_key(request: ImageRequest, index: int) -> tuple[object, ...] | None:
    if request.kind != "generations":
        return None
    return (
        request.model_id,
        request.prompt,
        request.n,
        request.size,
        request.quality,
        request.output_format,
        request.output_compression,
        request.background,
        index,
    )


def picture_bytes(request: ImageRequest, index: int) -> bytes:
    """Encoded final picture; generations are cached since repeated tests ask the same."""
    key = cache_key(request, index)
    if key is not None:
        with _cache_lock:
            if key in _cache:
                _cache.move_to_end(key)
                return _cache[key]
    data = encode_for(request, render(request, index))
    if key is not None:
        with _cache_lock:
            _cache[key] = data
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
    return data
