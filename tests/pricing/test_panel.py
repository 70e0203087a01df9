"""The pricing panel: one estimate per quality of the chosen model, moving with the settings."""

import re
from decimal import Decimal

import pytest

pytestmark = pytest.mark.django_db


def totals(page: str) -> dict[str, Decimal]:
    rows = re.findall(r'data-quality="(\w+)" data-total="([\d.]+)"', page)
    return {quality: Decimal(total) for quality, total in rows}


def panel(client, **params) -> str:
    query = {"model": "gpt-image-2", "size": "1024x1024", "quality": "medium", "n": "1", **params}
    response = client.get("/pricing/estimate/", query)
    assert response.status_code == 200
    return response.content.decode()


def test_it_prices_each_quality_at_the_published_figures(logged_in):
    page = panel(logged_in)
    prices = totals(page)
    assert list(prices) == ["low", "medium", "high"]
    # Output only (no prompt): 196 / 1756 / 7024 tokens at $30 per 1M.
    assert prices == {
        "low": Decimal("0.00588"),
        "medium": Decimal("0.05268"),
        "high": Decimal("0.21072"),
    }
    assert 'class="price-row is-selected" data-quality="medium"' in page


def test_it_moves_with_n_size_previews_prompt_and_references(logged_in):
    base = totals(panel(logged_in))["high"]
    assert totals(panel(logged_in, n="3"))["high"] == base * 3
    assert totals(panel(logged_in, size="1536x1024"))["high"] < base
    assert totals(panel(logged_in, partial_images="2"))["high"] == base + Decimal(200 * 30) / 10**6
    assert totals(panel(logged_in, prompt_chars="4000"))["high"] == base + Decimal(1000 * 5) / 10**6
    with_reference = totals(panel(logged_in, reference_sizes="1024x1024"))["high"]
    # 194 tile tokens, plus 4160 since the gpt-image-2 family always works at high fidelity.
    assert with_reference == base + Decimal((194 + 4160) * 8) / 10**6


def test_it_shows_auto_quality_as_a_range(logged_in):
    page = panel(logged_in, quality="auto")
    assert 'data-quality="auto"' in page
    assert "$0.0059 \u2013 $0.211" in page  # an en dash between the ends


def test_it_offers_the_qualities_of_the_chosen_model(logged_in):
    assert list(totals(panel(logged_in, model="gpt-image-2.5-sunburst"))) == [
        "low",
        "medium",
        "high",
        "xhigh",
        "max",
    ]
    mini = totals(panel(logged_in, model="gpt-image-1-mini"))
    assert mini["low"] == Decimal("0.005")  # the published per-image price


def test_it_says_when_the_size_is_not_allowed(logged_in):
    page = panel(logged_in, size="1000x1000")
    assert "multiples of 16" in page and "Priced at 1024x1024" in page


def test_it_marks_levels_the_budget_cannot_cover(logged_in, alice):
    from playground.accounts.models import UserBudget

    UserBudget.objects.create(user=alice, monthly_usd=Decimal("0.10"))
    page = panel(logged_in)
    assert 'over-budget" data-quality="high"' in page
    assert 'over-budget" data-quality="low"' not in page
    assert "Left this month" in page
