from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from playground.catalog.models import ImageModel
from playground.pricing.panel import estimate_range, panel_input, panel_rows
from playground.pricing.spend import budget_status
from playground.pricing.usage import (
    CHART_HEIGHT,
    CHART_PAD,
    CHART_WIDTH,
    FIRST_MONTH,
    bars,
    month_bounds,
    shown_month,
    spend_by_day,
    spend_by_model,
)


@login_required
@require_GET
def pricing_panel(request: HttpRequest) -> HttpResponse:
    """The estimated cost of the form's request at each quality level the model offers."""
    model = _panel_model(request.GET.get("model", ""))
    if model is None:
        return render(request, "pricing/panel.html", {"model": None})
    estimate_input, problems = panel_input(model, request.GET)
    context = {"model": model, "request_input": estimate_input, "problems": problems}
    try:
        low, high = estimate_range(model, estimate_input)
        rows = panel_rows(model, estimate_input)
    except ValueError as error:
        # The catalog row (admin-edited data) has no figure for these settings: say so.
        return render(request, "pricing/panel.html", {**context, "price_problem": str(error)})
    budget = budget_status(request.user)
    left = budget.left
    context |= {
        "rows": [
            (row, selected, left is not None and row.total_usd > left) for row, selected in rows
        ],
        "budget": budget,
        "is_auto": estimate_input.quality == "auto",
        "low": low,
        "high": high,
    }
    return render(request, "pricing/panel.html", context)


def _panel_model(model_id: str) -> ImageModel | None:
    """The chosen active model, else the first one; matched here, so junk never reaches SQL."""
    models = list(ImageModel.objects.active())
    return next((m for m in models if m.model_id == model_id), models[0] if models else None)


@login_required
@require_GET
def spend_link(request: HttpRequest) -> HttpResponse:
    """The header's month-to-date spend, refreshed when a job is created or settles."""
    return render(request, "pricing/spend_link.html")


@login_required
@require_GET
def usage_report(request: HttpRequest) -> HttpResponse:
    """Spend of the signed-in user for one month, by day (chart) and by model."""
    today = timezone.localdate()
    (year, month), month_notice = shown_month(request.GET.get("month"), today)
    start, end = month_bounds(year, month)
    days = spend_by_day(request.user, start, end)
    chart, top = bars(days)
    previous = (start - timedelta(days=1)).strftime("%Y-%m")
    following = end.strftime("%Y-%m") if end.date() <= today else None
    context = {
        "month_label": start.strftime("%B %Y"),
        "month_notice": month_notice,
        "days": days,
        "models": spend_by_model(request.user, start, end),
        "total": sum((d.usd for d in days), Decimal(0)),
        "jobs": sum(d.jobs for d in days),
        "chart": chart,
        "chart_top": top,
        "chart_width": CHART_WIDTH,
        "chart_height": CHART_HEIGHT,
        "chart_pad": CHART_PAD,
        "budget": budget_status(request.user)
        if (year, month) == (today.year, today.month)
        else None,
        "previous_month": previous if (year, month) > FIRST_MONTH else None,
        "next_month": following,
    }
    return render(request, "pricing/usage.html", context)
