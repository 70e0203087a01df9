"""The admin's form for a catalog row: refuse what the playground could not price or offer.

The JSON fields arrive as whatever the admin typed (Django's JSONField form field parses
them), so every check first makes sure of the shape and names the field that is wrong.
"""

import json
import math
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms

from playground.catalog import tokens
from playground.catalog.models import ImageModel, ModelAlias, free_size_error

AUTO = "auto"
QUALITIES = ("low", "medium", "high", "xhigh", "max", AUTO)
OUTPUT_FORMATS = ("png", "jpeg", "webp")
BACKGROUNDS = (AUTO, "opaque", "transparent")
INPUT_FIDELITIES = ("low", "high")
MODERATIONS = (AUTO, "low")
MAX_N = 10
FREE_SIZE_INTEGERS = ("multiple", "max_edge", "min_pixels", "max_pixels")
FREE_SIZE_KEYS = (*FREE_SIZE_INTEGERS, "max_aspect")
IDENTITY_FIELDS = ("model_id", "label", "status", "sort_order")
PARAMETER_FIELDS = (
    "sizes",
    "free_size",
    "default_size",
    "qualities",
    "default_quality",
    "output_formats",
    "backgrounds",
    "input_fidelities",
    "moderations",
    "supports_streaming",
    "supports_edits",
    "max_n",
)
PRICE_FIELDS = ("price_text_in", "price_image_in", "price_image_out")
RULE_KINDS = ("table", "formula")


def words(options: tuple[str, ...]) -> str:
    """('a', 'b', 'c') -> 'a, b or c'."""
    return ", ".join(options[:-1]) + f" or {options[-1]}" if len(options) > 1 else options[0]


def is_positive_int(value: Any) -> bool:
    # JSON true is an int to Python; a token count never is.
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def is_positive_number(value: Any) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


def string_list(value: Any, what: str, example: list[str]) -> list[str]:
    """The value as a list of distinct strings, or a ValidationError saying what is wrong."""
    if not isinstance(value, list):
        raise forms.ValidationError(f"Enter a list of {what}, such as {json.dumps(example)}.")
    if not all(isinstance(item, str) for item in value):
        raise forms.ValidationError(f"Each of the {what} must be a string in quotes.")
    duplicates = sorted({item for item in value if value.count(item) > 1})
    if duplicates:
        raise forms.ValidationError(f"Listed twice: {', '.join(duplicates)}.")
    return value


def choices_list(value: Any, allowed: tuple[str, ...], what: str, *, required: bool) -> list[str]:
    items = string_list(value if value is not None else [], what, list(allowed[:2]))
    if required and not items:
        raise forms.ValidationError(f"List at least one of {words(allowed)}.")
    unknown = [item for item in items if item not in allowed]
    if unknown:
        raise forms.ValidationError(f"Unknown {what}: {', '.join(unknown)}. Use {words(allowed)}.")
    return items


def size_problem(size: str) -> str | None:
    if size == AUTO:
        return None
    try:
        width, height = tokens.parse_size(size)
    except ValueError:
        width = height = 0
    # Only the canonical spelling: the catalog matches sizes as exact strings.
    if width > 0 and height > 0 and size == f"{width}x{height}":
        return None
    return f"{size!r} is not a size: use WIDTHxHEIGHT in pixels, such as 1536x1024, or auto."


def decimal_problem(value: Any) -> str | None:
    """Why a per-image price cell is not a non-negative amount, or None."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return 'must be an amount in USD, such as "0.011"'
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return 'must be an amount in USD, such as "0.011"'
    if not amount.is_finite() or amount < 0:
        return "must be zero or more"
    return None


class ImageModelAdminForm(forms.ModelForm):
    class Meta:
        model = ImageModel
        fields = (
            *IDENTITY_FIELDS,
            *PARAMETER_FIELDS,
            *PRICE_FIELDS,
            "output_rule",
        )

    # Field by field: shapes and allowed values.

    def clean_model_id(self) -> str:
        model_id = self.cleaned_data["model_id"]
        if ModelAlias.objects.filter(alias=model_id).exists():
            raise forms.ValidationError(
                "A model alias already has this id: a catalog model needs an id of its own."
            )
        return model_id

    def clean_sizes(self) -> list[str]:
        sizes = string_list(self.cleaned_data.get("sizes"), "sizes", ["1024x1024", AUTO])
        if not sizes:
            raise forms.ValidationError("List at least one size, such as 1024x1024.")
        problems = [problem for problem in map(size_problem, sizes) if problem]
        if problems:
            raise forms.ValidationError(problems)
        if sizes == [AUTO]:
            raise forms.ValidationError("List at least one WIDTHxHEIGHT size besides auto.")
        return sizes

    def clean_qualities(self) -> list[str]:
        qualities = choices_list(
            self.cleaned_data.get("qualities"), QUALITIES, "qualities", required=True
        )
        if qualities == [AUTO]:
            # auto is priced as a range over the concrete qualities, so it needs some.
            raise forms.ValidationError("List at least one quality besides auto.")
        return qualities

    def clean_output_formats(self) -> list[str]:
        value = self.cleaned_data.get("output_formats")
        return choices_list(value, OUTPUT_FORMATS, "output formats", required=True)

    def clean_backgrounds(self) -> list[str]:
        value = self.cleaned_data.get("backgrounds")
        return choices_list(value, BACKGROUNDS, "backgrounds", required=True)

    def clean_input_fidelities(self) -> list[str]:
        value = self.cleaned_data.get("input_fidelities")
        return choices_list(value, INPUT_FIDELITIES, "input fidelities", required=False)

    def clean_moderations(self) -> list[str]:
        value = self.cleaned_data.get("moderations")
        return choices_list(value, MODERATIONS, "moderations", required=True)

    def clean_max_n(self) -> int:
        max_n = self.cleaned_data["max_n"]
        if not 1 <= max_n <= MAX_N:
            raise forms.ValidationError(f"The API takes 1 to {MAX_N} images per request.")
        return max_n

    def clean_free_size(self) -> dict[str, Any] | None:
        rule = self.cleaned_data.get("free_size")
        if rule in (None, {}):
            return None  # only the preset sizes
        if not isinstance(rule, dict):
            raise forms.ValidationError(
                "Leave empty, or enter an object such as "
                '{"multiple": 16, "max_edge": 3840, "min_pixels": 655360, '
                '"max_pixels": 8294400, "max_aspect": 3}.'
            )
        unknown = sorted(set(rule) - set(FREE_SIZE_KEYS))
        if unknown:
            raise forms.ValidationError(
                f"Unknown key {', '.join(unknown)}: use {words(FREE_SIZE_KEYS)}."
            )
        problems = [
            f"{key} must be a whole number above 0."
            for key in FREE_SIZE_INTEGERS
            if key in rule and not is_positive_int(rule[key])
        ]
        aspect = rule.get("max_aspect", 3)
        if not is_positive_number(aspect):
            problems.append("max_aspect must be a number above 0, such as 3 for 3:1.")
        if problems:
            raise forms.ValidationError(problems)
        if rule.get("min_pixels", 0) > rule.get("max_pixels", 10**9):
            raise forms.ValidationError("min_pixels cannot be above max_pixels.")
        return rule

    def clean_price_text_in(self) -> Decimal:
        return self.clean_price("price_text_in")

    def clean_price_image_in(self) -> Decimal:
        return self.clean_price("price_image_in")

    def clean_price_image_out(self) -> Decimal:
        return self.clean_price("price_image_out")

    def clean_price(self, name: str) -> Decimal:
        amount = self.cleaned_data.get(name)
        if amount is None:
            raise forms.ValidationError("Enter a price in USD per 1M tokens (0 or more).")
        if amount < 0:
            raise forms.ValidationError("A price cannot be negative.")
        return amount

    # Across fields: defaults offered, output rule covering what is offered.

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        self.check_default_size(cleaned)
        self.check_default_quality(cleaned)
        self.check_output_rule(cleaned)
        return cleaned

    def check_default_size(self, cleaned: dict[str, Any]) -> None:
        sizes, default = cleaned.get("sizes"), cleaned.get("default_size")
        if sizes is None or not default or default in sizes or "free_size" in self.errors:
            return
        free_size = cleaned.get("free_size")
        reason = None
        if free_size and default != AUTO:
            reason = free_size_error(free_size, default)
            if reason is None:
                return  # a free size the model takes
        self.add_error(
            "default_size", reason or f"Pick one of the sizes offered: {', '.join(sizes)}."
        )

    def check_default_quality(self, cleaned: dict[str, Any]) -> None:
        qualities, default = cleaned.get("qualities"), cleaned.get("default_quality")
        if qualities is not None and default and default not in qualities:
            self.add_error(
                "default_quality", f"Pick one of the qualities offered: {', '.join(qualities)}."
            )

    def check_output_rule(self, cleaned: dict[str, Any]) -> None:
        rule = cleaned.get("output_rule")
        if rule is None or "output_rule" in self.errors:
            return
        for problem in output_rule_problems(
            rule,
            qualities=cleaned.get("qualities"),
            sizes=cleaned.get("sizes"),
            free_size=cleaned.get("free_size"),
        ):
            self.add_error("output_rule", problem)


def output_rule_problems(
    rule: Any, *, qualities: list[str] | None, sizes: list[str] | None, free_size: Any
) -> list[str]:
    """Why the rule cannot price every quality x size offered (empty when it can).

    qualities / sizes are None when their own fields are invalid: the cells then go unchecked.
    """
    if not isinstance(rule, dict):
        return ['Enter an object such as {"kind": "formula", "factors": {"low": 16}}.']
    kind = rule.get("kind")
    if kind not in RULE_KINDS:
        return [f"Unknown output rule kind {kind!r}: use table or formula."]
    concrete = [quality for quality in qualities or [] if quality != AUTO]
    presets = [size for size in sizes or [] if size != AUTO]
    if kind == "table":
        problems = table_problems(rule.get("table"), concrete, presets)
        if free_size:
            problems.insert(0, "A table rule cannot price free sizes: use the formula kind.")
    else:
        problems = factor_problems(rule.get("factors"), concrete)
    return problems + per_image_problems(rule.get("per_image_usd"))


def table_problems(table: Any, qualities: list[str], sizes: list[str]) -> list[str]:
    if not isinstance(table, dict):
        return ['A table rule needs "table": {quality: {"WxH": tokens}}.']
    problems = []
    for quality in qualities:
        row = table.get(quality)
        for size in sizes:
            cell = row.get(size) if isinstance(row, dict) else None
            if cell is None:
                problems.append(f"Missing token count for quality {quality!r} at {size}.")
            elif not is_positive_int(cell):
                problems.append(
                    f"The token count for quality {quality!r} at {size} must be a whole "
                    f"number above 0 ({cell!r} given)."
                )
    return problems


def factor_problems(factors: Any, qualities: list[str]) -> list[str]:
    if not isinstance(factors, dict):
        return ['A formula rule needs "factors": {quality: factor}.']
    problems = []
    for quality in qualities:
        factor = factors.get(quality)
        if factor is None:
            problems.append(f"Missing formula factor for quality {quality!r}.")
        elif not is_positive_int(factor):
            problems.append(
                f"The formula factor for quality {quality!r} must be a whole number above 0 "
                f"({factor!r} given)."
            )
    return problems


def per_image_problems(prices: Any) -> list[str]:
    """Optional published per-image prices: {quality: {"WxH": "0.011"}}."""
    if prices is None:
        return []
    if not isinstance(prices, dict) or not all(isinstance(row, dict) for row in prices.values()):
        return ['per_image_usd must look like {"low": {"1024x1024": "0.011"}}.']
    return [
        f"The per-image price for quality {quality!r} at {size} {problem} ({cell!r} given)."
        for quality, row in prices.items()
        for size, cell in row.items()
        if (problem := decimal_problem(cell))
    ]
