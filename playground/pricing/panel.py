"""The estimate behind the pricing panel and the budget check, from the form's values."""

from decimal import Decimal

from django.http import QueryDict

from playground.catalog.models import ImageModel
from playground.catalog.tokens import parse_size
from playground.pricing.estimate import (
    Estimate,
    EstimateInput,
    estimate_per_quality,
    estimate_request,
)

MAX_REFERENCES = 16


def _int(value: str | None, default: int, low: int, high: int) -> int:
    try:
        return min(high, max(low, int(value or default)))
    except ValueError:
        return default


def reference_sizes(text: str) -> tuple[tuple[int, int], ...]:
    """'640x480,300x300' -> ((640, 480), (300, 300)); unknown sizes (0x0) are skipped."""
    sizes = []
    for item in text.split(",")[:MAX_REFERENCES]:
        try:
            width, height = parse_size(item.strip())
        except ValueError:
            continue
        if width > 0 and height > 0:
            sizes.append((width, height))
    return tuple(sizes)


def panel_input(model: ImageModel, data: QueryDict) -> tuple[EstimateInput, str | None]:
    """What the panel prices, and why it cannot (a bad size), read leniently from the form."""
    size = (data.get("size") or model.default_size).strip().lower()
    problem = model.size_error(size)
    if problem:
        size = model.default_size
    request = EstimateInput(
        prompt="x" * _int(data.get("prompt_chars"), 0, 0, 32_000),
        size=size,
        quality=data.get("quality") or model.default_quality,
        n=_int(data.get("n"), 1, 1, model.max_n),
        partial_images=_int(data.get("partial_images"), 0, 0, 3),
        references=reference_sizes(data.get("reference_sizes", "")),
        input_fidelity=data.get("input_fidelity") or None,
    )
    return request, problem


def panel_rows(model: ImageModel, request: EstimateInput) -> list[tuple[Estimate, bool]]:
    """One estimate per quality the model offers, with whether it is the selected one."""
    return [(e, e.quality == request.quality) for e in estimate_per_quality(model, request)]


def estimate_range(model: ImageModel, request: EstimateInput) -> tuple[Decimal, Decimal]:
    """(low, high) total for the request; a range when quality is auto."""
    low, high = estimate_request(model, request)
    return low.total_usd, high.total_usd
