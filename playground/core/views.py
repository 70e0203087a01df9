from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 once the app can serve: the database answers and every enabled provider's key
    can be decrypted; 503 naming what is wrong otherwise."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    if unreadable := _unreadable_providers():
        # Jobs would fail: a key that SECRET_KEY can no longer decrypt must be entered again.
        detail = f"key cannot be decrypted: {', '.join(unreadable)}"
        return JsonResponse({"status": "error", "providers": detail}, status=503)
    return JsonResponse({"status": "ok"})


def _unreadable_providers() -> list[str]:
    from playground.providers.models import Provider

    stored = Provider.objects.enabled().exclude(api_key_encrypted="")
    return [provider.name for provider in stored if provider.key_unreadable]
