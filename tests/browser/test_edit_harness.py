"""Reference images tray and mask editor, on a static harness page (no Django view involved).

The page is tests/browser/harness/edit_harness.html with the server's DOM contract; a plain
http.server serves the repository so /static/... resolves as it does in the app, and puts the
templates the playground page includes (the reference chip, the mask editor) into it.
"""

import base64
import io
import re
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
HARNESS = "/tests/browser/harness/edit_harness.html"


TEMPLATES = ROOT / "templates"
INCLUDE = re.compile(r"<!-- include (?P<name>[\w/]+\.html) -->")
MASK_API = "/static/js/mask/index.js"
REFERENCES_API = "/static/js/references/index.js"


def included(match: re.Match[str]) -> str:
    """A template the playground page includes (plain HTML but for its Django comment)."""
    text = (TEMPLATES / match["name"]).read_text(encoding="utf-8")
    return re.sub(r"{% comment %}.*?{% endcomment %}", "", text, flags=re.S)


def harness_page() -> bytes:
    """The harness with each `<!-- include name -->` replaced by that template."""
    page = (ROOT / HARNESS.lstrip("/")).read_text(encoding="utf-8")
    return INCLUDE.sub(included, page).encode()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.split("?")[0] != HARNESS:
            super().do_GET()
            return
        body = harness_page()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def call(page, module: str, expression: str):  # type: ignore[no-untyped-def]
    """Evaluates `expression` on the module the page loaded from `module` (one instance a URL)."""
    return page.evaluate(
        f"async () => {{ const api = await import(new URL({module!r}, location.href).href);"
        f" return {expression}; }}"
    )


def mask_api(page, expression: str):  # type: ignore[no-untyped-def]
    return call(page, MASK_API, expression)


def references_api(page, expression: str):  # type: ignore[no-untyped-def]
    return call(page, REFERENCES_API, expression)


@pytest.fixture(scope="module")
def static_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(ROOT)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def harness(browser, static_server):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.set_default_timeout(5_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(static_server + HARNESS)
    page.wait_for_load_state("load")
    mask_api(page, "true")
    references_api(page, "true")
    yield page
    context.close()
    assert not errors, errors


def png(width: int, height: int, color: tuple[int, int, int], name: str) -> dict[str, object]:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "PNG")
    return {"name": name, "mimeType": "image/png", "buffer": buffer.getvalue()}


def form_state(page) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return page.evaluate(
        """() => {
            const form = document.getElementById("generate-form");
            const data = new FormData(form);  // what a submit (plain or htmx) sends
            return {
                files: Array.from(form.querySelector("[name='image[]']").files).map(f => f.name),
                sent: data.getAll("image[]").map(f => f.name),
                order: form.querySelector("[name=image_order]").value,
                chips: [...form.querySelectorAll("[data-reference]")].map(c => c.dataset.kind),
                first: form.querySelector("[data-reference].is-first")?.title || "",
            };
        }"""
    )


def painted(page) -> float:  # type: ignore[no-untyped-def]
    return mask_api(page, "api.paintedFraction()")


def read_mask(page) -> tuple[Image.Image, dict[str, str]]:  # type: ignore[no-untyped-def]
    result = page.evaluate(
        """async () => {
            const file = document.querySelector("input[name=mask]").files[0];
            const bytes = new Uint8Array(await file.arrayBuffer());
            let text = "";
            for (let i = 0; i < bytes.length; i += 0x8000) {
                text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
            }
            return {name: file.name, type: file.type, data: btoa(text)};
        }"""
    )
    image = Image.open(io.BytesIO(base64.b64decode(result["data"])))
    image.load()
    return image, {"name": result["name"], "type": result["type"]}


def test_it_orders_references_and_paints_a_mask_on_the_first(harness) -> None:  # type: ignore[no-untyped-def]
    page = harness
    original_form = page.evaluate("document.getElementById('generate-form').outerHTML")
    count = page.locator("[data-reference-count]")
    expect(count).to_have_text("1 of 16 reference images · sent to the edits endpoint")
    expect(page.locator("[data-mask-row]")).to_be_visible()

    # Two uploads through the picker, plus a file of another kind that is refused by name.
    page.set_input_files(
        "[data-reference-picker]",
        files=[
            png(640, 480, (220, 38, 38), "red.png"),
            png(300, 300, (37, 99, 235), "blue.png"),
            {"name": "notes.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4"},
        ],
    )
    expect(page.locator("[data-reference-error]")).to_have_text(
        "notes.pdf: only PNG, JPEG or WebP images"
    )
    expect(count).to_have_text("3 of 16 reference images · sent to the edits endpoint")
    state = form_state(page)
    assert state["chips"] == ["gallery", "upload", "upload"]
    assert state["files"] == state["sent"] == ["red.png", "blue.png"]
    assert state["order"] == "gallery:12,upload,upload"
    page.wait_for_function(
        "document.querySelectorAll('[data-kind=upload][data-width]').length == 2"
    )
    screenshot(page, "edit-tray")

    # Keyboard reordering: red first, then blue to the front and back to the end.
    red = page.locator("[data-reference][data-kind=upload]").nth(0)
    red.focus()
    page.keyboard.press("Alt+ArrowLeft")
    state = form_state(page)
    assert state["order"] == "upload,gallery:12,upload"
    assert state["files"] == state["sent"] == ["red.png", "blue.png"]
    assert state["first"].startswith("red.png")
    blue = page.locator("[data-reference][title^='blue.png']")
    blue.focus()
    page.keyboard.press("Alt+Home")
    assert form_state(page)["files"] == ["blue.png", "red.png"]
    page.keyboard.press("Alt+End")
    state = form_state(page)
    assert (state["order"], state["files"]) == ("upload,gallery:12,upload", ["red.png", "blue.png"])

    # The editor opens over the first image at its natural size; one stroke across the middle.
    # Its modules load on this first click, as in the app (js/mask/index.js).
    assert not mask_api(page, "api.isLoaded()")
    page.click("[data-open-mask-editor]")
    dialog = page.locator("dialog.mask-editor")
    expect(dialog).to_be_visible()
    expect(dialog.locator("[data-me-meta]")).to_contain_text("640 \u00d7 480 px")
    canvas = dialog.locator("canvas.me-mask")
    expect(canvas).to_be_visible()
    assert canvas.evaluate("c => [c.width, c.height]") == [640, 480]
    box = canvas.bounding_box()
    assert box is not None
    middle_y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.25, middle_y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.75, middle_y, steps=16)
    screenshot(page, "edit-mask-editor-mid-stroke")
    page.mouse.up()
    stroke = painted(page)
    assert 0.01 < stroke < 0.2
    dialog.locator("[data-action=apply]").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("[data-mask-input]")).to_have_js_property("files.length", 1)
    expect(page.locator("[data-mask-status]")).to_contain_text("Mask painted:")
    expect(page.locator("[data-clear-mask]")).to_be_visible()

    mask, meta = read_mask(page)
    assert meta == {"name": "mask.png", "type": "image/png"}
    assert mask.format == "PNG" and mask.mode == "RGBA" and mask.size == (640, 480)
    alpha = mask.getchannel("A")
    for x in (200, 320, 440):  # along the stroke's centre line
        assert alpha.getpixel((x, 240)) == 0
    for corner in ((2, 2), (637, 2), (2, 477), (637, 477), (320, 60)):
        assert alpha.getpixel(corner) == 255
    assert mask.getpixel((2, 2))[:3] == (0, 0, 0)
    assert (
        page.evaluate("new FormData(document.getElementById('generate-form')).get('mask').name")
        == "mask.png"
    )

    # Re-opening keeps the history: undo empties, redo restores, invert flips.
    page.click("[data-open-mask-editor]")
    expect(canvas).to_be_visible()
    assert painted(page) == pytest.approx(stroke)
    dialog.locator("[data-action=undo]").click()
    assert painted(page) == 0
    page.keyboard.press("Control+Shift+Z")
    assert painted(page) == pytest.approx(stroke)
    page.keyboard.press("i")
    assert painted(page) == pytest.approx(1 - stroke, abs=1e-3)
    dialog.locator("[data-action=invert]").click()
    assert painted(page) == pytest.approx(stroke, abs=1e-3)
    page.keyboard.press("Control+z")
    page.keyboard.press("Escape")  # cancel: the applied mask stays as it was
    expect(dialog).to_be_hidden()
    assert read_mask(page)[0].tobytes() == mask.tobytes()

    # Removing the first image removes the mask painted on it.
    page.locator("[data-reference].is-first [data-remove]").click()
    expect(page.locator("[data-mask-status]")).to_have_text(
        "The first image changed, so the mask was removed."
    )
    assert not mask_api(page, "api.hasMask()")
    assert painted(page) == 0
    expect(page.locator("[data-clear-mask]")).to_be_hidden()
    state = form_state(page)
    assert (state["order"], state["files"]) == ("gallery:12,upload", ["blue.png"])

    # At most 16 in all: the extra ones are refused with a count.
    page.set_input_files(
        "[data-reference-picker]", files=[png(8, 8, (i, i, i), f"n{i}.png") for i in range(16)]
    )
    expect(page.locator("[data-reference-error]")).to_have_text(
        "At most 16 reference images: 2 images were ignored."
    )
    expect(count).to_have_text("16 of 16 reference images · sent to the edits endpoint")
    references_api(page, "api.clear()")
    expect(count).to_have_text("")
    expect(page.locator("[data-mask-row]")).to_be_hidden()
    expect(page.locator("[data-field=input_fidelity]")).to_be_hidden()
    expect(page.locator("#generate-form")).not_to_have_class("has-references")

    # A gallery image added by script, then an htmx-style re-render of the whole form.
    references_api(
        page,
        "api.addGalleryImage("
        '{"id": 40, "src": "/x/40/", "thumb": "/x/40/t/", "width": 1024, "height": 768})',
    )
    assert form_state(page)["order"] == "gallery:40"
    assert references_api(page, "api.first()")["width"] == 1024
    page.evaluate(
        """html => {
            document.getElementById("generate-form").outerHTML = html;
            document.body.dispatchEvent(new CustomEvent("htmx:afterSettle", {bubbles: true}));
        }""",
        original_form,
    )
    expect(count).to_have_text("1 of 16 reference images · sent to the edits endpoint")
    assert form_state(page)["order"] == "gallery:12"
    expect(page.locator("[data-field=input_fidelity]")).to_be_visible()


def test_it_refines_an_uploaded_mask_in_the_editor(harness) -> None:  # type: ignore[no-untyped-def]
    page = harness
    wide = png(200, 100, (250, 250, 250), "wide.png")
    page.set_input_files("[data-reference-picker]", files=[wide])
    page.locator("[data-reference][data-kind=upload]").focus()
    page.keyboard.press("Alt+Home")
    assert form_state(page)["order"] == "upload,gallery:12"

    # Black and white, no transparency: white (the left quarter) marks the area to change.
    upload = Image.new("L", (200, 100), 0)
    upload.paste(255, (0, 0, 50, 100))
    buffer = io.BytesIO()
    upload.save(buffer, "PNG")
    page.set_input_files(
        "[data-mask-input]",
        files=[{"name": "bw.png", "mimeType": "image/png", "buffer": buffer.getvalue()}],
    )
    status = page.locator("[data-mask-status]")
    expect(status).to_have_text(
        "Mask uploaded: bw.png (used as is if it has transparency; otherwise white marks the area"
        " to change)"
    )
    expect(page.locator("[data-clear-mask]")).to_be_visible()
    assert not mask_api(page, "api.isLoaded()")  # the row did it on its own

    page.click("[data-open-mask-editor]")
    dialog = page.locator("dialog.mask-editor")
    coverage = dialog.locator("[data-me-coverage]")
    expect(coverage).to_contain_text("Started from the uploaded mask bw.png")
    assert painted(page) == pytest.approx(0.25, abs=0.01)
    dialog.locator("[data-action=apply]").click()  # unchanged: the uploaded file stays
    expect(dialog).to_be_hidden()
    assert page.evaluate("document.querySelector('[data-mask-input]').files[0].name") == "bw.png"

    # Brush a little more on the right edge, apply: now a painted mask with both areas.
    page.click("[data-open-mask-editor]")
    canvas = dialog.locator("canvas.me-mask")
    expect(canvas).to_be_visible()
    box = canvas.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.9, box["y"] + box["height"] * 0.2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.9, box["y"] + box["height"] * 0.8, steps=6)
    page.mouse.up()
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(status).to_contain_text("Mask painted:")
    mask, meta = read_mask(page)
    assert meta["name"] == "mask.png" and mask.size == (200, 100)
    alpha = mask.getchannel("A")
    assert alpha.getpixel((10, 50)) == 0  # from the upload
    assert alpha.getpixel((180, 50)) == 0  # brushed
    assert alpha.getpixel((110, 50)) == 255

    page.click("[data-clear-mask]")
    expect(status).to_have_text("No mask: the whole image may change.")
    assert not mask_api(page, "api.hasMask()")
    assert painted(page) == 0


def focused(page) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            return {
                tag: el.tagName,
                in_dialog: !!el.closest("dialog.mask-editor"),
                action: el.dataset.action || (el.matches("[data-me-stage]") ? "stage" : null),
            };
        }"""
    )


def brush_size(page) -> int:  # type: ignore[no-untyped-def]
    return int(page.locator("[data-me-size-out]").inner_text().split()[0])


def stroke_across(page, box: dict[str, float], y: float) -> None:  # type: ignore[no-untyped-def]
    page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.8, box["y"] + box["height"] * y, steps=8)
    page.mouse.up()


def test_mask_editor_keeps_focus_and_keys_when_buttons_disable(harness) -> None:  # type: ignore[no-untyped-def]
    page = harness
    dialog = page.locator("dialog.mask-editor")
    undo = dialog.locator("[data-action=undo]")
    redo = dialog.locator("[data-action=redo]")
    clear = dialog.locator("[data-action=clear]")
    page.click("[data-open-mask-editor]")  # over the harness's gallery image, 512 x 384
    canvas = dialog.locator("canvas.me-mask")
    expect(canvas).to_be_visible()
    box = canvas.bounding_box()
    assert box is not None
    stroke_across(page, box, 0.3)
    first = painted(page)
    stroke_across(page, box, 0.7)
    both = painted(page)
    assert 0 < first < both < 0.5

    # Undo until it disables itself: focus moves to Redo, not to <body>.
    undo.click()
    expect(undo).to_be_enabled()
    undo.click()
    expect(undo).to_be_disabled()
    assert painted(page) == 0
    assert focused(page) == {"tag": "BUTTON", "in_dialog": True, "action": "redo"}
    size = brush_size(page)
    page.keyboard.press("]")
    assert brush_size(page) > size
    page.keyboard.press("[")
    assert brush_size(page) == size

    # Redo by keyboard until Redo disables itself: focus moves back to Undo.
    page.keyboard.press("Control+Shift+Z")
    assert painted(page) == pytest.approx(first)
    page.keyboard.press("Control+Shift+Z")
    assert painted(page) == pytest.approx(both)
    expect(redo).to_be_disabled()
    assert focused(page) == {"tag": "BUTTON", "in_dialog": True, "action": "undo"}

    # Clear disables itself (on the next frame): focus moves to Undo, which brings it back.
    clear.click()
    expect(clear).to_be_disabled()
    assert painted(page) == 0
    assert focused(page)["action"] == "undo"
    page.keyboard.press("Enter")  # presses the focused Undo
    assert painted(page) == pytest.approx(both)
    expect(clear).to_be_enabled()

    # Focus on <body> (a click on nothing, a removed control): every key still works.
    page.evaluate("document.activeElement.blur()")
    assert focused(page) == {"tag": "BODY", "in_dialog": False, "action": None}
    size = brush_size(page)
    page.keyboard.press("]")
    bigger = brush_size(page)
    assert bigger > size
    page.keyboard.press("[")
    page.keyboard.press("[")
    assert brush_size(page) < bigger
    page.keyboard.press("Control+z")
    assert painted(page) == pytest.approx(first)
    page.keyboard.press("Control+Shift+Z")
    assert painted(page) == pytest.approx(both)
    page.keyboard.press("Escape")  # cancel: nothing was applied
    expect(dialog).to_be_hidden()
    assert not mask_api(page, "api.isOpen()")
    assert focused(page)["tag"] == "BUTTON"  # back on "Paint a mask"
    assert painted(page) == 0

    # Closed, the editor ignores its keys.
    page.keyboard.press("i")
    page.keyboard.press("Control+Shift+Z")
    assert painted(page) == 0

    # The banner that brings back unapplied strokes hides itself: focus goes to the image.
    page.click("[data-open-mask-editor]")
    restore = dialog.locator("[data-action=restore]")
    expect(restore).to_be_visible()
    restore.focus()
    page.keyboard.press("Enter")
    expect(restore).to_be_hidden()
    assert painted(page) == pytest.approx(both)
    assert focused(page) == {"tag": "DIV", "in_dialog": True, "action": "stage"}
    page.keyboard.press("Control+z")
    assert painted(page) == pytest.approx(first)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()


def test_mask_editor_zooms_pans_and_switches_tools_by_keyboard_and_wheel(harness) -> None:  # type: ignore[no-untyped-def]
    page = harness
    dialog = page.locator("dialog.mask-editor")
    page.click("[data-open-mask-editor]")  # the harness's gallery image, 512 x 384
    canvas = dialog.locator("canvas.me-mask")
    expect(canvas).to_be_visible()
    zoom = dialog.locator("[data-me-zoom]")
    fitted = zoom.inner_text()
    assert fitted != "100 %"

    page.keyboard.press("1")
    expect(zoom).to_have_text("100 %")
    page.keyboard.press("+")
    expect(zoom).to_have_text("125 %")
    page.keyboard.press("-")
    expect(zoom).to_have_text("100 %")
    page.keyboard.press("0")
    expect(zoom).to_have_text(fitted)

    # The wheel zooms at the pointer: the image point under it stays put.
    box = canvas.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.25
    page.mouse.move(x, y)
    page.mouse.wheel(0, -400)
    expect(zoom).not_to_have_text(fitted)
    after = canvas.bounding_box()
    assert after is not None and after["width"] > box["width"]
    assert (x - after["x"]) / after["width"] == pytest.approx(0.25, abs=0.01)
    assert (y - after["y"]) / after["height"] == pytest.approx(0.25, abs=0.01)

    # Space + drag pans without painting; the tool keys press their buttons.
    page.keyboard.down(" ")
    page.mouse.down()
    page.mouse.move(x + 120, y + 60, steps=5)
    page.mouse.up()
    page.keyboard.up(" ")
    panned = canvas.bounding_box()
    assert panned is not None
    assert (panned["x"] - after["x"], panned["y"] - after["y"]) == (
        pytest.approx(120, abs=1),
        pytest.approx(60, abs=1),
    )
    assert painted(page) == 0
    page.keyboard.press("e")
    expect(dialog.locator("[data-tool=eraser]")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("x")
    expect(dialog.locator("[data-tool=brush]")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("o")
    expect(dialog.locator("[data-action=original]")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("?")
    expect(dialog.locator("[data-me-help]")).to_be_visible()
    page.keyboard.press("Escape")  # closes the list first, then the editor
    expect(dialog.locator("[data-me-help]")).to_be_hidden()
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()


def test_an_uploaded_mask_is_questioned_when_the_first_image_changes(harness) -> None:  # type: ignore[no-untyped-def]
    page = harness
    page.set_input_files("[data-mask-input]", files=[png(512, 384, (255, 255, 255), "m.png")])
    status = page.locator("[data-mask-status]")
    expect(status).to_contain_text("Mask uploaded: m.png")
    page.set_input_files("[data-reference-picker]", files=[png(64, 64, (9, 9, 9), "new.png")])
    page.locator("[data-reference][data-kind=upload]").focus()
    page.keyboard.press("Alt+Home")
    expect(status).to_have_text(
        "Mask uploaded: m.png. The first image changed: check that the mask still fits it."
    )
    expect(status).to_have_attribute("data-tone", "warn")
    assert mask_api(page, "api.hasMask()")
