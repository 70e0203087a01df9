"""The mask editor's modules load on the first "Paint a mask", not with the page; the mask row
works before that, by mouse and by keyboard."""

import io

import pytest
from django.templatetags.static import static
from PIL import Image as PILImage
from playwright.sync_api import expect

from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EDITOR_FILES = ("js/mask/editor.js", "js/mask/pointer.js", "css/mask-editor.css")
MASK_API = "js/mask/index.js"


def mask_api(page, expression: str):  # type: ignore[no-untyped-def]
    """Evaluates `expression` on the mask row's module, the instance the page loaded."""
    src = static(MASK_API)
    return page.evaluate(
        f"async () => {{ const api = await import(new URL({src!r}, location.href).href);"
        f" return {expression}; }}"
    )


def png_file(name: str, size: tuple[int, int], color: str) -> dict[str, object]:
    out = io.BytesIO()
    PILImage.new("RGB", size, color).save(out, "PNG")
    return {"name": name, "mimeType": "image/png", "buffer": out.getvalue()}


def test_the_editor_loads_on_the_first_click_and_only_once(page, alice, provider):
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    def editor_requests() -> list[str]:
        return [url for url in requested if any(url.endswith(static(s)) for s in EDITOR_FILES)]

    log_in(page, "alice", "alice-password-1")
    page.wait_for_load_state("networkidle")
    # Neither the row's script nor the editor loads before there is a reference to mask.
    assert not any(url.endswith(static(MASK_API)) for url in requested)
    assert editor_requests() == []

    # The mask row works before the editor exists: it shows with a reference, takes an upload
    # and says what it is, removes it, and answers hasMask().
    page.set_input_files(
        "[data-reference-picker]", files=[png_file("room.png", (320, 240), "teal")]
    )
    expect(page.locator("[data-mask-row]")).to_be_visible()
    page.wait_for_function(
        "src => performance.getEntriesByType('resource').some(e => e.name.endsWith(src))",
        arg=static(MASK_API),
    )
    assert mask_api(page, "api.isLoaded()") is False
    page.set_input_files("[data-mask-input]", files=[png_file("small.png", (64, 64), "white")])
    status = page.locator("[data-mask-status]")
    expect(status).to_contain_text("Mask uploaded: small.png")
    expect(status).to_contain_text("differs from the first image's 320\u00d7240")
    assert mask_api(page, "api.hasMask()") is True
    assert mask_api(page, "api.paintedFraction()") == 0
    page.click("[data-clear-mask]")
    expect(status).to_have_text("No mask: the whole image may change.")
    assert mask_api(page, "api.hasMask()") is False
    page.wait_for_load_state("networkidle")
    assert editor_requests() == []

    # The first click loads the editor's modules and stylesheet and opens it over the first image.
    page.click("[data-open-mask-editor]")
    dialog = page.locator("dialog.mask-editor")
    expect(dialog).to_be_visible()
    expect(dialog.locator("[data-me-meta]")).to_contain_text("320 \u00d7 240 px")
    expect(dialog.locator("canvas.me-mask")).to_be_visible()
    assert mask_api(page, "api.isLoaded() && api.isOpen()")
    assert len(editor_requests()) == len(EDITOR_FILES)
    assert page.evaluate(
        """() => {
            const row = document.querySelector("[data-mask-row]");
            const loaded = performance.getEntriesByType("resource").map(entry => entry.name);
            return [row.dataset.maskEditorSrc, row.dataset.maskEditorCss]
                .every(src => loaded.includes(new URL(src, location.href).href));
        }"""
    )
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert mask_api(page, "api.isOpen()") is False

    # A second open uses the editor already there: no new request, one dialog.
    page.click("[data-open-mask-editor]")
    expect(dialog).to_be_visible()
    expect(dialog.locator("canvas.me-mask")).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert len(editor_requests()) == len(EDITOR_FILES)
    assert page.locator("dialog.mask-editor").count() == 1
    assert page.locator("link[data-mask-editor-css]").count() == 1


def test_a_failed_load_says_so_and_the_next_click_tries_again(page, alice, provider):
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, "alice", "alice-password-1")
    page.set_input_files(
        "[data-reference-picker]", files=[png_file("room.png", (320, 240), "teal")]
    )
    page.route("**/js/mask/editor*.js", lambda route: route.abort())
    page.click("[data-open-mask-editor]")
    status = page.locator("[data-mask-status]")
    expect(status).to_have_text(
        "The mask editor could not be loaded. Check the connection and try again."
    )
    expect(page.locator("[data-open-mask-editor]")).not_to_have_attribute("aria-busy", "true")
    assert mask_api(page, "api.isLoaded()") is False

    page.unroute("**/js/mask/editor*.js")
    page.click("[data-open-mask-editor]")
    dialog = page.locator("dialog.mask-editor")
    expect(dialog).to_be_visible()
    expect(status).to_have_text("No mask: the whole image may change.")  # as before the failure
    expect(dialog.locator("canvas.me-mask")).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert errors == []


def test_upload_a_mask_is_reachable_and_opens_the_file_chooser_by_keyboard(page, alice, provider):
    # A standing listener keeps file choosers intercepted from the start: switching it on
    # per wait races a key pressed at once.
    page.on("filechooser", lambda _chooser: None)
    log_in(page, "alice", "alice-password-1")
    page.set_input_files(
        "[data-reference-picker]", files=[png_file("room.png", (320, 240), "teal")]
    )
    paint = page.get_by_role("button", name="Paint a mask")
    expect(paint).to_be_visible()
    upload = page.get_by_role("button", name="Upload a mask")
    expect(upload).to_have_count(1)
    label = page.locator("[data-mask-row] label.mask-upload")
    resting = label.evaluate("el => getComputedStyle(el).outlineStyle")

    for key in ("Enter", " "):
        paint.focus()
        page.keyboard.press("Tab")
        expect(upload).to_be_focused()
        assert label.evaluate("el => getComputedStyle(el).outlineStyle") == "solid" != resting
        with page.expect_file_chooser() as chooser_info:
            page.keyboard.press(key)
        chooser = chooser_info.value
        assert not chooser.is_multiple()
        chooser.set_files(png_file("keyboard.png", (320, 240), "white"))  # type: ignore[arg-type]
        expect(page.locator("[data-mask-status]")).to_contain_text("Mask uploaded: keyboard.png")
        page.click("[data-clear-mask]")
        expect(page.locator("[data-mask-status]")).to_have_text(
            "No mask: the whole image may change."
        )
    assert mask_api(page, "api.isLoaded()") is False
