"""The account page for task callbacks: the signing secret, and recent deliveries."""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from playground.audit import log
from playground.webhooks.delivery import SIGNATURE_HEADER, TIMESTAMP_HEADER, max_attempts
from playground.webhooks.models import CallbackAttempt, CallbackDelivery, WebhookSecret
from playground.webhooks.secrets import new_webhook_secret

PAGE_SIZE = 20
BADGES = {
    CallbackDelivery.State.PENDING: "state-queued",
    CallbackDelivery.State.SCHEDULED: "state-running",
    CallbackDelivery.State.DELIVERED: "state-succeeded",
    CallbackDelivery.State.FAILED: "state-failed",
    CallbackDelivery.State.REFUSED: "state-failed",
}


def url_without_query(url: str) -> str:
    """Host and path only: a query string may carry the receiver's own token."""
    parts = urlsplit(url)
    return f"{parts.netloc.rpartition('@')[2]}{parts.path or '/'}"


def _page(request: HttpRequest, secret: str | None = None, status: int = 200) -> HttpResponse:
    attempts = CallbackAttempt.objects.order_by("number")
    deliveries = (
        CallbackDelivery.objects.filter(owner=request.user)
        .select_related("task")
        .prefetch_related(Prefetch("attempt_log", queryset=attempts))
        .order_by("-created_at", "-pk")
    )
    page = Paginator(deliveries, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {
            "delivery": delivery,
            "target": url_without_query(delivery.task.callback_url),
            "badge": BADGES.get(delivery.state, ""),
        }
        for delivery in page.object_list
    ]
    stored = WebhookSecret.objects.filter(owner=request.user).only("created_at").first()
    context = {
        "page": page,
        "rows": rows,
        "stored_secret": stored,
        "secret": secret,
        "timestamp_header": TIMESTAMP_HEADER,
        "signature_header": SIGNATURE_HEADER,
        "timeout": settings.CALLBACK_TIMEOUT_SECONDS,
        "max_attempts": max_attempts(),
    }
    return render(request, "webhooks/webhooks.html", context, status=status)


@never_cache
@login_required
@require_GET
def webhooks(request: HttpRequest) -> HttpResponse:
    return _page(request)


@never_cache
@login_required
@require_POST
def rotate_secret(request: HttpRequest) -> HttpResponse:
    """Make a new secret (the old one stops signing at once) and show it, this once."""
    secret = new_webhook_secret(request.user)
    stored = WebhookSecret.objects.get(owner=request.user)
    log.record("rotated", stored, request=request, details={"via": "account page"})
    # The secret is in this response only: never_cache keeps it out of any cache.
    return _page(request, secret=secret)
