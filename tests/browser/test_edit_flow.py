"""Edits in the real page: references, a mask painted on the canvas, the result's lineage."""

import io
import re

import pytest
from PIL import Image as PILImage
from playwright.sync_api import expect

from playground.gallery.models import Image
from playground.generations.models import Generation
from tests.browser.conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def png_file(name: str, size: tuple[int, int], color: str) -> dict[str, object]:
    out = io.BytesIO()
    PILImage.new("RGB", size, color).save(out, "PNG")
    return {"name": name, "mimeType": "image/png", "buffer": out.getvalue()}


def paint_horizontal_stroke(page, start: float = 0.25, end: float = 0.75) -> None:  # type: ignore[no-untyped-def]
    """Drag across the middle of the mask canvas, from `start` to `end` of its width."""
    canvas = page.locator("dialog.mask-editor canvas.me-mask")
    expect(canvas).to_be_visible()
    box = canvas.bounding_box()
    middle = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * start, middle)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * end, middle, steps=20)
    page.mouse.up()


def test_it_sends_the_painted_mask_at_the_first_images_size(
    page, alice, provider, upstream, worker
):
    log_in(page, "alice", "alice-password-1")
    page.select_option("#id_model", "gpt-image-1.5")
    page.set_input_files(
        "[data-reference-picker]",
        files=[
            png_file("room.png", (640, 480), "teal"),
            png_file("chair.png", (300, 300), "orange"),
        ],
    )
    expect(page.locator("[data-reference]")).to_have_count(2)
    expect(page.locator("[data-field=input_fidelity]")).to_be_visible()

    page.click("[data-open-mask-editor]")
    expect(page.locator("dialog.mask-editor [data-me-meta]")).to_contain_text("640 \u00d7 480")
    paint_horizontal_stroke(page)
    screenshot(page, "edit-mask-painted")
    page.locator("dialog.mask-editor [data-action=apply]").click()
    expect(page.locator("[data-mask-status]")).to_contain_text("Mask painted")

    page.fill("#id_prompt", "a sunlit lounge with a pool containing a flamingo")
    page.click("#generate-form button[type=submit]")
    card = page.locator("#results article.job").first
    expect(card).to_have_attribute("data-state", "succeeded", timeout=20_000)
    expect(card.locator(".job-inputs img")).to_have_count(2)
    screenshot(page, "edit-succeeded")

    job = Generation.objects.get()
    assert job.operation == "edit"
    assert [i.original_name for i in job.inputs.all()] == ["room.png", "chair.png"]
    request = upstream.requests[-1]
    assert request["path"].endswith("/images/edits")
    assert request["image_sizes"] == [[640, 480], [300, 300]]

    mask = PILImage.open(io.BytesIO(upstream.last_mask))
    assert mask.size == (640, 480) and mask.mode == "RGBA"
    alpha = mask.getchannel("A")
    for x in (200, 320, 440):  # under the stroke: transparent, the area to edit
        assert alpha.getpixel((x, 240)) == 0, x
    for point in ((5, 5), (634, 5), (5, 474), (634, 474), (320, 20), (320, 460), (40, 240)):
        assert alpha.getpixel(point) == 255, point  # away from the stroke: kept


def test_it_edits_a_result_and_links_parent_and_child(page, alice, provider, upstream, worker):
    log_in(page, "alice", "alice-password-1")
    page.fill("#id_prompt", "a quiet lounge by a pool")
    page.click("#generate-form button[type=submit]")
    first = page.locator("#results article.job").first
    expect(first).to_have_attribute("data-state", "succeeded", timeout=20_000)
    parent = Image.objects.get()

    first.locator("text=Edit this").first.click()
    chip = page.locator("[data-reference][data-kind=gallery]")
    expect(chip).to_have_count(1)
    page.click("[data-open-mask-editor]")
    expect(page.locator("dialog.mask-editor [data-me-meta]")).to_contain_text("1024 \u00d7 1024")
    paint_horizontal_stroke(page, 0.4, 0.6)
    page.locator("dialog.mask-editor [data-action=apply]").click()
    page.fill("#id_prompt", "add a flamingo in the pool")
    page.click("#generate-form button[type=submit]")
    edited = page.locator("#results article.job").first
    expect(edited).to_contain_text("add a flamingo")
    expect(edited).to_have_attribute("data-state", "succeeded", timeout=20_000)

    child = Image.objects.exclude(pk=parent.pk).get()
    assert upstream.last_mask is not None
    assert PILImage.open(io.BytesIO(upstream.last_mask)).size == (1024, 1024)

    page.goto(f"/gallery/{child.pk}/")
    expect(page.locator("text=Made from")).to_be_visible()
    expect(page.locator(f'a[href="/gallery/{parent.pk}/"]')).to_be_visible()
    expect(page.locator(".mask-view")).to_be_visible()
    screenshot(page, "edit-lineage")
    page.locator(f'a[href="/gallery/{parent.pk}/"]').first.click()
    expect(page.locator("text=Edited into")).to_be_visible()
    expect(page.locator(f'a[href="/gallery/{child.pk}/"]')).to_be_visible()
    assert re.search(r"/gallery/\d+/$", page.url)
