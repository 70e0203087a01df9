"""Draws the pictures the prompt examples load and writes static/examples/examples.json.

The pictures are drawn here, with Pillow and its bundled Aileron font (public domain), so that
every pixel is the project's own. They are committed; run this again only after changing them
or playground/generations/examples.py:

    python manage.py make_examples

Each is drawn at twice its size and scaled down, for smooth edges. Randomness is seeded, so
the pictures are the same on every run with the same Pillow.
"""

import json
import math
import random
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from playground.generations.examples import DATA_FILE, EXAMPLES, STATIC_FOLDER, examples_data

SCALE = 2
Color = tuple[int, int, int]
# The flamingo's place in the pool picture, at its final size: transparent in the mask.
FLAMINGO_BOX = (400, 176, 552, 448)


# ---------------------------------------------------------------- helpers


def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size * SCALE)


def s(*values: float) -> tuple[int, ...]:
    """Coordinates of the final picture, at drawing scale."""
    return tuple(round(v * SCALE) for v in values)


def gradient(size: tuple[int, ...], top: Color, bottom: Color) -> Image.Image:
    ramp = Image.linear_gradient("L").resize(size)
    return Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), ramp)


def soft_shape(
    image: Image.Image, box: tuple[int, ...], color: Color, opacity: int, blur: float
) -> None:
    """A blurred ellipse blended in: shadows, glows, light."""
    layer = Image.new("L", image.size, 0)
    ImageDraw.Draw(layer).ellipse(box, fill=opacity)
    layer = layer.filter(ImageFilter.GaussianBlur(blur * SCALE))
    image.paste(Image.new("RGB", image.size, color), mask=layer)


def soft_polygon(
    image: Image.Image, points: list[tuple[int, ...]], color: Color, opacity: int, blur: float
) -> None:
    layer = Image.new("L", image.size, 0)
    ImageDraw.Draw(layer).polygon(points, fill=opacity)
    layer = layer.filter(ImageFilter.GaussianBlur(blur * SCALE))
    image.paste(Image.new("RGB", image.size, color), mask=layer)


def centered_text(
    draw: ImageDraw.ImageDraw, center: tuple[float, float], text: str, size: int, fill: Color
) -> None:
    draw.text(s(*center), text, font=font(size), fill=fill, anchor="mm")


def studio(size: int = 384) -> Image.Image:
    """A warm seamless backdrop for the product shots."""
    image = gradient(s(size, size), (251, 248, 243), (232, 225, 214))
    soft_shape(image, s(-60, -80, size + 60, size * 0.55), (255, 253, 249), 140, 40)
    return image


def finish(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    return image.resize(size, Image.Resampling.LANCZOS)


def photo_grain(image: Image.Image, amount: float = 0.045) -> Image.Image:
    """A touch of sensor noise and a vignette, so a drawing reads as a photograph."""
    # Seeded, unlike Image.effect_noise, so that a new run gives the same files.
    grain = random.Random(5).randbytes(image.width * image.height)
    noise = Image.frombytes("L", image.size, grain).convert("RGB")
    image = Image.blend(image, noise, amount)
    vignette = Image.radial_gradient("L").resize(image.size).point(lambda v: max(0, v - 110) * 2)
    dark = ImageChops.multiply(image, Image.new("RGB", image.size, (150, 140, 135)))
    return Image.composite(dark, image, vignette)


# ---------------------------------------------------------------- the basket's items


def soap() -> Image.Image:
    image = studio()
    soft_shape(image, s(70, 262, 318, 300), (120, 105, 95), 150, 9)
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle(s(78, 150, 306, 282), radius=28 * SCALE, fill=(150, 126, 188))
    draw.rounded_rectangle(s(78, 128, 306, 236), radius=28 * SCALE, fill=(190, 172, 220))
    draw.rounded_rectangle(
        s(90, 136, 294, 228), radius=22 * SCALE, outline=(172, 152, 206), width=2 * SCALE
    )
    draw.ellipse(
        s(128, 150, 256, 214), fill=(246, 240, 228), outline=(176, 150, 110), width=2 * SCALE
    )
    centered_text(draw, (192, 175), "LAVENDER", 15, (96, 74, 130))
    centered_text(draw, (192, 195), "handmade soap", 10, (130, 110, 90))
    # A lavender sprig laid across the corner.
    stem = [s(236, 250), s(286, 176), s(330, 110)]
    draw.line([p for point in stem for p in point], fill=(92, 120, 74), width=3 * SCALE)
    rng = random.Random(7)
    for i in range(22):
        t = i / 21
        x, y = 300 + 34 * t, 150 - 46 * t
        for side in (-1, 1):
            bx, by = x + side * rng.uniform(3, 7), y + rng.uniform(-3, 3)
            shade = rng.choice([(118, 84, 170), (140, 104, 190), (102, 72, 150)])
            draw.ellipse(s(bx - 4, by - 3, bx + 4, by + 3), fill=shade)
    return finish(image, (384, 384))


def candle() -> Image.Image:
    image = studio()
    soft_shape(image, s(100, 318, 284, 350), (110, 90, 70), 160, 8)
    soft_shape(image, s(132, 30, 252, 170), (255, 214, 130), 120, 26)  # the flame's glow
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle(s(112, 120, 272, 336), radius=18 * SCALE, fill=(176, 104, 46))
    draw.rectangle(s(120, 132, 138, 324), fill=(206, 140, 74))  # light through the glass
    draw.rectangle(s(244, 132, 262, 324), fill=(150, 84, 34))
    draw.ellipse(s(112, 104, 272, 136), fill=(150, 84, 36))
    draw.ellipse(s(120, 108, 264, 132), fill=(244, 232, 208))  # the wax
    draw.line(s(192, 120, 192, 98), fill=(50, 40, 36), width=2 * SCALE)
    draw.ellipse(s(182, 52, 202, 104), fill=(250, 170, 60))
    draw.ellipse(s(186, 66, 198, 102), fill=(255, 228, 132))
    draw.rounded_rectangle(s(112, 196, 272, 276), radius=4 * SCALE, fill=(241, 232, 214))
    draw.line(s(122, 204, 262, 204), fill=(176, 130, 80), width=SCALE)
    draw.line(s(122, 268, 262, 268), fill=(176, 130, 80), width=SCALE)
    centered_text(draw, (192, 228), "CEDAR & AMBER", 15, (92, 58, 30))
    centered_text(draw, (192, 250), "soy wax candle", 10, (140, 100, 64))
    return finish(image, (384, 384))


def bath_salts() -> Image.Image:
    image = studio()
    soft_shape(image, s(96, 330, 288, 362), (110, 95, 90), 160, 8)
    draw = ImageDraw.Draw(image)
    jar = s(112, 112, 272, 346)
    draw.rounded_rectangle(jar, radius=26 * SCALE, fill=(226, 232, 236))
    inside = Image.new("L", image.size, 0)
    ImageDraw.Draw(inside).rounded_rectangle(s(120, 150, 264, 338), radius=20 * SCALE, fill=255)
    crystals = Image.new("RGB", image.size, (236, 170, 184))
    cdraw = ImageDraw.Draw(crystals)
    rng = random.Random(11)
    pinks = [(244, 190, 200), (228, 146, 164), (250, 214, 220), (214, 120, 146), (255, 236, 238)]
    for _ in range(1400):
        x, y, r = rng.uniform(116, 268), rng.uniform(146, 342), rng.uniform(1.5, 4.2)
        cdraw.regular_polygon(
            (*s(x, y), r * SCALE),
            rng.choice([4, 5, 6]),
            rotation=rng.uniform(0, 90),
            fill=rng.choice(pinks),
        )
    image.paste(crystals, mask=inside)
    draw.rounded_rectangle(jar, radius=26 * SCALE, outline=(196, 204, 210), width=3 * SCALE)
    soft_polygon(
        image, [s(128, 130), s(140, 130), s(140, 330), s(128, 322)], (255, 255, 255), 150, 2
    )
    draw.rounded_rectangle(s(122, 70, 262, 116), radius=10 * SCALE, fill=(196, 156, 108))
    for _ in range(160):  # the cork's grain
        x, y = rng.uniform(126, 258), rng.uniform(74, 112)
        draw.ellipse(s(x, y, x + 1.6, y + 1.6), fill=rng.choice([(160, 120, 76), (214, 178, 130)]))
    draw.rounded_rectangle(
        s(136, 222, 248, 284),
        radius=6 * SCALE,
        fill=(255, 253, 248),
        outline=(200, 170, 170),
        width=SCALE,
    )
    centered_text(draw, (192, 244), "BATH SALTS", 14, (150, 70, 92))
    centered_text(draw, (192, 266), "rose & sea salt", 10, (150, 110, 110))
    return finish(image, (384, 384))


def towel() -> Image.Image:
    image = studio()
    soft_shape(image, s(56, 262, 338, 296), (100, 96, 86), 160, 9)
    draw = ImageDraw.Draw(image)
    body = s(92, 150, 322, 282)
    cloth = Image.new("RGB", image.size, (150, 176, 142))
    cdraw = ImageDraw.Draw(cloth)
    for x in range(96, 320, 3):  # terry cloth ribs
        cdraw.line(s(x, 150, x, 282), fill=(140, 166, 132), width=SCALE)
    for band in (210, 236):
        cdraw.rectangle(s(band, 150, band + 10, 282), fill=(238, 230, 212))
    shape = Image.new("L", image.size, 0)
    ImageDraw.Draw(shape).rounded_rectangle(body, radius=64 * SCALE, fill=255)
    image.paste(cloth, mask=shape)
    draw.ellipse(
        s(56, 150, 128, 282), fill=(166, 192, 158), outline=(128, 154, 122), width=2 * SCALE
    )
    for i in range(1, 6):  # the roll's spiral
        inset = i * 6
        draw.arc(
            s(56 + inset, 150 + inset * 1.8, 128 - inset, 282 - inset * 1.8),
            start=40 * i,
            end=40 * i + 300,
            fill=(122, 148, 116),
            width=2 * SCALE,
        )
    draw.rounded_rectangle(s(180, 138, 206, 294), radius=4 * SCALE, fill=(241, 232, 214))
    draw.line(s(193, 146, 193, 286), fill=(214, 196, 168), width=SCALE)
    return finish(image, (384, 384))


# ---------------------------------------------------------------- the pool, and its mask


def pool_lounge() -> Image.Image:
    w, h = 768, 512
    image = gradient(s(w, h), (240, 232, 220), (226, 214, 198))
    draw = ImageDraw.Draw(image)
    horizon = 250
    for left in (70, 300, 530):  # tall windows onto a garden
        pane = gradient(s(168, 200), (164, 204, 234), (222, 236, 240))
        pdraw = ImageDraw.Draw(pane)
        for cx, cy, r in ((20, 170, 50), (100, 184, 62), (150, 160, 40), (60, 196, 44)):
            pdraw.ellipse(s(cx - r, cy - r, cx + r, cy + r), fill=(112, 150, 98))
        image.paste(pane, s(left, 40))
        draw.rectangle(s(left, 40, left + 168, 240), outline=(250, 248, 244), width=6 * SCALE)
        draw.line(s(left + 84, 40, left + 84, 240), fill=(250, 248, 244), width=4 * SCALE)
        draw.line(s(left, 120, left + 168, 120), fill=(250, 248, 244), width=4 * SCALE)
    floor = gradient(s(w, h - horizon), (214, 200, 180), (236, 226, 210))
    image.paste(floor, s(0, horizon))
    draw = ImageDraw.Draw(image)
    vx = 384
    for i in range(-12, 13):  # tile joints running to the vanishing point
        draw.line(s(vx + i * 40, horizon, vx + i * 120, h), fill=(204, 188, 166), width=SCALE)
    y = horizon
    step = 8.0
    while y < h:
        draw.line(s(0, y, w, y), fill=(204, 188, 166), width=SCALE)
        y += step
        step *= 1.32
    # The pool: a trapezoid in perspective, a stone rim, turquoise water with caustics.
    rim = [s(214, 292), s(554, 292), s(700, 498), s(68, 498)]
    water = [s(226, 300), s(542, 300), s(680, 490), s(88, 490)]
    draw.polygon(rim, fill=(246, 242, 234))
    pool = Image.new("L", image.size, 0)
    ImageDraw.Draw(pool).polygon(water, fill=255)
    image.paste(gradient(image.size, (60, 170, 190), (38, 140, 176)), mask=pool)
    caustics = Image.new("RGB", image.size, (0, 0, 0))
    cdraw = ImageDraw.Draw(caustics)
    rng = random.Random(3)
    for row in range(26):
        y0 = 304 + row * 7.4
        phase = rng.uniform(0, math.tau)
        points = [s(x, y0 + 2.6 * math.sin(x / 14 + phase)) for x in range(60, 720, 6)]
        cdraw.line([c for p in points for c in p], fill=(70, 90, 80), width=SCALE)
    image.paste(ImageChops.add(image, caustics), mask=pool)
    for left in (100, 330, 560):  # the windows mirrored in the water
        soft_polygon(
            image,
            [s(left + 40, 306), s(left + 110, 306), s(left + 130, 420), s(left + 30, 420)],
            (190, 226, 232),
            70,
            6,
        )
    # Sunlight falling across the room.
    for left in (70, 300, 530):
        soft_polygon(
            image,
            [s(left + 10, 240), s(left + 158, 240), s(left + 260, 512), s(left + 60, 512)],
            (255, 244, 218),
            70,
            12,
        )
    draw = ImageDraw.Draw(image)
    for px in (26, 742):  # potted palms
        draw.polygon(
            [s(px - 18, 232), s(px + 18, 232), s(px + 13, 276), s(px - 13, 276)],
            fill=(190, 120, 86),
        )
        for angle in range(200, 345, 18):
            ex = px + 58 * math.cos(math.radians(angle))
            ey = 232 + 64 * math.sin(math.radians(angle))
            draw.line(s(px, 232, ex, ey), fill=(64, 120, 72), width=7 * SCALE)
    return finish(photo_grain(image, 0.03), (w, h))


def pool_mask() -> Image.Image:
    """Opaque everywhere, transparent where the flamingo goes (alpha 0 = the area to edit)."""
    alpha = Image.new("L", (768, 512), 255)
    ImageDraw.Draw(alpha).ellipse(FLAMINGO_BOX, fill=0)
    black = Image.new("L", alpha.size, 0)
    return Image.merge("RGBA", (black, black, black, alpha))


# ---------------------------------------------------------------- the lake, as a photograph


def ridge(rng: random.Random, base: float, amplitude: float, w: int) -> list[tuple[int, ...]]:
    phases = [rng.uniform(0, math.tau) for _ in range(4)]
    points = []
    for x in range(0, w + 8, 4):
        y = base
        for k, phase in enumerate(phases, start=1):
            y -= amplitude / k * math.sin(x / (140 / k) + phase)
        y += rng.uniform(-1.2, 1.2)
        points.append(s(x, y))
    return points


def pine(draw: ImageDraw.ImageDraw, x: float, ground: float, height: float, color: Color) -> None:
    draw.rectangle(s(x - 1.5, ground - height * 0.2, x + 1.5, ground), fill=(60, 44, 34))
    for i in range(4):
        top = ground - height + i * height * 0.2
        half = height * (0.12 + 0.06 * i)
        draw.polygon(
            [s(x, top), s(x + half, top + height * 0.36), s(x - half, top + height * 0.36)],
            fill=color,
        )


def lake_cabin() -> Image.Image:
    w, h = 768, 512
    shore = 318
    image = gradient(s(w, shore), (112, 160, 212), (246, 206, 170))
    image = image.crop((0, 0, *s(w, h)))
    soft_shape(image, s(470, 150, 650, 330), (255, 236, 200), 200, 40)  # the low sun
    rng = random.Random(21)
    draw = ImageDraw.Draw(image)
    for base, amplitude, color in (
        (214, 46, (148, 162, 190)),
        (246, 36, (104, 122, 146)),
        (286, 20, (60, 90, 78)),
    ):
        draw.polygon([s(0, shore), *ridge(rng, base, amplitude, w), s(w, shore)], fill=color)
    for x in range(0, w, 11):  # the forest along the far shore
        pine(
            draw,
            x + rng.uniform(-4, 4),
            shore + 2,
            rng.uniform(26, 44),
            rng.choice([(32, 64, 48), (38, 74, 54), (28, 56, 42)]),
        )
    # The cabin on the right shore.
    draw.rectangle(s(560, 286, 616, 320), fill=(122, 74, 46))
    for y in range(290, 320, 5):
        draw.line(s(560, y, 616, y), fill=(100, 60, 36), width=SCALE)
    draw.polygon([s(552, 288), s(588, 262), s(624, 288)], fill=(150, 46, 36))
    draw.rectangle(s(570, 296, 582, 306), fill=(250, 214, 140))
    draw.rectangle(s(596, 300, 606, 320), fill=(70, 44, 30))
    # The lake mirrors what is above the shore, rippled and darker.
    above = image.crop(s(0, shore - 194, w, shore)).transpose(Image.Transpose.FLIP_TOP_BOTTOM)
    rippled = above.copy()  # rows shifted sideways leave the original at the edges
    for row in range(above.height):
        offset = round(3 * SCALE * math.sin(row / (5 * SCALE)) * (row / above.height))
        rippled.paste(above.crop((0, row, above.width, row + 1)), (offset, row))
    rippled = rippled.filter(ImageFilter.GaussianBlur(1.2 * SCALE))
    water = Image.blend(rippled, Image.new("RGB", rippled.size, (36, 70, 96)), 0.35)
    image.paste(water, s(0, shore))
    draw = ImageDraw.Draw(image)
    for _ in range(90):  # glints on the water
        x, y = rng.uniform(380, 720), rng.uniform(shore + 6, h - 60)
        draw.line(s(x, y, x + rng.uniform(6, 22), y), fill=(250, 226, 190), width=SCALE)
    # Grass and stones in the foreground.
    bank = [s(x, 462 + 10 * math.sin(x / 60) + (x / 360) ** 4 * 60) for x in range(0, 372, 6)]
    draw.polygon([*bank, s(372, 512), s(0, 512)], fill=(72, 92, 52))
    for _ in range(320):
        x = rng.uniform(0, 350)
        base = 466 + 10 * math.sin(x / 60) + (x / 360) ** 4 * 60 + rng.uniform(2, 44)
        draw.line(
            s(x, base, x + rng.uniform(-5, 5), base - rng.uniform(8, 24)),
            fill=rng.choice([(94, 120, 62), (120, 140, 70), (60, 80, 44)]),
            width=SCALE,
        )
    for cx, cy, r in ((240, 488, 22), (290, 498, 14), (120, 500, 16)):
        draw.ellipse(s(cx - r, cy - r * 0.6, cx + r, cy + r * 0.6), fill=(120, 116, 108))
    image = image.filter(ImageFilter.GaussianBlur(0.6 * SCALE))
    return finish(photo_grain(image), (w, h))


PICTURES: dict[str, Callable[[], Image.Image]] = {
    "basket-soap.webp": soap,
    "basket-candle.webp": candle,
    "basket-bath-salts.webp": bath_salts,
    "basket-towel.webp": towel,
    "pool-lounge.webp": pool_lounge,
    "pool-lounge-mask.png": pool_mask,
    "lake-cabin-photo.webp": lake_cabin,
}


class Command(BaseCommand):
    help = "Draws the example pictures into static/examples/ and writes examples.json."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--out", type=Path, default=settings.BASE_DIR / "static" / STATIC_FOLDER
        )

    def handle(self, *args: object, out: Path, **options: object) -> None:
        named = {name for example in EXAMPLES for name in (*example.references, example.mask)}
        missing = sorted(named - set(PICTURES) - {""})
        if missing:
            raise CommandError(f"No drawing for {', '.join(missing)}")
        out.mkdir(parents=True, exist_ok=True)
        for name, draw in PICTURES.items():
            path = out / name
            picture = draw()
            if name.endswith(".png"):
                picture.save(path, "PNG", optimize=True)
            else:
                picture.save(path, "WEBP", quality=80, method=6)
            self.stdout.write(
                f"{path}: {picture.width}x{picture.height}, {path.stat().st_size // 1024} KB"
            )
        data = json.dumps(examples_data(), ensure_ascii=False, indent=1) + "\n"
        (out / DATA_FILE).write_text(data, encoding="utf-8")
        self.stdout.write(f"{out / DATA_FILE}")
