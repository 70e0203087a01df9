"""Prompt examples in the real page: one click fills the form, loads pictures and a mask."""

import io

import pytest
from axe_playwright_python.sync_playwright import Axe
from PIL import Image as PILImage
from playwright.sync_api import expect

from playground.generations.examples import by_slug
from playground.generations.models import Generation
from tests.browser.conftest import ARTIFACTS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def example_button(page, slug: str):  # type: ignore[no-untyped-def]
    return page.locator(f'[data-examples] [data-example="{slug}"]')


def test_it_fills_the_prompt_from_a_text_example_by_keyboard(page, alice, provider, upstream):
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url))
    log_in(page, "alice", "alice-password-1")
    expect(page.get_by_role("group", name="Examples")).to_be_visible()
    page.wait_for_load_state("networkidle")
    # Only the row's module loads with the page: not fill.js, the prompts or the pictures.
    lazy = [url for url in fetched if "/examples/" in url]
    assert [url.split("/static/")[-1] for url in lazy] == ["js/examples/index.js"]

    example_button(page, "otter-vet").focus()
    page.keyboard.press("Enter")
    otter = by_slug()["otter-vet"]
    expect(page.locator("#id_prompt")).to_have_value(otter.prompt)
    expect(page.locator("[data-prompt-count]")).to_have_text(f"{len(otter.prompt):,}")
    expect(page.locator('[name=size][value="1536x1024"]')).to_be_checked()
    expect(page.locator("#id_quality")).to_have_value("medium")
    expect(page.locator("[data-examples-status]")).to_contain_text("is in the form")
    expect(page.locator("[data-reference]")).to_have_count(0)
    expect(page.locator('tr.price-row.is-selected[data-quality="medium"]')).to_be_visible()
    # The prompts came with the first click; a text example fetches no pictures.
    assert [url for url in fetched if url.endswith("examples.json")]
    assert [url for url in fetched if url.endswith("js/examples/fill.js")]
    assert not [url for url in fetched if url.endswith((".webp", ".png"))]


def test_it_loads_the_picture_and_mask_and_sends_an_edit_with_that_mask(
    page, alice, provider, upstream, worker
):
    log_in(page, "alice", "alice-password-1")
    example_button(page, "flamingo-pool").click()
    chips = page.locator("[data-reference]")
    expect(chips).to_have_count(1)
    expect(chips.first).to_have_attribute("data-width", "768")
    status = page.locator("[data-mask-status]")
    expect(status).to_contain_text("Mask uploaded: pool-lounge-mask.png")
    expect(page.locator("[data-clear-mask]")).to_be_visible()
    expect(page.locator("#id_prompt")).to_have_value(by_slug()["flamingo-pool"].prompt)
    expect(page.locator("[data-examples-status]")).to_contain_text("1 reference picture and a mask")
    page.wait_for_timeout(300)  # the mask's size check runs after the status line
    expect(status).not_to_have_attribute("data-tone", "warn")
    page.locator("[data-mask-row]").scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator(".compose").screenshot(path=str(ARTIFACTS / "examples-flamingo.png"))

    page.select_option("#id_quality", "low")
    page.click("#generate-form button[type=submit]")
    card = page.locator("#results article.job").first
    expect(card).to_have_attribute("data-state", "succeeded", timeout=20_000)
    expect(card.locator(".job-inputs .badge")).to_have_text("mask")

    job = Generation.objects.get()
    assert job.operation == "edit" and job.mask_id
    assert [i.original_name for i in job.inputs.all()] == ["pool-lounge.webp"]
    sent = upstream.requests[-1]
    assert sent["path"].endswith("/images/edits")
    assert sent["image_sizes"] == [[768, 512]] and sent["mask_size"] == [768, 512]
    alpha = PILImage.open(io.BytesIO(upstream.last_mask)).getchannel("A")
    assert alpha.getpixel((476, 312)) == 0  # where the flamingo goes
    assert alpha.getpixel((100, 100)) == 255 and alpha.getpixel((700, 480)) == 255


def test_it_loads_every_reference_of_the_basket_and_prices_them(page, alice, provider, upstream):
    log_in(page, "alice", "alice-password-1")
    page.wait_for_load_state("networkidle")
    with page.expect_response(lambda r: "/pricing/estimate/" in r.url and "384x384" in r.url):
        example_button(page, "gift-basket").click()
    chips = page.locator("[data-reference]")
    expect(chips).to_have_count(4)
    expect(page.locator("[data-reference-count]")).to_contain_text("4 of 16 reference images")
    names = [chip.get_attribute("title").split(" ")[0] for chip in chips.all()]
    assert names == list(by_slug()["gift-basket"].references)
    expect(page.locator("#id_prompt")).to_have_value(by_slug()["gift-basket"].prompt)
    expect(page.locator("[data-mask-input]")).to_have_js_property("files.length", 0)
    expect(page.locator("[data-mask-row]")).to_be_visible()

    # Another example replaces what the last one put in the form without asking.
    page.on("dialog", lambda dialog: pytest.fail(f"unexpected question: {dialog.message}"))
    example_button(page, "animation-style").click()
    expect(chips).to_have_count(1)
    expect(chips.first).to_have_attribute("title", "lake-cabin-photo.webp \u00b7 768\u00d7512")
    example_button(page, "action-figure").click()
    expect(chips).to_have_count(0)
    expect(page.locator("#id_prompt")).to_have_value(by_slug()["action-figure"].prompt)
    expect(page.locator('[name=size][value="1024x1536"]')).to_be_checked()


def test_it_asks_before_replacing_what_the_person_typed(page, alice, provider, upstream):
    log_in(page, "alice", "alice-password-1")
    page.fill("#id_prompt", "my own lighthouse at dusk")
    questions: list[str] = []

    def dismiss(dialog) -> None:  # type: ignore[no-untyped-def]
        questions.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    example_button(page, "otter-vet").click()
    expect(page.locator("[data-examples] [aria-busy]")).to_have_count(0)
    assert questions == ["Replace your prompt with the example \u201cOtter at the vet\u201d?"]
    expect(page.locator("#id_prompt")).to_have_value("my own lighthouse at dusk")

    page.remove_listener("dialog", dismiss)
    page.once("dialog", lambda dialog: dialog.accept())
    example_button(page, "otter-vet").click()
    expect(page.locator("#id_prompt")).to_have_value(by_slug()["otter-vet"].prompt)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_it_shows_the_row_in_both_colour_schemes(page, alice, provider, upstream, scheme):
    page.emulate_media(color_scheme=scheme)
    log_in(page, "alice", "alice-password-1")
    example_button(page, "gift-basket").click()
    expect(page.locator("[data-reference]")).to_have_count(4)
    row = page.locator("[data-examples]")
    box = row.bounding_box()
    assert box and box["height"] < 70  # compact: two lines in the form column
    for button in row.locator("[data-example]").all():
        assert button.bounding_box()["height"] < 34
    violations = Axe().run(page, context="[data-examples]").response["violations"]
    assert [(v["id"], v["impact"]) for v in violations] == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator(".compose").screenshot(path=str(ARTIFACTS / f"examples-row-{scheme}.png"))
