"""The mask editor's scripts load on the first "Paint a mask", not with the page."""

import io

import pytest
from django.templatetags.static import static
from PIL import Image as PILImage
from playwright.sync_api import expect

from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EDITOR_SCRIPTS = ("js/mask-canvas.js", "js/mask-editor.js")


def png_file(name: str, size: tuple[int, int], color: str) -> dict[str, object]:
    out = io.BytesIO()
    PILImage.new("RGB", size, color).save(out, "PNG")
    return {"name": name, "mimeType": "image/png", "buffer": out.getvalue()}


def test_the_editor_loads_on_the_first_click_and_only_once(page, alice, provider):
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    def editor_requests() -> list[str]:
        return [url for url in requested if any(url.endswith(static(s)) for s in EDITOR_SCRIPTS)]

    log_in(page, "alice", "alice-password-1")
    page.wait_for_load_state("networkidle")
    assert any(url.endswith(static("js/mask-loader.js")) for url in requested)
    assert editor_requests() == []
    assert page.evaluate("PlaygroundMaskEditor.isLoaded()") is False

    # The mask row works before the editor exists: it shows with a reference, takes an upload
    # and says what it is, removes it, and answers hasMask().
    page.set_input_files(
        "[data-reference-picker]", files=[png_file("room.png", (320, 240), "teal")]
    )
    expect(page.locator("[data-mask-row]")).to_be_visible()
    page.set_input_files("[data-mask-input]", files=[png_file("small.png", (64, 64), "white")])
    status = page.locator("[data-mask-status]")
    expect(status).to_contain_text("Mask uploaded: small.png")
    expect(status).to_contain_text("differs from the first image's 320\u00d7240")
    assert page.evaluate("PlaygroundMaskEditor.hasMask()") is True
    assert page.evaluate("PlaygroundMaskEditor.paintedFraction()") == 0
    page.click("[data-clear-mask]")
    expect(status).to_have_text("No mask: the whole image may change.")
    assert page.evaluate("PlaygroundMaskEditor.hasMask()") is False
    page.wait_for_load_state("networkidle")
    assert editor_requests() == []

    # The first click loads both scripts and opens the editor over the first image.
    page.click("[data-open-mask-editor]")
    dialog = page.locator("dialog.mask-editor")
    expect(dialog).to_be_visible()
    expect(dialog.locator("[data-me-meta]")).to_contain_text("320 \u00d7 240 px")
    expect(dialog.locator("canvas.me-mask")).to_be_visible()
    assert page.evaluate("PlaygroundMaskEditor.isLoaded() && PlaygroundMaskEditor.isOpen()")
    assert sorted(editor_requests()) == sorted(
        page.evaluate(
            """() => {
                const row = document.querySelector("[data-mask-row]");
                return [row.dataset.maskCanvasSrc, row.dataset.maskEditorSrc]
                    .map(src => new URL(src, location.href).href);
            }"""
        )
    )
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert page.evaluate("PlaygroundMaskEditor.isOpen()") is False

    # A second open uses the editor already there: no new request, one dialog.
    page.click("[data-open-mask-editor]")
    expect(dialog).to_be_visible()
    expect(dialog.locator("canvas.me-mask")).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert len(editor_requests()) == 2
    assert page.locator("dialog.mask-editor").count() == 1
    assert page.locator("script[src*='mask-editor']").count() == 1


def test_a_failed_load_says_so_and_the_next_click_tries_again(page, alice, provider):
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, "alice", "alice-password-1")
    page.set_input_files(
        "[data-reference-picker]", files=[png_file("room.png", (320, 240), "teal")]
    )
    page.route("**/mask-editor*.js", lambda route: route.abort())
    page.click("[data-open-mask-editor]")
    status = page.locator("[data-mask-status]")
    expect(status).to_have_text(
        "The mask editor could not be loaded. Check the connection and try again."
    )
    expect(page.locator("[data-open-mask-editor]")).not_to_have_attribute("aria-busy", "true")
    assert page.evaluate("PlaygroundMaskEditor.isLoaded()") is False

    page.unroute("**/mask-editor*.js")
    page.click("[data-open-mask-editor]")
    dialog = page.locator("dialog.mask-editor")
    expect(dialog).to_be_visible()
    expect(status).to_have_text("No mask: the whole image may change.")  # as before the failure
    expect(dialog.locator("canvas.me-mask")).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert errors == []
