"""A user's spend by day and by model, and the bar chart drawn as SVG on the server."""

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from playground.core.query import parse_month
from playground.gallery.models import Image
from playground.generations.models import Generation
from playground.pricing.spend import MONEY, SETTLED_COST, ZERO

CHART_WIDTH = 720
CHART_HEIGHT = 220
CHART_PAD = 28
# The earliest month the page shows; the latest is this month (later ones have no spend).
# Bounded so that the month before and after stay inside what datetime can hold.
FIRST_MONTH = (2000, 1)


@dataclass(frozen=True)
class DaySpend:
    day: date
    usd: Decimal
    jobs: int


@dataclass(frozen=True)
class ModelSpend:
    model: str
    usd: Decimal
    jobs: int
    images: int


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    day: DaySpend


def shown_month(text: str | None, today: date) -> tuple[tuple[int, int], str | None]:
    """The (year, month) to show for `?month=YYYY-MM`, and why it is not the one asked for."""
    this_month = (today.year, today.month)
    if not text:
        return this_month, None
    month = parse_month(text)
    if month is None:
        return this_month, "That is not a month (use YYYY-MM, e.g. 2025-03): showing this month."
    if not FIRST_MONTH <= month <= this_month:
        first = date(*FIRST_MONTH, 1).strftime("%B %Y")
        return this_month, f"Usage goes from {first} to this month: showing this month."
    return month, None


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime(year, month, 1))
    days = calendar.monthrange(year, month)[1]
    return start, start + timedelta(days=days)


def _month_jobs(user: Any, start: datetime, end: datetime) -> Any:
    return Generation.objects.filter(owner=user, created_at__gte=start, created_at__lt=end)


def spend_by_day(user: Any, start: datetime, end: datetime) -> list[DaySpend]:
    """Every day of the period, including days without jobs."""
    rows = (
        _month_jobs(user, start, end)
        .annotate(day=TruncDate("created_at"))
        .order_by()  # the model's default ordering would split the groups
        .values("day")
        .annotate(usd=Coalesce(Sum(SETTLED_COST), ZERO, output_field=MONEY), jobs=Count("id"))
    )
    by_day = {row["day"]: row for row in rows}
    days = []
    current = timezone.localtime(start).date()
    while current < timezone.localtime(end).date():
        row = by_day.get(current, {"usd": ZERO, "jobs": 0})
        days.append(DaySpend(current, row["usd"], row["jobs"]))
        current += timedelta(days=1)
    return days


def spend_by_model(user: Any, start: datetime, end: datetime) -> list[ModelSpend]:
    rows = (
        _month_jobs(user, start, end)
        .order_by()
        .values("model")
        .annotate(usd=Coalesce(Sum(SETTLED_COST), ZERO, output_field=MONEY), jobs=Count("id"))
        .order_by("-usd", "model")
    )
    # Counted apart: joining the images would repeat each job's cost once per image.
    images = dict(
        Image.objects.filter(generation__in=_month_jobs(user, start, end))
        .order_by()
        .values("generation__model")
        .annotate(count=Count("id"))
        .values_list("generation__model", "count")
    )
    return [ModelSpend(r["model"], r["usd"], r["jobs"], images.get(r["model"], 0)) for r in rows]


def bars(days: list[DaySpend]) -> tuple[list[Bar], Decimal]:
    """Bar geometry for the SVG chart, scaled to the dearest day; and that day's amount."""
    top = max((d.usd for d in days), default=ZERO) or Decimal(1)
    slot = (CHART_WIDTH - CHART_PAD) / max(1, len(days))
    usable = CHART_HEIGHT - CHART_PAD
    result = []
    for index, day in enumerate(days):
        height = float(day.usd / top) * usable
        result.append(
            Bar(
                x=CHART_PAD + index * slot + slot * 0.15,
                y=usable - height,
                width=slot * 0.7,
                height=height,
                day=day,
            )
        )
    return result, top
