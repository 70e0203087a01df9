"""What an API key has spent, counted the way budgets count it (settled cost + jobs in flight)."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from playground.apikeys.models import ApiKey
from playground.generations.models import Generation
from playground.pricing.spend import IN_FLIGHT_COST, MONEY, SETTLED_COST, ZERO

WINDOWS = {"hour": timedelta(hours=1), "day": timedelta(days=1), "total": None}


def job_cost(filter: Q | None = None) -> Coalesce:
    """Sum of what jobs count for: settled cost, or the high estimate while unfinished."""
    return Coalesce(Sum(SETTLED_COST, filter=filter), ZERO, output_field=MONEY) + Coalesce(
        Sum(IN_FLIGHT_COST, filter=filter), ZERO, output_field=MONEY
    )


@dataclass(frozen=True)
class KeySpend:
    hour: Decimal
    day: Decimal
    total: Decimal

    def as_dict(self) -> dict[str, Decimal]:
        return {"hour": self.hour, "day": self.day, "total": self.total}


def key_spend(key: ApiKey, now: datetime | None = None) -> KeySpend:
    """Spend over the last hour, the last 24 hours and ever, in one query."""
    now = now or timezone.now()
    totals = Generation.objects.filter(api_key=key).aggregate(
        hour=job_cost(Q(created_at__gt=now - WINDOWS["hour"])),
        day=job_cost(Q(created_at__gt=now - WINDOWS["day"])),
        total=job_cost(),
    )
    return KeySpend(**totals)


def total_spend_subquery() -> Subquery:
    """Each key's total spend as an annotation, for lists (one query, not one per row)."""
    jobs = (
        Generation.objects.filter(api_key=OuterRef("pk"))
        .order_by()
        .values("api_key")
        .annotate(spent=job_cost())
        .values("spent")
    )
    return Coalesce(Subquery(jobs, output_field=MONEY), ZERO, output_field=MONEY)


def frees_up_in(key: ApiKey, window: timedelta, cap: Decimal, need: Decimal, now: datetime) -> int:
    """Seconds until enough of the window's spend has aged out for `need` more to fit `cap`."""
    row_cost = Coalesce(SETTLED_COST, ZERO, output_field=MONEY) + Coalesce(
        IN_FLIGHT_COST, ZERO, output_field=MONEY
    )
    jobs = list(
        Generation.objects.filter(api_key=key, created_at__gt=now - window)
        .order_by("created_at", "id")
        .annotate(cost=row_cost)
        .values_list("created_at", "cost")
    )
    spent = sum((cost for _, cost in jobs), ZERO)
    for created_at, cost in jobs:
        spent -= cost
        if spent + need <= cap:
            return max(1, int((created_at + window - now).total_seconds()) + 1)
    # Even an empty window cannot fit the request: waiting a whole window is the honest answer.
    return int(window.total_seconds())
