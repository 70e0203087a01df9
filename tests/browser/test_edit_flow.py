"""Edits in the real page: references, a mask painted on the canvas, the result's lineage."""

import base64
import io
import json
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


# Counts the times the chip list's order changes.
COUNT_REORDERS = """window.reorders = 0;
new MutationObserver(() => window.reorders++).observe(
    document.querySelector("[data-reference-list]"), { childList: true });"""


def wait_for_chips_to_settle(page) -> None:  # type: ignore[no-untyped-def]
    """Waits until no chip is moving (flip) or pulsing."""
    page.wait_for_function(
        "() => document.querySelector('[data-reference-list]')"
        ".getAnimations({ subtree: true }).length === 0"
    )


def references_api(page, call: str):  # type: ignore[no-untyped-def]
    """Calls the page's references module, the instance its <script type=module> loaded."""
    src = page.locator('script[type=module][src*="references/index"]').get_attribute("src")
    return page.evaluate(f"async () => (await import({json.dumps(src)})).{call}")


def drop_or_paste(page, event: str, files: list[dict[str, object]]) -> None:  # type: ignore[no-untyped-def]
    """Pastes `files` on the drop zone, or drops them on the prompt (the whole form takes them)."""
    page.evaluate(
        """([event, files]) => {
            const transfer = new DataTransfer();
            for (const f of files) {
                const bytes = Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0));
                transfer.items.add(new File([bytes], f.name, { type: f.mimeType }));
            }
            if (event === "paste") {
                const target = document.querySelector("#generate-form [data-dropzone]");
                target.dispatchEvent(new ClipboardEvent("paste", {
                    clipboardData: transfer, bubbles: true, cancelable: true,
                }));
            } else {
                const target = document.querySelector("#id_prompt");
                for (const type of ["dragover", "drop"]) {
                    target.dispatchEvent(new DragEvent(type, {
                        dataTransfer: transfer, bubbles: true, cancelable: true,
                    }));
                }
            }
        }""",
        [
            event,
            [
                {"name": f["name"], "mimeType": f["mimeType"], "base64": b64(f["buffer"])}
                for f in files
            ],
        ],
    )


def b64(data: object) -> str:
    assert isinstance(data, bytes)
    return base64.b64encode(data).decode()


def test_it_collects_references_by_picker_paste_and_drop_and_by_keyboard(page, alice):
    log_in(page, "alice", "alice-password-1")
    chips = page.locator("#generate-form [data-reference]")
    page.set_input_files(
        "[data-reference-picker]",
        files=[
            png_file("room.png", (640, 480), "teal"),
            {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not an image"},
        ],
    )
    expect(chips).to_have_count(1)
    expect(page.locator("[data-reference-error]")).to_have_text(
        "notes.txt: only PNG, JPEG or WebP images"
    )
    drop_or_paste(page, "paste", [png_file("image.png", (300, 200), "orange")])
    drop_or_paste(page, "drop", [png_file("sunset.png", (200, 300), "red")])
    expect(chips).to_have_count(3)
    expect(page.locator("[data-reference-error]")).to_be_hidden()
    expect(page.locator("[data-reference-count]")).to_have_text(
        "3 of 16 reference images \u00b7 sent to the edits endpoint"
    )
    expect(chips.nth(2)).to_have_attribute("data-width", "200")
    names = [item["name"] for item in references_api(page, "list()")]
    assert names == ["room.png", "pasted-1.png", "sunset.png"]
    assert page.locator("[data-image-order]").input_value() == "upload,upload,upload"
    assert (
        page.evaluate("[...document.querySelector('[data-upload-input]').files].map((f) => f.name)")
        == names
    )

    # Every remove button is named after its image and reachable with Tab.
    removes = page.get_by_role("button", name=re.compile("^Remove reference"))
    expect(removes).to_have_count(3)
    expect(page.get_by_role("button", name="Remove reference 3: sunset.png")).to_be_visible()
    chips.nth(1).focus()
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.getAttribute('aria-label')")
    assert focused == "Remove reference 2: pasted-1.png"
    page.keyboard.press("Enter")
    expect(chips).to_have_count(2)
    expect(page.get_by_role("button", name="Remove reference 2: sunset.png")).to_be_visible()

    # Alt+Arrow moves a chip; the first one is the one a mask applies to.
    chips.nth(1).focus()
    page.keyboard.press("Alt+ArrowLeft")
    assert references_api(page, "first()")["name"] == "sunset.png"
    expect(chips.first).to_have_class(re.compile("is-first"))
    assert references_api(page, "count()") == 2

    # Dragging a chip past the middle of another puts it after that one. Like a person, the
    # test aims at the chips once they have stopped gliding from the keyboard move.
    page.evaluate("document.querySelector('[data-reference-list]').scrollIntoView()")
    wait_for_chips_to_settle(page)
    start, target = chips.nth(0).bounding_box(), chips.nth(1).bounding_box()
    page.evaluate(COUNT_REORDERS)
    page.mouse.move(start["x"] + 30, start["y"] + 30)
    page.mouse.down()
    page.mouse.move(target["x"] + target["width"] / 2 + 6, target["y"] + 30, steps=10)
    # Coming back to rest between the two chips while the other one glides to its new
    # place moves nothing more.
    gap = (start["x"] + start["width"] + target["x"]) / 2
    for wiggle in range(20):
        page.mouse.move(gap + wiggle % 3 - 1, target["y"] + 30)
    expect(page.locator(".reference-ghost")).to_have_count(1)
    page.mouse.up()
    assert page.evaluate("window.reorders") == 1
    expect(page.locator(".reference-ghost")).to_have_count(0)
    assert [item["name"] for item in references_api(page, "list()")] == ["room.png", "sunset.png"]

    # A gallery image is added once; the API says whether it was.
    image = json.dumps({"id": 7, "src": "/x.png", "thumb": "/x.png", "width": 64, "height": 64})
    assert references_api(page, f"addGalleryImage({image})") is True
    assert references_api(page, f"addGalleryImage({image})") is False
    assert page.locator("[data-image-order]").input_value() == "upload,upload,gallery:7"
    references_api(page, "clear()")
    expect(chips).to_have_count(0)
    expect(page.locator("[data-mask-row]")).to_be_hidden()


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

    # "Use as reference" adds the result without leaving the page, once.
    first.locator("text=Use as reference").first.click()
    first.locator("text=Use as reference").first.click()
    expect(page.locator("[data-reference][data-kind=gallery]")).to_have_count(1)
    assert references_api(page, "first()")["id"] == str(parent.pk)
    assert page.locator("[data-image-order]").input_value() == f"gallery:{parent.pk}"

    first.locator("text=Edit this").first.click()
    # The chip from "Use as reference" is there before and after: wait for the page that
    # "Edit this" opens, so the next click cannot land on the one it leaves.
    page.wait_for_url(f"**/?reference={parent.pk}")
    page.wait_for_load_state("domcontentloaded")
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
