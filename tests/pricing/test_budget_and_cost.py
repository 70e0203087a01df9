"""Actual cost from usage, month-to-date spend, and budgets that refuse before queuing."""

from decimal import Decimal

import pytest
from django_tasks_db.models import DBTaskResult

from playground.accounts.models import BudgetSettings, UserBudget
from playground.catalog.models import ImageModel
from playground.generations.models import Generation
from playground.generations.runner import run_generation_job
from playground.pricing.spend import budget_status
from tests.jobs import FORM_FIELDS

pytestmark = pytest.mark.django_db(transaction=True)

FORM = FORM_FIELDS


def test_it_stores_the_estimate_and_the_actual_cost(logged_in, upstream):
    logged_in.post("/generations/", FORM)
    job = Generation.objects.get()
    assert job.estimated_usd_low == job.estimated_usd_high
    assert job.estimated_usd_high == Decimal("0.210735")  # 7024 out at $30 + 3 prompt tokens at $5
    run_generation_job(job.pk)
    job.refresh_from_db()
    usage = job.usage
    expected = (
        Decimal(usage["input_tokens_details"]["text_tokens"]) * 5
        + Decimal(usage["input_tokens_details"]["image_tokens"]) * 8
        + Decimal(usage["output_tokens"]) * 30
    ) / 10**6
    assert job.actual_usd == expected.quantize(Decimal("0.000001"))
    page = logged_in.get(f"/gallery/{job.images.get().pk}/").content.decode()
    assert "estimated $0.211, actual <strong>$0.211</strong>" in page


def test_it_prices_usage_with_the_catalog_at_the_time_of_the_job(logged_in, upstream):
    logged_in.post("/generations/", FORM)
    job = Generation.objects.get()
    ImageModel.objects.filter(model_id="gpt-image-2").update(price_image_out=Decimal("60"))
    run_generation_job(job.pk)
    job.refresh_from_db()
    assert job.actual_usd > job.estimated_usd_high * Decimal("1.9")


def test_it_stores_an_auto_quality_estimate_as_a_range(logged_in):
    logged_in.post("/generations/", {**FORM, "quality": "auto"})
    job = Generation.objects.get()
    assert job.estimated_usd_low < job.estimated_usd_high


def test_it_refuses_a_request_the_budget_cannot_cover(logged_in, alice, upstream):
    UserBudget.objects.create(user=alice, monthly_usd=Decimal("0.50"))
    logged_in.post("/generations/", {**FORM, "n": "2"})  # about $0.42, fits
    assert Generation.objects.count() == 1
    response = logged_in.post("/generations/", FORM, headers={"HX-Request": "true"})
    assert response.status_code == 422
    page = response.content.decode()
    assert 'data-error-for="budget"' in page
    assert "could cost up to $0.211" in page and "$0.50 monthly budget" in page
    assert "in jobs still running" in page  # the first job is still queued and counts
    assert Generation.objects.count() == 1 and DBTaskResult.objects.count() == 1
    assert upstream.requests == []


def test_it_uses_the_default_budget_unless_the_user_has_one(logged_in, alice, bob, client):
    settings_row = BudgetSettings.current()
    settings_row.default_monthly_usd = Decimal("0.10")
    settings_row.save()
    assert logged_in.post("/generations/", FORM).status_code == 422
    UserBudget.objects.create(user=alice, monthly_usd=None)  # no limit for alice
    assert logged_in.post("/generations/", FORM).status_code == 302
    assert budget_status(bob).budget == Decimal("0.10")


def test_it_counts_spend_in_the_header_and_usage_page(logged_in, alice, upstream):
    logged_in.post("/generations/", FORM)
    job = Generation.objects.get()
    run_generation_job(job.pk)
    job.refresh_from_db()
    status = budget_status(alice)
    assert status.spent == job.actual_usd and status.in_flight == 0
    header = logged_in.get("/gallery/").content.decode()
    assert "$0.211 this month" in header
    usage = logged_in.get("/usage/").content.decode()
    assert "gpt-image-2" in usage and "$0.211" in usage
    assert "<svg" in usage and "<rect" in usage


def test_it_does_not_count_a_failure_that_was_not_billed(logged_in, alice, upstream):
    logged_in.post("/generations/", {**FORM, "prompt": "forbidden thing"})
    run_generation_job(Generation.objects.get().pk)
    assert budget_status(alice).spent == 0
