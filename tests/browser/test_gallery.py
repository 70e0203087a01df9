"""The gallery in Chromium: filters and search kept in the URL through pages, favourites,
selecting images to download as a ZIP (hashes checked) or share, and its look on a wide
and a narrow screen in light and dark mode."""

import hashlib
import io
import zipfile
from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from PIL import Image as PILImage
from PIL import ImageDraw
from playwright.sync_api import expect

from playground.gallery.models import Image
from tests.browser.conftest import log_in, screenshot
from tests.gallery.gallery_images import make_image

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ITEMS = "#gallery-results .gallery-item"
COLOURS = ["#e4572e", "#f3a712", "#29335c", "#669bbc", "#a8c686", "#7a306c", "#00a6a6", "#ee6352"]


def picture(number: int) -> bytes:
    """A 512 px picture: a gradient sky, a sun and a hill, different for each number."""
    sky = PILImage.linear_gradient("L").resize((512, 512)).convert("RGB")
    tint = PILImage.new("RGB", (512, 512), COLOURS[number % len(COLOURS)])
    image = PILImage.blend(sky, tint, 0.6)
    draw = ImageDraw.Draw(image)
    x = 60 + (number * 47) % 380
    draw.ellipse((x, 70, x + 90, 160), fill="#fff3b0")
    draw.ellipse((-120, 330 + number % 5 * 12, 640, 760), fill=COLOURS[(number + 3) % 8])
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def fill_gallery(owner) -> list[Image]:
    """30 kites (two models) and 6 lighthouses, one minute apart, newest first."""
    now = timezone.now()
    images = []
    for number in range(36):
        kite = number < 30
        images.append(
            make_image(
                owner,
                f"a red kite number {number} over the dunes" if kite else f"a lighthouse {number}",
                model="gpt-image-2" if number % 3 else "gpt-image-1-mini",
                quality="high" if number % 2 else "low",
                created_at=now - timedelta(minutes=number),
                data=picture(number),
            )
        )
    return images


def ids_shown(page) -> list[int]:  # type: ignore[no-untyped-def]
    return [
        int(v)
        for v in page.locator(f"{ITEMS} [data-selection-box]").evaluate_all(
            "boxes => boxes.map(box => box.value)"
        )
    ]


def pixel_width(img) -> int:  # type: ignore[no-untyped-def]
    """The pixel width of the file an <img> chose (naturalWidth is divided by its density)."""
    return img.evaluate(
        """img => new Promise(resolve => {
          const probe = new Image();
          probe.onload = () => resolve(probe.naturalWidth);
          probe.src = img.currentSrc;
        })"""
    )


def test_it_filters_searches_and_pages_keeping_the_filters(page, alice, catalog):
    images = fill_gallery(alice)
    log_in(page, "alice", "alice-password-1")
    page.goto("/gallery/")
    expect(page.locator(ITEMS)).to_have_count(24)
    expect(page.locator("[data-gallery-count]")).to_have_text("36 images")

    page.fill("#id_q", "KITE")  # searched as typed, ignoring case, with htmx
    expect(page.locator("[data-gallery-count]")).to_have_text("30 images match the filters")
    page.wait_for_url("**/gallery/?q=KITE*")
    page.select_option("#id_model", "gpt-image-2")
    expect(page.locator("[data-gallery-count]")).to_have_text("20 images match the filters")
    expected = [i.pk for i in images[:30] if i.generation.model == "gpt-image-2"]
    assert ids_shown(page) == expected[:20]

    page.select_option("#id_model", "")
    page.select_option("#id_quality", "high")
    expect(page.locator("[data-gallery-count]")).to_have_text("15 images match the filters")
    page.select_option("#id_quality", "")
    expect(page.locator(ITEMS)).to_have_count(24)
    page.get_by_role("link", name="Older →").click()
    expect(page.locator(ITEMS)).to_have_count(6)
    assert "q=KITE" in page.url and "after=" in page.url
    assert ids_shown(page) == [i.pk for i in images[24:30]]
    page.get_by_role("link", name="← Newer").click()
    expect(page.locator(ITEMS)).to_have_count(24)
    assert ids_shown(page) == [i.pk for i in images[:24]]

    # The same pages without JavaScript, from the URL alone.
    page.goto(page.url)
    expect(page.locator("#id_q")).to_have_value("KITE")
    expect(page.locator(ITEMS)).to_have_count(24)

    page.fill("#id_from", "1999-01-02")
    page.fill("#id_to", "1999-01-01")
    page.click("#gallery-filters button[type=submit]")
    expect(page.locator("[data-gallery-problems]")).to_contain_text(
        "To: The end date is before the start date."
    )


def test_it_downloads_the_selected_originals_as_a_zip(page, alice, catalog):
    images = fill_gallery(alice)
    log_in(page, "alice", "alice-password-1")
    page.goto("/gallery/")
    bar = page.locator("[data-selection-bar]")
    expect(bar).to_be_hidden()
    boxes = page.locator(f"{ITEMS} [data-selection-box]")
    boxes.nth(0).check()
    boxes.nth(2).focus()  # keyboard: Space ticks a focused box
    page.keyboard.press("Space")
    page.get_by_label(f"Select image 1 of job {images[5].generation_id}", exact=False).check()
    expect(bar).to_be_visible()
    expect(page.locator("[data-selection-count]")).to_have_text("3 images selected")
    with page.expect_download() as waiting:
        bar.get_by_role("button", name="Download ZIP").click()
    download = waiting.value
    assert download.suggested_filename.startswith("images-")
    archive = zipfile.ZipFile(download.path())
    chosen = [images[0], images[2], images[5]]
    assert sorted(archive.namelist()) == sorted(f"image-{i.generation_id}-1.png" for i in chosen)
    for image in chosen:
        data = archive.read(f"image-{image.generation_id}-1.png")
        assert hashlib.sha256(data).hexdigest() == image.sha256

    # Share the same selection: the dialog counts the ticked images and makes one link.
    bar.get_by_role("button", name="Share…").click()
    dialog = page.locator("#gallery-share-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("[data-share-count]")).to_have_text("Sharing 3 images.")
    dialog.get_by_role("button", name="Create link").click()
    expect(dialog.locator(".share-created")).to_contain_text("3 images")


def test_it_marks_a_favourite_and_filters_by_it(page, alice, catalog):
    images = fill_gallery(alice)
    log_in(page, "alice", "alice-password-1")
    page.goto("/gallery/")
    third = page.locator(ITEMS).nth(2)
    third.hover()
    star = third.locator(".favourite-button")
    expect(star).to_have_attribute("aria-pressed", "false")
    star.click()
    expect(third.locator(".favourite-button")).to_have_attribute("aria-pressed", "true")
    assert Image.objects.get(pk=images[2].pk).favourite
    page.check("#id_favourites")
    expect(page.locator(ITEMS)).to_have_count(1)
    assert ids_shown(page) == [images[2].pk]
    assert "favourites=on" in page.url


def test_it_loads_small_thumbnails_lazily_without_shifting(page, alice, catalog):
    fill_gallery(alice)
    log_in(page, "alice", "alice-password-1")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto("/gallery/")
    thumbs = page.locator(f"{ITEMS} img")
    loading = thumbs.evaluate_all("imgs => imgs.map(img => img.loading)")
    assert loading[:6] == ["auto"] * 6 and set(loading[6:]) == {"lazy"}
    assert set(thumbs.evaluate_all("imgs => imgs.map(img => img.decoding)")) == {"async"}
    first = thumbs.first
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=first.element_handle()
    )
    # One device pixel per CSS pixel: the 320 px thumbnail, not the larger one.
    assert first.evaluate("img => img.currentSrc").endswith("/thumbnail/")
    assert pixel_width(first) == 320
    shift = page.evaluate(
        """() => new Promise(resolve => {
          let total = 0;
          new PerformanceObserver(list => {
            for (const entry of list.getEntries()) total += entry.value;
          }).observe({type: "layout-shift", buffered: true});
          window.scrollTo(0, document.body.scrollHeight);
          setTimeout(() => resolve(total), 800);
        })"""
    )
    assert shift < 0.01


def test_it_shows_the_larger_thumbnail_on_dense_screens(browser, live_server, alice, catalog):
    fill_gallery(alice)
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1440, "height": 900}, device_scale_factor=2
    )
    page = context.new_page()
    try:
        log_in(page, "alice", "alice-password-1")
        page.goto("/gallery/")
        first = page.locator(f"{ITEMS} img").first
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=first.element_handle()
        )
        assert first.evaluate("img => img.currentSrc").endswith("/thumbnail/2x/")
        assert pixel_width(first) == 512
    finally:
        context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_it_looks_right_wide_and_narrow(page, alice, catalog, scheme):
    images = fill_gallery(alice)
    Image.objects.filter(pk__in=[images[1].pk, images[4].pk]).update(favourite=True)
    log_in(page, "alice", "alice-password-1")
    page.emulate_media(color_scheme=scheme)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto("/gallery/?q=kite")
    boxes = page.locator(f"{ITEMS} [data-selection-box]")
    boxes.nth(0).check()
    boxes.nth(3).check()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.gallery-item img')].slice(0, 6)"
        ".every(img => img.complete && img.naturalWidth > 0)"
    )
    overflow = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    assert page.evaluate(overflow)
    violations = [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in Axe().run(page).response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not violations, violations
    screenshot(page, f"gallery-wide-{scheme}")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/gallery/")
    page.locator(f"{ITEMS} [data-selection-box]").nth(1).check()
    assert page.evaluate(overflow)
    columns = page.locator(".gallery-grid").evaluate(
        "grid => getComputedStyle(grid).gridTemplateColumns.split(' ').length"
    )
    assert columns == 2
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, f"gallery-narrow-{scheme}")


def test_it_works_without_javascript(browser, live_server, alice, catalog):
    images = fill_gallery(alice)
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, "alice", "alice-password-1")
        page.goto("/gallery/")
        page.fill("#id_q", "kite")
        page.click("#gallery-filters button[type=submit]")
        expect(page.locator("[data-gallery-count]")).to_have_text("30 images match the filters")
        page.get_by_role("link", name="Older →").click()
        expect(page.locator(ITEMS)).to_have_count(6)
        assert "q=kite" in page.url

        page.locator(ITEMS).first.locator(".favourite-button").click()  # posts, comes back
        assert "q=kite" in page.url and "after=" in page.url
        assert Image.objects.get(pk=images[24].pk).favourite

        boxes = page.locator(f"{ITEMS} [data-selection-box]")
        boxes.nth(0).check()
        boxes.nth(1).check()
        with page.expect_download() as waiting:
            page.get_by_role("button", name="Download ZIP").click()
        names = zipfile.ZipFile(waiting.value.path()).namelist()
        assert len(names) == 2

        page.get_by_role("button", name="Delete…").click()
        expect(page.get_by_role("heading")).to_have_text("Delete 2 images?")
        page.get_by_role("button", name="Delete 2 images").click()
        expect(page.locator(".message")).to_have_text("2 images deleted.")
        assert "q=kite" in page.url
        assert not Image.objects.filter(pk__in=[images[24].pk, images[25].pk]).exists()
    finally:
        context.close()
