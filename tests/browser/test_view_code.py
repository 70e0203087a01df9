"""The playground's "View code" dialog: the form's current request as code, copyable."""

import io
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from PIL import Image as PILImage
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PROMPT = 'a kite named "Ed\'s" $(whoami) over the sea'
OPENER = "[data-view-code-open]"
DIALOG = "dialog#view-code"
SHOWN = "#view-code-body .code-snippet:visible code"


def open_dialog(page):  # type: ignore[no-untyped-def]
    """Open the dialog and wait for the code of the form's values as they are now."""
    with page.expect_response(re.compile(r"/generate/code/$")):
        page.click(OPENER)
    expect(page.locator(DIALOG)).to_be_visible()
    expect(page.locator(SHOWN)).to_have_count(1)
    return page.locator(SHOWN)


def choose(page, label: str) -> None:  # type: ignore[no-untyped-def]
    page.locator(f"{DIALOG} .segmented label", has_text=label).click()


def reference_png() -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (512, 512), "teal").save(out, "PNG")
    return out.getvalue()


def test_it_shows_copies_and_follows_the_form(page, alice, provider):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    log_in(page, "alice", "alice-password-1")
    page.fill("#id_prompt", PROMPT)
    page.select_option("#id_quality", "high")

    code = open_dialog(page)
    expect(page.locator(DIALOG)).to_have_attribute("aria-labelledby", "view-code-title")
    expect(code).to_contain_text("/v1/images/generations")
    expect(code).to_contain_text("$PLAYGROUND_API_KEY")
    expect(code).to_contain_text('"quality": "high"')
    expect(code).to_contain_text(
        '"prompt": "a kite named \\"Ed\'"\'"\'s\\" $(whoami) over the sea"'
    )
    screenshot(page, "view-code-light")

    choose(page, "Python")
    expect(code).to_contain_text('quality="high"')
    expect(code).to_contain_text("prompt='a kite named \"Ed\\'s\" $(whoami) over the sea'")
    expect(page.locator("[data-task-api=no]")).to_be_visible()
    expect(page.locator("[data-task-api=yes]")).to_be_hidden()
    choose(page, "Task API")
    expect(code).to_contain_text('task_id = call("/createTask", {')
    expect(page.locator("[data-task-api=yes]")).to_contain_text("createTask")
    expect(page.locator("[data-task-api=no]")).to_be_hidden()
    expect(code).to_contain_text('"quality": "high"')
    choose(page, "OpenAI")
    expect(code).to_contain_text("client = OpenAI()")
    choose(page, "curl")
    expect(code).to_contain_text("https://api.openai.com/v1/images/generations")
    expect(code).to_contain_text("$OPENAI_API_KEY")

    page.locator(f"{DIALOG} .code-snippet:visible [data-copy]").click()
    expect(page.locator("[data-view-code-status]")).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == code.text_content()
    assert "https://api.openai.com/v1/images/generations" in copied

    page.keyboard.press("Escape")
    expect(page.locator(DIALOG)).to_be_hidden()
    assert page.evaluate("document.activeElement.matches('[data-view-code-open]')")

    # Opened again after a change, it shows the new values, on the tab chosen before.
    page.select_option("#id_quality", "low")
    code = open_dialog(page)
    expect(code).to_contain_text('"quality": "low"')
    expect(code).to_contain_text("api.openai.com")
    page.click(f"{DIALOG} form[method=dialog] button")
    expect(page.locator(DIALOG)).to_be_hidden()


def test_it_names_the_field_of_a_bad_value(page, alice, provider):
    log_in(page, "alice", "alice-password-1")
    page.fill("#id_n", "99")
    page.click(OPENER)
    problems = page.locator("#view-code-body [role=alert]")
    expect(problems.locator("[data-error-for=prompt]")).to_contain_text("Prompt: Write a prompt")
    expect(problems.locator("[data-error-for=n]")).to_contain_text("Images (n): gpt-image-2")


def test_it_writes_an_edit_with_the_references_and_mask(page, alice, provider):
    log_in(page, "alice", "alice-password-1")
    page.fill("#id_prompt", "make the sky orange")
    picture = {"mimeType": "image/png", "buffer": reference_png()}
    page.set_input_files(
        "[data-reference-picker]",
        files=[{"name": "one.png", **picture}, {"name": "two.png", **picture}],
    )
    expect(page.locator("#generate-form [data-reference]")).to_have_count(2)
    page.set_input_files("#generate-form [name=mask]", files=[{"name": "m.png", **picture}])
    code = open_dialog(page)
    expect(code).to_contain_text("/v1/images/edits")
    expect(code).to_contain_text('-F "image[]=@reference-2.png"')
    expect(code).to_contain_text('-F "mask=@mask.png"')
    choose(page, "Python")
    expect(code).to_contain_text('mask=open("mask.png", "rb")')


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_it_fits_a_phone_in_light_and_dark(page, alice, provider, scheme):
    page.set_viewport_size({"width": 390, "height": 844})
    page.emulate_media(color_scheme=scheme)
    log_in(page, "alice", "alice-password-1")
    page.fill("#id_prompt", "a lighthouse at dusk, " * 12)
    page.fill("#id_n", "2")
    code = open_dialog(page)
    box = page.locator(DIALOG).bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    pre = page.locator("#view-code-body .code-snippet:visible pre")
    assert pre.evaluate("el => el.scrollWidth > el.clientWidth")  # the code scrolls inside
    assert page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    background = page.locator(DIALOG).evaluate("el => getComputedStyle(el).backgroundColor")
    assert (background == "rgb(23, 26, 33)") == (scheme == "dark")
    expect(code).to_contain_text('"n": 2')
    violations = [
        f"{v['id']}: {[n['target'] for n in v['nodes']]}"
        for v in Axe().run(page).response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert violations == []
    # The viewport, as the person sees it: a full-page capture would move the modal.
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"view-code-phone-{scheme}.png"))
    page.keyboard.press("Escape")
    screenshot(page, f"view-code-phone-{scheme}-page")
