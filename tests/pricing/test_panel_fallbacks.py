"""The pricing panel prices what it can when the form asks for what the model does not offer."""

import pytest

from playground.catalog.models import ImageModel
from tests.pricing.test_panel import panel, totals

pytestmark = pytest.mark.django_db


def test_it_prices_the_default_quality_when_the_model_lacks_the_one_asked_for(logged_in):
    # Switching from gpt-image-2.5-* (which has xhigh) to gpt-image-2 keeps quality=xhigh.
    page = panel(logged_in, quality="xhigh")
    assert list(totals(page)) == ["low", "medium", "high"]
    assert 'class="price-row is-selected" data-quality="medium"' in page
    assert "Extra high is not offered by" in page and "Priced at Medium, its default" in page
    assert totals(page) == totals(panel(logged_in, quality="medium"))


@pytest.mark.parametrize("quality", ["99999999999999999999999", "NaN", "x" * 5000])
def test_it_prices_the_default_quality_for_a_junk_quality(logged_in, quality):
    page = panel(logged_in, quality=quality)
    assert 'class="price-row is-selected" data-quality="medium"' in page
    assert "is not offered by" in page


def test_it_keeps_a_quality_the_model_offers(logged_in):
    page = panel(logged_in, model="gpt-image-2.5-sunburst", quality="xhigh")
    assert 'class="price-row is-selected" data-quality="xhigh"' in page
    assert "is not offered" not in page


def test_it_skips_reference_sizes_it_cannot_read(logged_in):
    plain = totals(panel(logged_in))
    junk = "1" * 400 + "x5,\u0661\u0660\u0662\u0664x\u0661\u0660\u0662\u0664,-5x5,0x0,abc"
    assert totals(panel(logged_in, reference_sizes=junk)) == plain
    assert totals(panel(logged_in, reference_sizes=f"{junk},1024x1024")) != plain


def test_it_says_when_the_catalog_cannot_price_the_request(logged_in):
    ImageModel.objects.filter(model_id="gpt-image-2").update(
        output_rule={"kind": "formula", "factors": {"low": 16}}
    )
    page = panel(logged_in)
    assert "This request cannot be priced" in page and "no output token count" in page
    assert "data-total" not in page
