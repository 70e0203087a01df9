"""The estimator against the reference figures (pure: unsaved catalog rows, no database)."""

from decimal import Decimal

import pytest

from playground.catalog.models import ImageModel
from playground.catalog.seed import catalog_fields, reference_models
from playground.pricing.estimate import (
    EstimateInput,
    LineItem,
    actual_cost,
    estimate,
    estimate_per_quality,
    estimate_request,
    usd,
)

TENTH_OF_A_CENT = Decimal("0.001")
SIZES = ("1024x1024", "1024x1536", "1536x1024")

# Published per-image list prices (output only), copied from the reference, not from the seed.
PUBLISHED = {
    "gpt-image-1": {
        "low": ("0.011", "0.016", "0.016"),
        "medium": ("0.042", "0.063", "0.063"),
        "high": ("0.167", "0.25", "0.25"),
    },
    "gpt-image-1-mini": {
        "low": ("0.005", "0.006", "0.006"),
        "medium": ("0.011", "0.015", "0.015"),
        "high": ("0.036", "0.052", "0.052"),
    },
    "gpt-image-1.5": {"high": ("0.133", "0.20", "0.20")},
    "gpt-image-2": {
        "low": ("0.006", "0.005", "0.005"),
        "medium": ("0.053", "0.041", "0.041"),
        "high": ("0.211", "0.165", "0.165"),
    },
}
PUBLISHED_CASES = [
    (model_id, quality, size, Decimal(price))
    for model_id, rows in PUBLISHED.items()
    for quality, prices in rows.items()
    for size, price in zip(SIZES, prices, strict=True)
]


def catalog_row(model_id: str) -> ImageModel:
    spec = next(spec for spec in reference_models() if spec["id"] == model_id)
    return ImageModel(model_id=model_id, **catalog_fields(spec))


def output_only(size: str = "1024x1024", quality: str = "medium", **more: object) -> EstimateInput:
    return EstimateInput(prompt="", size=size, quality=quality, **more)  # type: ignore[arg-type]


@pytest.mark.parametrize(("model_id", "quality", "size", "published"), PUBLISHED_CASES)
def test_it_reproduces_every_published_per_image_price(
    model_id: str, quality: str, size: str, published: Decimal
) -> None:
    result = estimate(catalog_row(model_id), output_only(size, quality), quality)

    assert abs(result.total_usd - published) <= TENTH_OF_A_CENT
    assert result.total_usd == result.images_out.usd
    assert result.text_in.tokens == result.images_in.tokens == 0


def test_it_uses_the_published_per_image_price_where_tokens_disagree() -> None:
    mini = catalog_row("gpt-image-1-mini")

    result = estimate(mini, output_only("1024x1024", "high"), "high")

    # 4160 tokens x $8/M would be $0.033; the list price is $0.036.
    assert result.per_image_price is True
    assert result.images_out == LineItem(4160, Decimal("0.036"))
    assert "Output uses the published per-image price of this model." in result.notes


def test_it_prices_token_rules_with_full_precision() -> None:
    result = estimate(catalog_row("gpt-image-2"), output_only("1024x1024", "high"), "high")

    assert result.per_image_price is False
    assert result.images_out.usd == Decimal("0.21072")
    assert result.total_usd == Decimal("0.21072")


@pytest.mark.parametrize(
    ("size", "quality", "tokens"),
    [
        ("1024x1024", "low", 196),
        ("1024x1024", "medium", 1756),
        ("1024x1024", "high", 7024),
        ("1536x1024", "low", 158),
        ("1536x1024", "medium", 1372),
        ("1536x1024", "high", 5488),
        ("2048x2048", "high", 14272),
        ("3840x2160", "high", 13342),
        ("2560x1440", "high", 7370),
        ("1024x640", "high", 3824),
    ],
)
def test_it_matches_the_gpt_image_2_check_values_exactly(
    size: str, quality: str, tokens: int
) -> None:
    result = estimate(catalog_row("gpt-image-2"), output_only(size, quality), quality)

    assert result.output_tokens_per_image == tokens
    assert result.images_out.tokens == tokens
    assert result.images_out.usd == Decimal(tokens) * 30 / 1_000_000


def test_it_multiplies_the_output_by_n() -> None:
    model = catalog_row("gpt-image-2")
    one = estimate(model, output_only(n=1), "medium")

    three = estimate(model, output_only(n=3), "medium")

    assert three.n == 3
    assert three.output_tokens_per_image == one.output_tokens_per_image == 1756
    assert three.images_out == LineItem(3 * 1756, 3 * one.images_out.usd)


def test_it_multiplies_a_per_image_price_by_n() -> None:
    result = estimate(catalog_row("gpt-image-1-mini"), output_only(n=4), "medium")

    assert result.images_out.usd == Decimal("0.044")


def test_it_adds_100_tokens_per_partial_image_per_image() -> None:
    result = estimate(catalog_row("gpt-image-2"), output_only(n=2, partial_images=3), "low")

    assert result.output_tokens_per_image == 196
    assert result.images_out.tokens == 2 * (196 + 3 * 100)
    assert result.images_out.usd == Decimal(2 * (196 + 300)) * 30 / 1_000_000


def test_it_prices_partial_images_at_the_token_price_beside_a_per_image_price() -> None:
    result = estimate(catalog_row("gpt-image-1-mini"), output_only(n=2, partial_images=2), "low")

    partial_tokens = 2 * 2 * 100
    assert result.images_out.tokens == 2 * 272 + partial_tokens
    assert result.images_out.usd == 2 * Decimal("0.005") + Decimal(partial_tokens) * 8 / 1_000_000


def test_it_counts_a_low_fidelity_square_reference_as_one_tile() -> None:
    request = output_only(references=((1024, 1024),))

    result = estimate(catalog_row("gpt-image-1.5"), request, "medium")

    assert result.images_in == LineItem(194, Decimal(194) * 8 / 1_000_000)
    assert result.total_usd == result.images_in.usd + result.images_out.usd
    assert (
        "Reference image tokens follow the gpt-image-1 tile rule; "
        "the actual count comes back after the job." in result.notes
    )


def test_it_adds_the_high_fidelity_surcharge_per_reference_shape() -> None:
    model = catalog_row("gpt-image-1")
    square, portrait = (1024, 1024), (1024, 1536)

    low = estimate(model, output_only(references=(square, portrait)), "low")
    high = estimate(model, output_only(references=(square, portrait), input_fidelity="high"), "low")

    # The portrait is 512x768 after scaling: 1 x 2 tiles.
    assert low.images_in.tokens == 194 + (65 + 129 * 2)
    assert high.images_in.tokens == low.images_in.tokens + 4160 + 6240
    assert high.images_in.usd == Decimal(high.images_in.tokens) * 10 / 1_000_000


def test_it_treats_an_empty_fidelity_as_low() -> None:
    model = catalog_row("gpt-image-2")
    references = ((1536, 1024),)

    unset = estimate(model, output_only(references=references), "low")
    empty = estimate(model, output_only(references=references, input_fidelity=""), "low")
    low = estimate(model, output_only(references=references, input_fidelity="low"), "low")

    assert unset.images_in == empty.images_in == low.images_in


def test_it_estimates_prompt_tokens_at_four_characters_each() -> None:
    request = EstimateInput(prompt="x" * 41, size="1024x1024", quality="low")

    result = estimate(catalog_row("gpt-image-2"), request, "low")

    assert result.text_in == LineItem(11, Decimal(11) * 5 / 1_000_000)
    assert "Prompt tokens are estimated (about 4 characters per token)." in result.notes
    assert result.total_usd == result.text_in.usd + result.images_out.usd


def test_it_gives_a_range_for_auto_quality() -> None:
    model = catalog_row("gpt-image-2")

    low, high = estimate_request(model, output_only(quality="auto"))

    assert (low.quality, high.quality) == ("low", "high")
    assert (low.output_tokens_per_image, high.output_tokens_per_image) == (196, 7024)
    assert low.total_usd < high.total_usd
    assert any("Quality auto" in note for note in low.notes + high.notes)


def test_it_gives_the_same_estimate_twice_for_a_concrete_quality() -> None:
    low, high = estimate_request(catalog_row("gpt-image-2"), output_only(quality="medium"))

    assert low == high
    assert low.quality == "medium"


def test_it_estimates_every_concrete_quality_in_the_model_order() -> None:
    results = estimate_per_quality(catalog_row("gpt-image-2.5-flare"), output_only())

    assert [result.quality for result in results] == ["low", "medium", "high", "xhigh", "max"]


def test_it_prices_auto_size_as_the_default_size_and_says_so() -> None:
    result = estimate(catalog_row("gpt-image-2"), output_only(size="auto"), "high")

    assert result.size == "1024x1024"
    assert result.output_tokens_per_image == 7024
    assert "Size auto is priced as 1024x1024." in result.notes


def test_it_refuses_a_free_size_a_table_rule_cannot_price() -> None:
    with pytest.raises(ValueError, match=r"no output token count for quality 'high' at 2048x2048"):
        estimate(catalog_row("gpt-image-1.5"), output_only("2048x2048", "high"), "high")


def test_it_refuses_auto_as_the_quality_of_a_single_estimate() -> None:
    with pytest.raises(ValueError, match="concrete quality"):
        estimate(catalog_row("gpt-image-2"), output_only(quality="auto"), "auto")


def test_it_prices_actual_usage_by_token_kind() -> None:
    usage = {
        "input_tokens": 244,
        "input_tokens_details": {"text_tokens": 50, "image_tokens": 194},
        "output_tokens": 4160,
        "total_tokens": 4404,
    }

    cost = actual_cost(catalog_row("gpt-image-1.5"), usage)

    assert cost == (Decimal(50) * 5 + Decimal(194) * 8 + Decimal(4160) * 32) / 1_000_000


def test_it_prices_all_input_as_text_without_details() -> None:
    usage = {"input_tokens": 120, "output_tokens": 196, "total_tokens": 316}

    cost = actual_cost(catalog_row("gpt-image-2"), usage)

    assert cost == (Decimal(120) * 5 + Decimal(196) * 30) / 1_000_000


@pytest.mark.parametrize("usage", [None, {}])
def test_it_has_no_actual_cost_without_usage(usage: dict | None) -> None:
    assert actual_cost(catalog_row("gpt-image-2"), usage) is None


def test_it_agrees_with_the_actual_cost_when_the_usage_matches_the_estimate() -> None:
    model = catalog_row("gpt-image-2")
    request = EstimateInput(
        prompt="A lighthouse at dusk, oil painting",
        size="1536x1024",
        quality="high",
        n=2,
        partial_images=1,
        references=((1024, 1024),),
    )
    result = estimate(model, request, "high")
    usage = {
        "input_tokens": result.text_in.tokens + result.images_in.tokens,
        "input_tokens_details": {
            "text_tokens": result.text_in.tokens,
            "image_tokens": result.images_in.tokens,
        },
        "output_tokens": result.images_out.tokens,
    }

    assert actual_cost(model, usage) == result.total_usd


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        ("0", "$0.00"),
        ("0.00588", "$0.0059"),
        ("0.0059", "$0.0059"),
        ("0.042", "$0.042"),
        ("0.21072", "$0.211"),
        ("0.99996", "$1.00"),
        ("1.25", "$1.25"),
        ("12.345", "$12.35"),
    ],
)
def test_it_formats_usd_for_display(amount: str, shown: str) -> None:
    assert usd(Decimal(amount)) == shown
