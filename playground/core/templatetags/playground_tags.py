from decimal import Decimal

from django import template

from playground.generations.forms import LABELS
from playground.pricing.estimate import usd as format_usd

register = template.Library()


@register.filter
def duration(seconds: float | None) -> str:
    """12.3 s, 2 min 05 s."""
    if seconds is None:
        return "\u2013"  # an en dash
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest:02d} s"


@register.filter
def get_item(mapping: dict, key: str) -> object:
    return mapping.get(key) if isinstance(mapping, dict) else None


@register.filter
def usd(value: Decimal | None) -> str:
    """$0.042; an empty string for no value."""
    return "" if value is None else format_usd(Decimal(value))


@register.filter
def per_image(total: Decimal, n: int) -> Decimal:
    return Decimal(total) / max(1, int(n))


@register.filter
def quality_label(quality: str) -> str:
    return LABELS.get(quality, quality)
