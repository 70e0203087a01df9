"""What a request will cost before it runs, and what it did cost from the API's `usage`.

Pure arithmetic over a catalog row (an `ImageModel` or anything with the same attributes):
no database access, full Decimal precision; round only for display with `usd()`.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from playground.catalog import tokens

PER_MILLION = Decimal(1_000_000)
ZERO = Decimal(0)
AUTO = "auto"
# Priced when "auto" is the default size too (auto has no token count of its own).
FALLBACK_SIZE = "1024x1024"

TEXT_NOTE = "Prompt tokens are estimated (about 4 characters per token)."
REFERENCE_NOTE = (
    "Reference image tokens follow the gpt-image-1 tile rule; "
    "the actual count comes back after the job."
)
PER_IMAGE_NOTE = "Output uses the published per-image price of this model."
AUTO_QUALITY_NOTE = (
    "Quality auto has no published token count: "
    "shown as the range from the cheapest to the dearest quality."
)


@dataclass(frozen=True)
class LineItem:
    """One row of a breakdown."""

    tokens: int
    usd: Decimal


@dataclass(frozen=True)
class Estimate:
    quality: str  # a concrete quality (never "auto")
    size: str  # the resolved "WxH" ("auto" -> the model's default_size)
    n: int
    text_in: LineItem  # prompt tokens (estimated)
    images_in: LineItem  # all references' input tokens
    images_out: LineItem  # n images, including partial-image tokens
    output_tokens_per_image: int  # one final image, without partial-image tokens
    per_image_price: bool  # images_out.usd comes from a published per-image price
    total_usd: Decimal
    notes: tuple[str, ...]


@dataclass(frozen=True)
class EstimateInput:
    prompt: str
    size: str  # "WxH" or "auto"
    quality: str  # concrete or "auto"
    n: int = 1
    partial_images: int = 0
    references: tuple[tuple[int, int], ...] = ()  # pixel sizes of the reference images
    input_fidelity: str | None = None  # "low" | "high" | None ("" / None = low)


def price(token_count: int, usd_per_million: Decimal | str | int) -> Decimal:
    return Decimal(token_count) * Decimal(str(usd_per_million)) / PER_MILLION


def concrete_qualities(model: Any) -> list[str]:
    return [quality for quality in model.qualities if quality != AUTO]


def resolve_size(model: Any, size: str) -> tuple[str, tuple[str, ...]]:
    """The "WxH" to price and the note saying so when it stood in for auto."""
    if size != AUTO:
        return size, ()
    resolved = model.default_size if model.default_size != AUTO else FALLBACK_SIZE
    return resolved, (f"Size auto is priced as {resolved}.",)


def output_tokens(model: Any, quality: str, size: str) -> int:
    """Tokens of one final image; a ValueError names what the catalog row lacks."""
    width, height = tokens.parse_size(size)
    try:
        return tokens.output_tokens_per_image(model.output_rule, quality, width, height)
    except (KeyError, TypeError) as error:
        raise ValueError(
            f"{model.model_id} has no output token count for quality {quality!r} at {size}; "
            "a table rule covers only its preset sizes (free sizes need the formula)."
        ) from error


def published_per_image_usd(model: Any, quality: str, size: str) -> Decimal | None:
    """The published list price of one image, when the catalog row carries one."""
    cell = (model.output_rule.get("per_image_usd") or {}).get(quality, {}).get(size)
    return None if cell is None else Decimal(str(cell))


def output_item(
    model: Any, quality: str, size: str, n: int, partials: int
) -> tuple[LineItem, int, bool]:
    """(n images' output, tokens of one image, whether a per-image price was used)."""
    per_image = output_tokens(model, quality, size)
    partial_tokens = tokens.PARTIAL_IMAGE_TOKENS * partials * n
    total_tokens = per_image * n + partial_tokens
    list_price = published_per_image_usd(model, quality, size)
    if list_price is None:
        return LineItem(total_tokens, price(total_tokens, model.price_image_out)), per_image, False
    # Some list prices (gpt-image-1-mini) do not follow from the token price: use them as given.
    cost = list_price * n + price(partial_tokens, model.price_image_out)
    return LineItem(total_tokens, cost), per_image, True


def references_item(
    model: Any, references: Sequence[tuple[int, int]], fidelity: str | None
) -> LineItem:
    fidelity = tokens.effective_fidelity(fidelity, model.input_fidelities)
    count = sum(tokens.input_image_tokens(w, h, fidelity) for w, h in references)
    return LineItem(count, price(count, model.price_image_in))


def estimate(model: Any, request: EstimateInput, quality: str) -> Estimate:
    """The cost of `request` at one concrete quality."""
    if quality == AUTO:
        raise ValueError("estimate() needs a concrete quality; use estimate_request() for auto.")
    size, notes = resolve_size(model, request.size)
    text_tokens = tokens.estimate_text_tokens(request.prompt)
    text_in = LineItem(text_tokens, price(text_tokens, model.price_text_in))
    images_in = references_item(model, request.references, request.input_fidelity)
    images_out, per_image, per_image_price = output_item(
        model, quality, size, request.n, request.partial_images
    )
    if request.prompt:
        notes = (TEXT_NOTE, *notes)
    if request.references:
        notes = (*notes, REFERENCE_NOTE)
    if per_image_price:
        notes = (*notes, PER_IMAGE_NOTE)
    return Estimate(
        quality=quality,
        size=size,
        n=request.n,
        text_in=text_in,
        images_in=images_in,
        images_out=images_out,
        output_tokens_per_image=per_image,
        per_image_price=per_image_price,
        total_usd=text_in.usd + images_in.usd + images_out.usd,
        notes=notes,
    )


def estimate_per_quality(model: Any, request: EstimateInput) -> list[Estimate]:
    """One estimate per concrete quality the model offers, in the model's order."""
    return [estimate(model, request, quality) for quality in concrete_qualities(model)]


def estimate_request(model: Any, request: EstimateInput) -> tuple[Estimate, Estimate]:
    """(low, high): the same twice for a concrete quality, a range for quality auto."""
    if request.quality != AUTO:
        single = estimate(model, request, request.quality)
        return single, single
    options = estimate_per_quality(model, request)
    if not options:
        raise ValueError(f"{model.model_id} offers no concrete quality to price auto with.")
    low = min(options, key=lambda option: option.total_usd)
    high = max(options, key=lambda option: option.total_usd)
    return with_note(low, AUTO_QUALITY_NOTE), with_note(high, AUTO_QUALITY_NOTE)


def with_note(result: Estimate, note: str) -> Estimate:
    return replace(result, notes=(*result.notes, note))


def actual_cost(model: Any, usage: dict[str, Any] | None) -> Decimal | None:
    """The cost of a finished job from the Images API `usage`, at the catalog's token prices."""
    if not usage:
        return None
    input_tokens = int(usage.get("input_tokens") or 0)
    details = usage.get("input_tokens_details") or {}
    if details:
        text_tokens = int(details.get("text_tokens") or 0)
        image_tokens = int(details.get("image_tokens") or 0)
    else:
        # Without the split, price every input token as text (the cheaper, usual case).
        text_tokens, image_tokens = input_tokens, 0
    output = int(usage.get("output_tokens") or 0)
    return (
        price(text_tokens, model.price_text_in)
        + price(image_tokens, model.price_image_in)
        + price(output, model.price_image_out)
    )


def display_places(value: Decimal) -> int:
    """Sub-cent amounts keep four places so they don't all read "$0.00"; dollars show cents."""
    if abs(value) < Decimal("0.01"):
        return 4
    return 3 if abs(value) < 1 else 2


def usd(value: Decimal) -> str:
    """Money for display: "$0.0059", "$0.042", "$1.25"; zero is "$0.00"."""
    if value == 0:
        return "$0.00"
    places = display_places(value)
    rounded = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    if display_places(rounded) != places:  # 0.99996 became 1.000: show it as $1.00
        places = display_places(rounded)
        rounded = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    if places == 3 and rounded == rounded.quantize(Decimal("0.01")):
        rounded = rounded.quantize(Decimal("0.01"))  # $0.50, not $0.500
    if rounded == 0:
        return "<$0.0001" if value > 0 else "$0.00"
    sign = "-" if rounded < 0 else ""
    return f"{sign}${abs(rounded)}"
