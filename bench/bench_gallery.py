"""Gallery benchmark with 10,000 images of one person (`make bench`).

It starts the stack as bench_jobs.py does (gunicorn with uvicorn workers, in a temporary
DATA_DIR, ./var untouched) and fills the admin's gallery: the newest 24 images go through the
real storing code (original PNG, thumbnails, display rendition) from photo-like pictures; the
other 9,976 rows are bulk-created, spread over a year, and share those files. Then:

1. Server time: the gallery's first page, page 400 (its keyset cursor is built from the
   database, and the page checked to hold the right images) and a share page of 24 images,
   each requested 20 times after 3 warm-up requests over one keep-alive loopback HTTP
   connection (signed in, `Accept-Encoding: gzip`), timed from sending the request to the
   last byte of the body. That is the server's time plus loopback, an upper bound of it. The
   median must stay under 50 ms. A search, a favourites page and /healthz (what any request
   costs here) are timed too, for information.
2. Page weight: headless Chromium opens the gallery (a fresh context, nothing cached),
   scrolls to load every lazy thumbnail, and sums the transfer sizes the Performance API
   reports (document, styles, scripts, thumbnails; headers included). A page of 24 images
   must transfer under 1 MB. The same at a device pixel ratio of 2 is given for information.

The pictures are synthetic: colour fields, hard-edged shapes and multi-scale grain, tuned so
that at the previous thumbnail setting (384 px, WebP q80) they weigh what real photographs did
(about 41 KB each, 990 KB per 24-image page); the figure is printed as a check.

It prints a report and exits 0 when the targets are met, 1 when one is missed, 2 when the run
itself fails.
"""

import http.client
import io
import random
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import timedelta

from bench_jobs import (
    CHROMIUM,
    CHROMIUM_ARGS,
    BenchError,
    Stack,
    exit_status,
    login,
    progress,
    read_credentials,
    running_stack,
)
from PIL import Image as PILImage
from PIL import ImageChops, ImageDraw, ImageFilter, ImageOps
from playwright.sync_api import sync_playwright

IMAGES = 10_000
PAGE_SIZE = 24
DEEP_PAGE = 400
DISTINCT = 24  # pictures stored through the real pipeline; the other rows share their files
REQUESTS = 20
WARMUP = 3
SERVER_TARGET_MS = 50.0
WEIGHT_TARGET_BYTES = 1_000_000
OLD_THUMBNAIL = (384, 80)  # edge and WebP quality before this benchmark's change
WORDS = [
    "kite",
    "lighthouse",
    "otter",
    "basket",
    "flamingo",
    "pool",
    "harbour",
    "fox",
    "lantern",
    "meadow",
    "glacier",
    "cactus",
    "violin",
    "bicycle",
    "teapot",
    "comet",
    "orchard",
    "canyon",
    "robot",
    "tram",
]


# -- photo-like pictures ---------------------------------------------------------------------


def _noise(rng: random.Random, cells: int, size: tuple[int, int], mode: str) -> PILImage.Image:
    bands = 3 if mode == "RGB" else 1
    small = PILImage.frombytes(mode, (cells, cells), rng.randbytes(cells * cells * bands))
    return small.resize(size, PILImage.Resampling.BICUBIC)


def _fractal(rng: random.Random, size: tuple[int, int], mode: str, octaves: tuple[int, ...]):  # type: ignore[no-untyped-def]
    picture = _noise(rng, 4, size, mode)
    weight = 0.5
    for cells in octaves:
        picture = PILImage.blend(picture, _noise(rng, cells, size, mode), weight)
        weight *= 0.8
    return ImageOps.autocontrast(picture, cutoff=1)


def photo(seed: int, size: tuple[int, int] = (1024, 1024)) -> bytes:
    """A PNG whose detail compresses like a photograph's (see the module's docstring)."""
    rng = random.Random(seed)
    colour = _fractal(rng, size, "RGB", (8, 16, 32))
    draw = ImageDraw.Draw(colour)
    for _ in range(rng.randint(6, 12)):
        x, y, r = rng.uniform(0, size[0]), rng.uniform(0, size[1]), rng.uniform(40, 260)
        fill = tuple(rng.randrange(256) for _ in range(3))
        if rng.random() < 0.5:
            draw.ellipse((x - r, y - r * rng.uniform(0.4, 1), x + r, y + r), fill=fill)
        else:
            corners = [(x + rng.uniform(-r, r), y + rng.uniform(-r, r)) for _ in range(5)]
            draw.polygon(corners, fill=fill)
    colour = colour.filter(ImageFilter.GaussianBlur(1.2))
    grain = _fractal(rng, size, "L", (32, 64, 128, 256, 512, 1024))
    shaded = ImageChops.overlay(colour, PILImage.merge("RGB", (grain, grain, grain)))
    out = io.BytesIO()
    PILImage.blend(colour, shaded, 0.6).save(out, "PNG", compress_level=1)
    return out.getvalue()


def old_thumbnail_kb(pictures: list[bytes]) -> float:
    """Mean size of these pictures as the previous grid thumbnail (384 px, WebP q80)."""
    sizes = []
    for data in pictures:
        with PILImage.open(io.BytesIO(data)) as picture:
            picture.thumbnail((OLD_THUMBNAIL[0], OLD_THUMBNAIL[0]))
            out = io.BytesIO()
            picture.convert("RGB").save(out, "WEBP", quality=OLD_THUMBNAIL[1], method=4)
            sizes.append(len(out.getvalue()))
    return statistics.mean(sizes) / 1024


# -- the gallery -----------------------------------------------------------------------------


@dataclass
class Gallery:
    deep_path: str  # page 400
    deep_first_pk: int
    share_path: str | None
    calibration_kb: float


def fill_gallery(username: str) -> Gallery:
    """10,000 images of `username`: DISTINCT real ones, newest, and bulk rows sharing files."""
    from django.contrib.auth import get_user_model
    from django.urls import reverse
    from django.utils import timezone

    from playground.gallery.models import Image
    from playground.gallery.pages import ORDERS, Cursor
    from playground.gallery.storage import store_image
    from playground.generations.models import Generation

    owner = get_user_model().objects.get(username=username)
    now = timezone.now()
    progress(f"drawing {DISTINCT} photo-like pictures and storing them")
    pictures = [photo(seed) for seed in range(DISTINCT)]
    stored = []
    for number, data in enumerate(pictures):
        job = Generation.objects.create(
            owner=owner,
            model="gpt-image-2",
            prompt=f"a photograph of a {WORDS[number % len(WORDS)]} at dusk, number {number}",
            params={"n": 1, "quality": "medium", "size": "1024x1024"},
            state="succeeded",
        )
        stored.append(store_image(job, 0, data, created_at=now - timedelta(seconds=number)))

    progress(f"bulk-creating {IMAGES - DISTINCT:,} more rows")
    rng = random.Random(7)
    rest = IMAGES - DISTINCT
    step = timedelta(days=365) / rest
    jobs = Generation.objects.bulk_create(
        (
            Generation(
                owner=owner,
                model=rng.choice(["gpt-image-2", "gpt-image-1", "gpt-image-1-mini"]),
                operation=rng.choice(["generate", "generate", "edit"]),
                prompt=" ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 30))),
                params={"n": 1, "quality": rng.choice(["low", "medium", "high"])},
                state="succeeded",
                created_at=now - timedelta(minutes=1) - step * number,
            )
            for number in range(rest)
        ),
        batch_size=1000,
    )
    Image.objects.bulk_create(
        (
            Image(
                owner=owner,
                generation=job,
                index=0,
                file=source.file.name,
                thumbnail=source.thumbnail.name,
                thumbnail_2x=source.thumbnail_2x.name,
                display=source.display.name,
                format=source.format,
                width=source.width,
                height=source.height,
                byte_size=source.byte_size,
                sha256=source.sha256,
                created_at=job.created_at,
                favourite=number % 20 == 0,
            )
            for number, (job, source) in enumerate(
                zip(jobs, (stored[n % DISTINCT] for n in range(rest)), strict=True)
            )
        ),
        batch_size=1000,
    )
    if Image.objects.filter(owner=owner).count() != IMAGES:
        raise BenchError("the gallery does not hold the expected number of images")

    ordered = Image.objects.filter(owner=owner).order_by(
        *[("-" if descending else "") + name for name, descending in ORDERS["newest"]]
    )
    skip = (DEEP_PAGE - 1) * PAGE_SIZE
    before_deep, deep_first = list(ordered[skip - 1 : skip + 1])
    deep_path = f"{reverse('gallery')}?after={Cursor.of(before_deep)}"

    share_path = None
    try:
        from playground.sharing.services import create_share
    except ImportError:
        progress("playground.sharing.services.create_share is missing: no share page figure")
    else:
        link = create_share(owner, list(ordered[:PAGE_SIZE]), expires_at=None, show_details=True)
        share_path = reverse("share-page", args=[link.token])
    return Gallery(deep_path, deep_first.pk, share_path, old_thumbnail_kb(pictures))


# -- target 1: server time -------------------------------------------------------------------


def timed_gets(port: int, path: str, cookies: dict[str, str]) -> tuple[list[float], bytes]:
    """Milliseconds per GET of `path` over one keep-alive connection, and the last body."""
    headers = {
        "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
        "Accept-Encoding": "gzip",
        "Connection": "keep-alive",
    }
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times: list[float] = []
    body = b""
    try:
        for number in range(WARMUP + REQUESTS):
            started = time.perf_counter()
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            body = response.read()
            elapsed = (time.perf_counter() - started) * 1000
            if response.status != 200:
                raise BenchError(f"GET {path} answered HTTP {response.status}")
            if number >= WARMUP:
                times.append(elapsed)
    finally:
        connection.close()
    return times, body


def plain_body(body: bytes) -> str:
    import gzip

    try:
        return gzip.decompress(body).decode()
    except OSError:
        return body.decode()


@dataclass
class Timing:
    name: str
    times: list[float]
    target: bool  # counts toward the exit status

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def passed(self) -> bool:
        return self.median < SERVER_TARGET_MS


def measure_server(stack: Stack, cookies: dict[str, str], gallery: Gallery) -> list[Timing]:
    port = stack.web_port
    timings = []
    first, body = timed_gets(port, "/gallery/", cookies)
    if plain_body(body).count('class="gallery-item"') != PAGE_SIZE:
        raise BenchError("the first gallery page does not show 24 images")
    timings.append(Timing("gallery page 1", first, True))
    deep, body = timed_gets(port, gallery.deep_path, cookies)
    shown = plain_body(body)
    if shown.count('class="gallery-item"') != PAGE_SIZE or (
        f'name="image" value="{gallery.deep_first_pk}"' not in shown
    ):
        raise BenchError(f"page {DEEP_PAGE} does not show the images it should")
    timings.append(Timing(f"gallery page {DEEP_PAGE}", deep, True))
    if gallery.share_path:
        share, _ = timed_gets(port, gallery.share_path, {})
        timings.append(Timing("share page (24 images)", share, True))
    floor, _ = timed_gets(port, "/healthz", {})
    timings.append(Timing("/healthz (the floor)", floor, False))
    search, _ = timed_gets(port, "/gallery/?q=lantern+meadow", cookies)
    timings.append(Timing("search 'lantern meadow'", search, False))
    favourites, _ = timed_gets(port, f"{gallery.deep_path}&favourites=on", cookies)
    timings.append(Timing("favourites, deep", favourites, False))
    return timings


# -- target 2: page weight in Chromium -------------------------------------------------------

# Every thumbnail loaded (lazy ones after scrolling), then the sizes as the browser counted.
WEIGHT_JS = """async () => {
  window.scrollTo(0, document.body.scrollHeight);
  const images = [...document.querySelectorAll("#gallery-results .gallery-item img")];
  await Promise.all(images.map(img => img.complete ? null : new Promise(resolve => {
    img.addEventListener("load", resolve, {once: true});
    img.addEventListener("error", resolve, {once: true});
  })));
  await new Promise(resolve => setTimeout(resolve, 300));
  const entries = [...performance.getEntriesByType("navigation"),
                   ...performance.getEntriesByType("resource")];
  return {
    images: images.length,
    loaded: images.filter(img => img.complete && img.naturalWidth > 0).length,
    entries: entries.map(e => ({name: e.name, type: e.initiatorType, size: e.transferSize,
                                body: e.encodedBodySize})),
  };
}"""


@dataclass
class Weight:
    scale: int
    total: int
    by_kind: dict[str, int]
    thumbnails: int

    @property
    def passed(self) -> bool:
        return self.total < WEIGHT_TARGET_BYTES


def kind_of(entry: dict[str, object]) -> str:
    name = str(entry["name"])
    if entry["type"] == "navigation":
        return "document"
    if "/thumbnail/" in name:
        return "thumbnails"
    if name.endswith(".css"):
        return "styles"
    if name.endswith(".js"):
        return "scripts"
    return "other"


def measure_weight(stack: Stack, username: str, password: str) -> list[Weight]:
    results = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for scale in (1, 2):
                context = browser.new_context(
                    viewport={"width": 1440, "height": 900}, device_scale_factor=scale
                )
                page = context.new_page()
                page.goto(f"{stack.web_url}/accounts/login/")
                page.fill("input[name=username]", username)
                page.fill("input[name=password]", password)
                with page.expect_navigation():
                    page.click("form button[type=submit]")
                # A second context: the gallery from an empty cache, signed in.
                state = context.storage_state()
                context.close()
                context = browser.new_context(
                    viewport={"width": 1440, "height": 900},
                    device_scale_factor=scale,
                    storage_state=state,
                )
                page = context.new_page()
                page.goto(f"{stack.web_url}/gallery/", wait_until="load")
                found = page.evaluate(WEIGHT_JS)
                context.close()
                if found["images"] != PAGE_SIZE or found["loaded"] != PAGE_SIZE:
                    raise BenchError(f"the gallery loaded {found['loaded']} of {PAGE_SIZE} images")
                by_kind: dict[str, int] = {}
                for entry in found["entries"]:
                    kind = kind_of(entry)
                    by_kind[kind] = by_kind.get(kind, 0) + int(entry["size"])
                thumbnails = sum(1 for e in found["entries"] if kind_of(e) == "thumbnails")
                results.append(Weight(scale, sum(by_kind.values()), by_kind, thumbnails))
        finally:
            browser.close()
    return results


# -- report ----------------------------------------------------------------------------------


def verdict(passed: bool) -> str:
    return "ok" if passed else "MISSED"


def run() -> bool:
    with running_stack() as stack:
        username, password = read_credentials(stack)
        gallery = fill_gallery(username)
        cookies = login(stack.web_port, username, password)
        progress("timing the gallery and share pages over keep-alive HTTP")
        timings = measure_server(stack, cookies, gallery)
        progress("weighing the gallery page in Chromium")
        weights = measure_weight(stack, username, password)
    print(
        f"gallery with {IMAGES:,} images of one person; server time = request sent to last "
        f"byte over one keep-alive loopback connection to gunicorn+uvicorn, {REQUESTS} "
        f"requests after {WARMUP} warm-up"
    )
    for timing in timings:
        figures = " / ".join(
            f"{v:.1f}" for v in (min(timing.times), timing.median, max(timing.times))
        )
        target = (
            f"target < {SERVER_TARGET_MS:.0f} ms [{verdict(timing.passed)}]"
            if timing.target
            else "(no target)"
        )
        print(f"  {timing.name:<26} min / median / max {figures} ms; {target}")
    if not gallery.share_path:
        print("  share page: not measured (playground.sharing.services.create_share missing)")
    deep = next(t for t in timings if t.name == f"gallery page {DEEP_PAGE}")
    print(f"  page {DEEP_PAGE} over page 1 (medians): {deep.median / timings[0].median:.2f}x")
    print(
        f"calibration: these pictures weigh {gallery.calibration_kb:.1f} KB each as the old "
        f"{OLD_THUMBNAIL[0]} px q{OLD_THUMBNAIL[1]} thumbnail (real photographs: about 41 KB)"
    )
    for weight in weights:
        parts = ", ".join(f"{k} {v / 1024:.1f} KB" for k, v in sorted(weight.by_kind.items()))
        target = (
            f"target < {WEIGHT_TARGET_BYTES / 1e6:.0f} MB [{verdict(weight.passed)}]"
            if weight.scale == 1
            else "(no target)"
        )
        print(
            f"page weight at device pixel ratio {weight.scale}: {weight.total / 1024:.1f} KB "
            f"({weight.total:,} bytes) for 24 images, {weight.thumbnails} thumbnails; {target}"
        )
        print(f"  {parts}")
    timing_ok = all(t.passed for t in timings if t.target)
    return timing_ok and weights[0].passed


if __name__ == "__main__":
    sys.exit(exit_status(run))
