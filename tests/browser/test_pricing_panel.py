"""The pricing panel follows the form without a reload; every finished job shows its cost."""

import io
import re
from decimal import Decimal

import pytest
from PIL import Image as PILImage
from playwright.sync_api import expect

from playground.accounts.models import UserBudget
from playground.generations.models import Generation
from tests.browser.conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def total(page, quality: str) -> Decimal:  # type: ignore[no-untyped-def]
    row = page.locator(f'#pricing-body tr.price-row[data-quality="{quality}"]')
    return Decimal(row.get_attribute("data-total"))


def wait_for_change(page, quality: str, old: Decimal) -> Decimal:  # type: ignore[no-untyped-def]
    page.wait_for_function(
        """([q, old]) => {
            const row = document.querySelector(`#pricing-body tr.price-row[data-quality='${q}']`);
            return row && row.dataset.total !== old;
        }""",
        arg=[quality, str(old)],
    )
    return total(page, quality)


def test_it_updates_the_estimate_as_settings_change(page, alice, provider, upstream, worker):
    log_in(page, "alice", "alice-password-1")
    levels = page.locator("#pricing-body tr.price-row:not([data-quality=auto])")
    expect(levels).to_have_count(3)
    high = total(page, "high")
    assert high == Decimal("0.21072")  # gpt-image-2, 1024x1024: 7024 tokens at $30 per 1M
    expect(page.locator('tr.price-row.is-selected[data-quality="auto"]')).to_be_visible()

    page.select_option("#id_quality", "high")
    expect(page.locator('tr.price-row.is-selected[data-quality="high"]')).to_be_visible()
    page.fill("#id_n", "3")
    assert wait_for_change(page, "high", high) == high * 3
    page.fill("#id_size", "1536x1024")
    three_landscape = wait_for_change(page, "high", high * 3)
    assert three_landscape == Decimal("0.16464") * 3
    out = io.BytesIO()
    PILImage.new("RGB", (1024, 1024), "grey").save(out, "PNG")
    page.set_input_files(
        "[data-reference-picker]",
        files=[{"name": "ref.png", "mimeType": "image/png", "buffer": out.getvalue()}],
    )
    with_reference = wait_for_change(page, "high", three_landscape)
    assert with_reference == three_landscape + Decimal((194 + 4160) * 8) / 10**6
    # The panel learns the prompt's length (not the prompt) and prices its text tokens.
    page.fill("#id_prompt", "a long description of the scene " * 100)
    with_prompt = wait_for_change(page, "high", with_reference)
    assert with_prompt > with_reference
    page.fill("#id_prompt", "")
    assert wait_for_change(page, "high", with_prompt) == with_reference
    page.check("[data-show-breakdown]")
    expect(page.locator('tr.price-breakdown[data-quality="high"]')).to_contain_text("4354 tokens")
    screenshot(page, "pricing-panel")

    page.select_option("#id_model", "gpt-image-2.5-sunburst")
    expect(levels).to_have_count(5)
    expect(page.locator("#pricing-body")).to_contain_text("GPT Image 2.5 Sunburst")

    # After a reload the panel prices what the form shows, whatever the browser restored.
    page.reload()
    model = page.locator("#id_model option:checked").inner_text()
    expect(page.locator("#pricing-body .pricing-head")).to_contain_text(model)
    expect(levels).to_have_count(5 if "2.5" in model else 3)


def test_it_shows_estimated_and_actual_cost_and_refuses_over_budget(
    page, alice, provider, upstream, worker
):
    log_in(page, "alice", "alice-password-1")
    page.select_option("#id_quality", "high")
    page.fill("#id_prompt", "a red kite")
    page.click("#generate-form button[type=submit]")
    card = page.locator("#results article.job").first
    expect(card).to_have_attribute("data-state", "succeeded", timeout=20_000)
    expect(card.locator("[data-cost]")).to_have_text(
        re.compile(r"estimated \$0\.211, actual \$0\.211")
    )
    expect(page.locator(".spend")).to_have_text("$0.211 this month")

    UserBudget.objects.create(user=alice, monthly_usd=Decimal("0.30"))
    page.fill("#id_n", "2")
    page.click("#generate-form button[type=submit]")
    refusal = page.locator('[data-error-for="budget"]')
    expect(refusal).to_contain_text("could cost up to $0.421")
    expect(refusal).to_contain_text("$0.30 monthly budget")
    assert Generation.objects.count() == 1
    screenshot(page, "budget-refusal")
