"""The account page for one's own API keys, and `GET /api/v1/me` for programs."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from playground.apikeys.auth import ApiKeyError, authenticate_api_request
from playground.apikeys.forms import ApiKeyForm
from playground.apikeys.models import ApiKey
from playground.apikeys.spend import key_spend, total_spend_subquery
from playground.audit import log


def _get_key_for_user(request: HttpRequest, pk: int) -> ApiKey:
    """The signed-in user's own key; 404 for anyone else's."""
    return get_object_or_404(ApiKey, pk=pk, owner=request.user)


def _money(value: object) -> str | None:
    return None if value is None else str(value)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def api_keys(request: HttpRequest) -> HttpResponse:
    form = ApiKeyForm(request.POST or None)
    secret = None
    created = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            fields = {f: v for f, v in form.cleaned_data.items() if f != "name"}
            created, secret = ApiKey.issue(
                request.user, form.cleaned_data["name"], created_by=request.user, **fields
            )
            log.record("created", created, request=request, details={"via": "account page"})
            form = ApiKeyForm()
        else:
            status = 422
    keys = ApiKey.objects.filter(owner=request.user).annotate(spent=total_spend_subquery())
    context = {"keys": keys, "form": form, "secret": secret, "created": created}
    # The secret is in this response only: never_cache keeps it out of any cache.
    return render(request, "apikeys/api_keys.html", context, status=status)


@login_required
@require_POST
def revoke_api_key(request: HttpRequest, pk: int) -> HttpResponse:
    key = _get_key_for_user(request, pk)
    if key.revoke():
        log.record("revoked", key, request=request, details={"via": "account page"})
    return redirect("api-keys")


def _error(error: ApiKeyError) -> JsonResponse:
    return error.response()


@csrf_exempt
@require_GET
def me(request: HttpRequest) -> JsonResponse:
    try:
        key = authenticate_api_request(request)
    except ApiKeyError as error:
        return _error(error)
    spend = key_spend(key)
    return JsonResponse(
        {
            "user": key.owner.get_username(),
            "key": {
                "name": key.name,
                "prefix": key.prefix,
                "created_at": key.created_at.isoformat(),
                "last_used_at": key.last_used_at.isoformat() if key.last_used_at else None,
            },
            "caps": {
                "usd_per_hour": _money(key.cap_usd_per_hour),
                "usd_per_day": _money(key.cap_usd_per_day),
                "usd_total": _money(key.cap_usd_total),
                "allowed_networks": [str(net) for net in key.networks()],
            },
            "spend": {window: str(value) for window, value in spend.as_dict().items()},
        }
    )
