from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.http import HttpRequest

from playground.pricing.spend import month_totals
from playground.providers.models import Provider


def page_header(request: HttpRequest) -> dict[str, Any]:
    """Offline demo mode and month-to-date spend for the page header.

    Both are callables, which templates call only when they use them, so the partials that
    jobs poll for run no extra queries.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def is_offline() -> bool:
        provider = Provider.objects.default()
        return provider is None or provider.is_offline

    def month_to_date() -> Decimal:
        spent, in_flight = month_totals(user)
        return spent + in_flight

    lazy: dict[str, Callable[[], object]] = {
        "offline_mode": is_offline,
        "month_to_date_spend": month_to_date,
    }
    return lazy
