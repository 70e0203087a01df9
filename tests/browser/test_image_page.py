"""The image page in Chromium: Content Credentials of a signed image (light and dark), a tampered
one, and Remix opening the playground with the same settings and an empty prompt."""

import io

import pytest
from axe_playwright_python.sync_playwright import Axe
from PIL import Image as PILImage
from PIL import ImageDraw
from playwright.sync_api import expect

from playground.gallery.storage import store_image
from tests.browser.conftest import log_in, screenshot
from tests.gallery.c2pa_signing import damage_manifest, make_credentials, sign_png, tamper
from tests.jobs import make_job

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def picture() -> bytes:
    """A PNG with something to look at: a gradient sky, a sun and a horizon."""
    sky = PILImage.linear_gradient("L").resize((768, 512)).convert("RGB")
    tinted = PILImage.merge(
        "RGB",
        (sky.getchannel(0).point(lambda v: 40 + v // 2),) * 2 + (PILImage.new("L", sky.size, 200),),
    )
    draw = ImageDraw.Draw(tinted)
    draw.ellipse((470, 120, 600, 250), fill=(250, 190, 80))
    draw.rectangle((0, 380, 768, 512), fill=(30, 60, 70))
    out = io.BytesIO()
    tinted.save(out, "PNG")
    return out.getvalue()


def serious_violations(page) -> list[str]:  # type: ignore[no-untyped-def]
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


CASES = [("signed", "light"), ("signed", "dark"), ("tampered", "light"), ("damaged", "dark")]


@pytest.mark.parametrize(("case", "scheme"), CASES)
def test_it_shows_content_credentials(page, alice, provider, case, scheme):
    signed = sign_png(picture(), make_credentials())
    stored = {"signed": signed, "tampered": tamper(signed), "damaged": damage_manifest(signed)}
    job = make_job(alice, state="succeeded", prompt="a sun setting over a calm sea")
    image = store_image(job, 0, stored[case])
    page.emulate_media(color_scheme=scheme)
    log_in(page, "alice", "alice-password-1")
    page.goto(f"/gallery/{image.pk}/")

    credentials = page.locator("section.credentials")
    expect(credentials.locator("h2")).to_have_text("Content Credentials")
    verdict = credentials.locator(".credentials-verdict")
    if case == "damaged":
        expect(verdict).to_contain_text("Could not be read.")
    else:
        expect(credentials).to_contain_text("playground-test/1.0")
        expect(credentials.locator(".credential-actions")).to_contain_text("Created c2pa.created")
    if case == "tampered":
        expect(verdict).to_contain_text("Validation failed.")
        expect(credentials).to_contain_text("assertion.dataHash.mismatch")
    elif case == "signed":
        expect(verdict).to_contain_text("Valid signature.")
    actions = page.locator(".image-info .actions")
    for name in ("Download PNG", "Remix", "Share…", "Delete job"):
        expect(
            actions.get_by_role("button", name=name).or_(actions.get_by_role("link", name=name))
        ).to_be_visible()
    expect(actions.locator(".favourite-button")).to_be_visible()
    assert serious_violations(page) == []
    screenshot(page, f"image-page-credentials-{case}-{scheme}")


def test_it_remixes_with_the_same_settings_and_an_empty_prompt(page, alice, provider):
    job = make_job(
        alice, state="succeeded", model="gpt-image-1.5", size="1024x1536", quality="medium"
    )
    image = store_image(job, 0, picture())
    log_in(page, "alice", "alice-password-1")
    page.goto(f"/gallery/{image.pk}/")
    expect(page.locator("section.credentials")).to_contain_text("No content credentials")
    page.get_by_role("link", name="Remix").click()
    page.wait_for_url("**/?model=gpt-image-1.5*")
    expect(page.locator("#id_model")).to_have_value("gpt-image-1.5")
    expect(page.locator("#id_prompt")).to_have_value("")
    expect(page.locator("input[name=size][value='1024x1536']")).to_be_checked()
    expect(page.locator("#id_quality")).to_have_value("medium")
