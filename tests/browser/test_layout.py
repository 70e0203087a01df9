"""The playground's layout: Generate always in reach, the newest image large, phones, dark mode,
and no serious accessibility violations (axe-core)."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GENERATE = "#generate-form button[type=submit]"
NEWEST = "#results article.job >> nth=0"


def generate(page, prompt: str) -> None:  # type: ignore[no-untyped-def]
    """Submit a prompt and wait for its card, the newest, to show its finished image."""
    page.fill("#id_prompt", prompt)
    page.click(GENERATE)
    card = page.locator(NEWEST)
    expect(card.locator(".job-prompt")).to_have_text(prompt)
    expect(card).to_have_attribute("data-state", "succeeded", timeout=20_000)
    image = card.locator(".job-images a.thumb img").first
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )


def in_viewport(page, selector: str) -> bool:  # type: ignore[no-untyped-def]
    box = page.locator(selector).bounding_box()
    size = page.viewport_size
    return (
        box is not None
        and box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= size["width"]
        and box["y"] + box["height"] <= size["height"]
    )


def no_horizontal_overflow(page) -> bool:  # type: ignore[no-untyped-def]
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def serious_violations(page, context: str | None = None) -> list[str]:  # type: ignore[no-untyped-def]
    results = Axe().run(page, context)
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_it_keeps_generate_with_its_estimate_in_view(page, alice, provider):
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, "alice", "alice-password-1")
    expect(page.locator("#generate-estimate")).to_have_text(re.compile(r"\$0\.0"))
    assert in_viewport(page, GENERATE)
    expect(page.locator(GENERATE)).to_contain_text("Generate")
    # The chosen quality's total: the same figure as the selected row of the cost table.
    page.select_option("#id_quality", "medium")
    row = page.locator('#pricing-body tr.price-row.is-selected[data-quality="medium"]')
    expect(row).to_be_visible()
    expect(page.locator("#generate-estimate")).to_have_text(
        row.locator(".price-total").inner_text()
    )
    # However long the form gets, the button stays at the bottom of the viewport.
    page.fill("#id_prompt", "a tall prompt\n" * 80)
    page.locator("#id_prompt").evaluate("el => { el.style.height = '1500px'; }")
    assert in_viewport(page, GENERATE)
    assert page.evaluate("window.scrollY") == 0
    screenshot(page, "layout-1440-form")

    page.set_viewport_size({"width": 1280, "height": 720})
    page.reload()
    assert in_viewport(page, GENERATE)
    expect(page.locator("#pricing-panel summary")).to_be_visible()


def test_it_picks_a_size_from_presets_or_a_custom_one(page, alice, provider):
    log_in(page, "alice", "alice-password-1")
    size = page.locator("[data-size-picker]")
    expect(size.locator("legend")).to_have_text("Size")
    square = page.get_by_role("radio", name="Square 1024\u00d71024")
    expect(square).to_be_checked()
    expect(size).to_contain_text("1536\u00d71024")
    expect(size.locator(".size-option")).to_have_count(9)  # 7 presets, auto, custom

    page.get_by_role("radio", name="Landscape 1536\u00d71024").check()
    expect(page.locator("#pricing-body .pricing-head")).to_contain_text("1536x1024")

    page.fill("#id_size", "1280x720")
    expect(page.locator("[data-size-custom]")).to_be_checked()
    expect(page.locator("[data-size-custom]")).to_have_value("1280x720")
    expect(page.locator("#pricing-body")).to_contain_text("1280x720")
    # Exactly one `size` is sent.
    assert page.evaluate(
        "new FormData(document.getElementById('generate-form')).getAll('size')"
    ) == ["1280x720"]

    page.select_option("#id_model", "gpt-image-1.5")  # presets only
    expect(page.locator("[data-size-custom]")).to_have_count(0)
    expect(size.locator(".size-option")).to_have_count(4)
    expect(page.get_by_role("radio", name="Square 1024\u00d71024")).to_be_checked()


def test_it_shows_the_newest_job_large_and_earlier_ones_compact(
    page, alice, provider, upstream, worker
):
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, "alice", "alice-password-1")
    generate(page, "a red kite over the dunes")
    generate(page, "a lighthouse on a cliff at dusk")

    newest, older = page.locator("#results article.job").all()
    big = newest.locator(".job-images a.thumb img").first
    small = older.locator(".job-images a.thumb img").first
    assert big.bounding_box()["width"] >= 400
    assert small.bounding_box()["width"] <= 200
    assert in_viewport(page, GENERATE)
    screenshot(page, "layout-1440")

    # On a fresh page only the newest card loads a large file; compact cards load thumbnails.
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.reload()
    big = page.locator(NEWEST).locator(".job-images a.thumb img").first
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=big.element_handle())
    assert big.bounding_box()["width"] >= 400
    small = page.locator("#results article.job >> nth=1").locator(".job-images a.thumb img")
    assert "/thumbnail/" in small.get_attribute("src")
    assert small.get_attribute("loading") == "lazy"
    large_files = [url for url in requested if re.search(r"/gallery/\d+/(display|original)/", url)]
    assert len(large_files) == 1 and big.get_attribute("src") in large_files[0]
    assert serious_violations(page) == []

    page.set_viewport_size({"width": 1280, "height": 720})
    assert in_viewport(page, GENERATE)
    assert page.locator(NEWEST).locator(".job-images a.thumb img").bounding_box()["width"] >= 300
    screenshot(page, "layout-1280")


def test_it_works_on_a_phone(page, alice, provider, upstream, worker):
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, "alice", "alice-password-1")
    assert no_horizontal_overflow(page)
    generate_button = page.locator(GENERATE)
    expect(generate_button).to_be_in_viewport()
    expect(page.locator("#generate-estimate")).to_have_text(re.compile(r"\$0\.0"))

    page.fill("#id_prompt", "a paper boat on a puddle")
    generate_button.click()  # no force: fails if anything covers the button
    card = page.locator(NEWEST)
    expect(card).to_have_attribute("data-state", "succeeded", timeout=20_000)
    assert no_horizontal_overflow(page)

    pricing = page.locator("#pricing-panel")
    pricing.scroll_into_view_if_needed()
    expect(pricing).to_be_in_viewport()
    expect(page.locator("#pricing-body tr.price-row.is-selected")).to_be_visible()
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "layout-390")

    card.scroll_into_view_if_needed()
    image = card.locator(".job-images a.thumb img").first
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )
    assert image.bounding_box()["width"] >= 300
    assert no_horizontal_overflow(page)


def test_it_has_a_dark_theme_without_serious_accessibility_problems(
    browser, live_server, alice, provider, upstream, worker
):
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1440, "height": 900}, color_scheme="dark"
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        log_in(page, "alice", "alice-password-1")
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        red, green, blue = (int(c) for c in re.findall(r"\d+", background)[:3])
        assert max(red, green, blue) < 60, background
        generate(page, "a neon street at night in the rain")
        generate(page, "a quiet harbour at dawn")
        assert serious_violations(page) == []
        # A reference chip with its remove button, in the tray.
        page.locator("#results [data-use-as-reference]").first.click()
        remove = page.get_by_role("button", name=re.compile("^Remove reference 1: "))
        expect(remove).to_be_attached()
        assert serious_violations(page, "[data-references]") == []
        screenshot(page, "layout-dark")
    finally:
        context.close()
