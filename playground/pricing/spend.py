"""Month-to-date spend and budgets: what a user has spent, what is in flight, what is left."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Case, DecimalField, F, Q, Sum, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from playground.accounts.models import monthly_budget_for
from playground.generations.models import Generation
from playground.pricing.estimate import usd

ZERO = Decimal(0)
MONEY = DecimalField(max_digits=14, decimal_places=6)

# What a settled job counts for: its actual cost; a success without usage counts its estimate;
# a failure or cancellation without usage was not billed.
SETTLED_COST = Case(
    When(actual_usd__isnull=False, then=F("actual_usd")),
    When(state=Generation.State.SUCCEEDED, then=F("estimated_usd_high")),
    default=None,
    output_field=MONEY,
)
IN_FLIGHT_COST = Case(
    When(state__in=Generation.UNFINISHED_STATES, then=F("estimated_usd_high")),
    default=None,
    output_field=MONEY,
)


def month_start(now: datetime | None = None) -> datetime:
    now = timezone.localtime(now or timezone.now())
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class BudgetStatus:
    budget: Decimal | None  # None: no limit
    spent: Decimal
    in_flight: Decimal

    @property
    def left(self) -> Decimal | None:
        if self.budget is None:
            return None
        return max(ZERO, self.budget - self.spent - self.in_flight)


def month_totals(user: Any) -> tuple[Decimal, Decimal]:
    """(settled spend, cost of jobs still in flight) this month, in one query."""
    totals = Generation.objects.filter(owner=user, created_at__gte=month_start()).aggregate(
        spent=Coalesce(Sum(SETTLED_COST), ZERO, output_field=MONEY),
        in_flight=Coalesce(
            Sum(IN_FLIGHT_COST, filter=Q(state__in=Generation.UNFINISHED_STATES)),
            ZERO,
            output_field=MONEY,
        ),
    )
    return totals["spent"], totals["in_flight"]


def budget_status(user: Any) -> BudgetStatus:
    spent, in_flight = month_totals(user)
    return BudgetStatus(budget=monthly_budget_for(user), spent=spent, in_flight=in_flight)


def budget_refusal(user: Any, estimate_high: Decimal) -> str | None:
    """Why a request that may cost `estimate_high` is refused, or None when it fits."""
    status = budget_status(user)
    if status.budget is None or status.left is None or estimate_high <= status.left:
        return None
    in_flight = f", {usd(status.in_flight)} in jobs still running" if status.in_flight else ""
    return (
        f"This request could cost up to {usd(estimate_high)}, but only {usd(status.left)} of "
        f"your ${status.budget:,.2f} monthly budget is left ({usd(status.spent)} spent"
        f"{in_flight}). Lower the quality, size or number of images, or ask an admin to "
        "raise your budget."
    )
