"""The usage page: one month of spend; a month it cannot show gives this month, saying why."""

from datetime import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from playground.generations.models import Generation
from tests.jobs import make_job

pytestmark = pytest.mark.django_db


def this_month_label() -> str:
    return timezone.localdate().strftime("%B %Y")


def usage(client, month: str) -> str:
    response = client.get("/usage/", {"month": month})
    assert response.status_code == 200
    return response.content.decode()


def test_it_shows_the_month_asked_for_with_links_either_side(logged_in, alice):
    job = make_job(alice, state=Generation.State.SUCCEEDED)
    Generation.objects.filter(pk=job.pk).update(
        created_at=timezone.make_aware(datetime(2024, 3, 10, 12)), actual_usd=Decimal("0.25")
    )
    page = usage(logged_in, "2024-03")
    assert "March 2024" in page and "$0.25" in page and "gpt-image-2" in page
    assert "?month=2024-02" in page and "?month=2024-04" in page
    assert "month-notice" not in page


@pytest.mark.parametrize("month", ["9999-12", "0001-01", "1-1", "1999-12", "3000-01"])
def test_it_falls_back_to_this_month_for_a_month_out_of_range(logged_in, month):
    page = usage(logged_in, month)
    assert this_month_label() in page
    assert "Usage goes from January 2000 to this month: showing this month." in page


@pytest.mark.parametrize(
    "month", ["2024-13", "2024-00", "march", "2024-3-1", "\u0662\u0660\u0662\u0664-\u0660\u0663"]
)
def test_it_falls_back_to_this_month_for_what_is_not_a_month(logged_in, month):
    page = usage(logged_in, month)
    assert this_month_label() in page
    assert "That is not a month (use YYYY-MM" in page


def test_it_offers_no_earlier_month_than_the_first(logged_in):
    page = usage(logged_in, "2000-01")
    assert "January 2000" in page and "Earlier" not in page
    assert "Earlier" in usage(logged_in, "2000-02")


def test_it_shows_this_month_without_a_notice_by_default(logged_in):
    page = logged_in.get("/usage/").content.decode()
    assert this_month_label() in page and "month-notice" not in page
    assert "Later" not in page
