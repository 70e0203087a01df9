from django import template

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
