from typing import Any

from django.http import HttpRequest

from playground.providers.models import Provider


def offline_mode(request: HttpRequest) -> dict[str, Any]:
    """True while jobs go to the bundled offline stand-in instead of a real provider."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    provider = Provider.objects.default()
    return {"offline_mode": provider is None or provider.is_offline}
