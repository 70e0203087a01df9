"""Share an image with its prompt hidden, open the link with no account, then revoke it."""

import hashlib
import io

import pytest
from axe_playwright_python.sync_playwright import Axe
from PIL import Image as PILImage
from PIL import ImageDraw
from playwright.sync_api import expect

from playground.gallery.storage import store_image
from playground.sharing.models import ShareLink
from playground.sharing.services import create_share
from tests.browser.conftest import log_in, screenshot
from tests.jobs import make_job

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PROMPT = "a lighthouse keeper's secret recipe for plum jam"


def picture(width: int, height: int, hue: int) -> bytes:
    """A soft gradient with a sun: something to look at in the screenshots."""
    image = PILImage.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    for y in range(height):
        shade = y / height
        draw.line([(0, y), (width, y)], fill=(int(40 + 180 * shade), hue, int(200 - 120 * shade)))
    draw.ellipse(
        [width * 0.55, height * 0.2, width * 0.8, height * 0.2 + width * 0.25], fill=(255, 214, 120)
    )
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def serious_violations(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']]}"
        for v in Axe().run(page).response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def fits_the_width(page) -> bool:  # type: ignore[no-untyped-def]
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def test_it_shares_with_the_prompt_hidden_and_revokes(browser, page, live_server, alice):
    job = make_job(alice, prompt=PROMPT, state="succeeded")
    original = picture(1536, 1024, 90)
    image = store_image(job, 0, original)
    other_job = make_job(alice, prompt="a private sketch nobody should see", state="succeeded")
    store_image(other_job, 0, picture(1024, 1024, 160))
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)

    log_in(page, "alice", "alice-password-1")
    page.click("nav >> text=Shared links")
    expect(page.locator("h1")).to_have_text("Shared links")
    page.check(f".share-pick input[value='{image.pk}']")
    page.click("[data-share-open]")
    dialog = page.locator("#share-new-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("[data-share-count]")).to_have_text("Sharing 1 image.")
    expect(dialog.locator("[name=show_details]")).not_to_be_checked()
    dialog.locator("label", has_text="In a week").click()
    screenshot(page, "share-dialog")
    assert serious_violations(page) == []
    dialog.get_by_role("button", name="Create link").click()

    link_field = dialog.locator("[data-share-url]")
    expect(link_field).to_be_visible()
    link = ShareLink.objects.get()
    share_url = f"{live_server.url}/s/{link.token}/"
    expect(link_field).to_have_value(share_url)
    assert link.show_details is False and link.expires_at is not None
    expect(dialog.locator("[data-share-copy]")).to_be_focused()
    dialog.locator("[data-share-copy]").click()
    expect(dialog.locator("[data-share-copy]")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == share_url
    screenshot(page, "share-dialog-created")
    assert serious_violations(page) == []
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    # The list below was drawn again when the link was made.
    expect(page.locator("#share-links .share-row")).to_have_count(1)
    expect(page.locator("#share-links [data-share-url]")).to_have_value(share_url)

    # A visitor with no account and no session.
    visitor_context = browser.new_context(base_url=live_server.url)
    visitor = visitor_context.new_page()
    response = visitor.goto(share_url)
    assert response.status == 200
    shown = visitor.locator(".share-picture img")
    expect(shown).to_have_count(1)
    visitor.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=shown.element_handle()
    )
    html = visitor.content()
    assert PROMPT not in html and "plum jam" not in html and "private sketch" not in html
    assert "alice" not in html
    with visitor.expect_download() as download_info:
        visitor.get_by_role("link", name="Download PNG").click()
    download = download_info.value
    assert download.suggested_filename == "shared-image-1.png"
    with open(download.path(), "rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == hashlib.sha256(original).hexdigest()
    screenshot(visitor, "share-page")
    assert serious_violations(visitor) == []
    display_url = shown.get_attribute("src")
    assert visitor.goto(display_url).status == 200  # now in the visitor's browser cache

    dark_context = browser.new_context(base_url=live_server.url, color_scheme="dark")
    dark = dark_context.new_page()
    dark.goto(share_url)
    dark.wait_for_function(
        "() => [...document.images].every(img => img.complete && img.naturalWidth > 0)"
    )
    screenshot(dark, "share-page-dark")

    # The owner sees the views and revokes the link.
    page.reload()
    row = page.locator(".share-row").first
    expect(row.locator("[data-share-views]")).to_have_text(
        "2 views"
    )  # the visitor and the dark page
    screenshot(page, "shared-links")
    assert serious_violations(page) == []
    page.emulate_media(color_scheme="dark")
    screenshot(page, "shared-links-dark")
    page.emulate_media(color_scheme="light")
    page.set_viewport_size({"width": 390, "height": 844})
    assert fits_the_width(page)
    screenshot(page, "shared-links-narrow")
    page.set_viewport_size({"width": 1400, "height": 900})
    page.once("dialog", lambda confirm: confirm.accept())
    row.get_by_role("button", name="Revoke").click()
    expect(row).to_have_attribute("data-state", "revoked")
    expect(row.locator(".share-state")).to_have_text("Revoked")
    expect(row.get_by_role("button", name="Revoke")).to_have_count(0)
    screenshot(page, "shared-links-revoked")

    # At once: the page and its image, cached or not.
    gone = visitor.goto(share_url)
    assert gone.status == 410
    expect(visitor.locator("h1")).to_have_text("This link is no longer available")
    screenshot(visitor, "share-page-revoked")
    assert visitor.goto(display_url).status == 410
    assert visitor.request.get(display_url).status == 410
    visitor_context.close()
    dark_context.close()


def test_it_shows_a_set_with_its_prompts_when_chosen(browser, live_server, alice):
    dawn = make_job(alice, prompt="three paper boats on a pond at dawn", state="succeeded", n=2)
    dusk = make_job(alice, prompt="a kite over the dunes at dusk", state="succeeded")
    images = [
        store_image(dawn, 0, picture(1024, 1024, 60)),
        store_image(dawn, 1, picture(1024, 1024, 120)),
        store_image(dusk, 0, picture(1024, 1536, 180)),
    ]
    link = create_share(alice, images, None, True)
    for scheme in ("light", "dark"):
        context = browser.new_context(
            base_url=live_server.url, color_scheme=scheme, viewport={"width": 1400, "height": 900}
        )
        visitor = context.new_page()
        assert visitor.goto(f"/s/{link.token}/").status == 200
        expect(visitor.locator(".share-picture img")).to_have_count(3)
        expect(visitor.locator(".prompt-text")).to_have_text(
            ["three paper boats on a pond at dawn", "a kite over the dunes at dusk"]
        )
        visitor.wait_for_function(
            "() => [...document.images].every(img => img.complete && img.naturalWidth > 0)"
        )
        screenshot(visitor, f"share-set-details-{scheme}")
        visitor.set_viewport_size({"width": 390, "height": 844})
        assert fits_the_width(visitor)
        screenshot(visitor, f"share-set-details-narrow-{scheme}")
        context.close()


def test_it_shares_without_javascript(browser, live_server, alice):
    image = store_image(make_job(alice, prompt=PROMPT, state="succeeded"), 0, picture(512, 512, 30))
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    log_in(page, "alice", "alice-password-1")
    page.goto("/shares/")
    page.check(f".share-pick input[value='{image.pk}']")
    page.click("[data-share-open]")  # opens the dialog natively (commandfor)
    dialog = page.locator("#share-new-dialog")
    expect(dialog).to_be_visible()
    dialog.locator("label", has_text="In a day").click()
    dialog.get_by_role("button", name="Create link").click()
    page.wait_for_url("**/shares/")
    link = ShareLink.objects.get()
    expect(page.locator(".message")).to_contain_text(f"/s/{link.token}/")
    expect(page.locator("#share-links .share-row")).to_have_count(1)
    assert link.expires_at is not None and not link.show_details
    context.close()
