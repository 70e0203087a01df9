"""The estimate behind the pricing panel and the budget check, from the form's values."""

import re
from decimal import Decimal

from django.http import QueryDict

from playground.catalog.models import ImageModel
from playground.pricing.estimate import (
    AUTO,
    Estimate,
    EstimateInput,
    concrete_qualities,
    estimate_per_quality,
    estimate_request,
)

MAX_REFERENCES = 16
# A measured reference image: ASCII digits, at most six a side (the browser sends real sizes).
REFERENCE_SIZE = re.compile(r"([0-9]{1,6})x([0-9]{1,6})")


def _int(value: str | None, default: int, low: int, high: int) -> int:
    try:
        return min(high, max(low, int(value or default)))
    except ValueError:
        return default


def reference_sizes(text: str) -> tuple[tuple[int, int], ...]:
    """'640x480,300x300' -> ((640, 480), (300, 300)); unknown sizes (0x0, junk) are skipped."""
    sizes = []
    for item in text.split(",")[:MAX_REFERENCES]:
        match = REFERENCE_SIZE.fullmatch(item.strip().lower())
        if match is None:
            continue
        width, height = int(match[1]), int(match[2])
        if width > 0 and height > 0:
            sizes.append((width, height))
    return tuple(sizes)


def default_quality(model: ImageModel) -> str:
    """The quality the panel prices when the form asks for none the model offers."""
    if model.default_quality in model.qualities:
        return model.default_quality
    return next(iter(concrete_qualities(model)), AUTO)


def panel_input(model: ImageModel, data: QueryDict) -> tuple[EstimateInput, dict[str, str]]:
    """What the panel prices, read leniently from the form, and what it priced instead of
    what was asked: {"size": why, "quality": the quality this model does not offer}."""
    problems: dict[str, str] = {}
    size = (data.get("size") or model.default_size).strip().lower()
    if size_problem := model.size_error(size):
        problems["size"] = size_problem
        size = model.default_size
    # A quality of the model the person just switched from (xhigh) prices as the default.
    quality = data.get("quality") or default_quality(model)
    if quality not in model.qualities:
        problems["quality"] = quality
        quality = default_quality(model)
    fidelity = data.get("input_fidelity")
    request = EstimateInput(
        prompt="x" * _int(data.get("prompt_chars"), 0, 0, 32_000),
        size=size,
        quality=quality,
        n=_int(data.get("n"), 1, 1, model.max_n),
        partial_images=_int(data.get("partial_images"), 0, 0, 3),
        references=reference_sizes(data.get("reference_sizes", "")),
        input_fidelity=fidelity if fidelity in model.input_fidelities else None,
    )
    return request, problems


def panel_rows(model: ImageModel, request: EstimateInput) -> list[tuple[Estimate, bool]]:
    """One estimate per quality the model offers, with whether it is the selected one."""
    return [(e, e.quality == request.quality) for e in estimate_per_quality(model, request)]


def estimate_range(model: ImageModel, request: EstimateInput) -> tuple[Decimal, Decimal]:
    """(low, high) total for the request; a range when quality is auto."""
    low, high = estimate_request(model, request)
    return low.total_usd, high.total_usd
