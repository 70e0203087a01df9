"""Sign-in lockout after repeated failures (django-axes): the client's address, the answer
a locked-out client gets, and forgetting a user's own failures once they sign in."""

import math
from datetime import datetime
from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from ipware import get_client_ip

LOCKOUT_TEMPLATE = "registration/lockout.html"


def client_ip_address(request: HttpRequest) -> str | None:
    """The address failures are counted against.

    REMOTE_ADDR, unless PROXY_COUNT trusted reverse proxies stand in front: then the client is
    the PROXY_COUNT-th X-Forwarded-For entry from the right (each proxy appends the address it
    was called from). ipware's proxy count is the number of proxies *listed* in the header: the
    nearest proxy is REMOTE_ADDR, not an entry, hence one less. Entries further left are the
    client's own to write and are ignored.
    """
    remote_addr = request.META.get("REMOTE_ADDR")
    proxies = int(getattr(settings, "PROXY_COUNT", 0) or 0)
    if proxies <= 0:
        return remote_addr
    address, _routable = get_client_ip(
        request,
        proxy_count=proxies - 1,
        request_header_order=["HTTP_X_FORWARDED_FOR"],
        strict=False,
    )
    return address or remote_addr


def lockout_lifts_at(request: HttpRequest, credentials: dict[str, Any] | None) -> datetime | None:
    """When sign-in is possible again for this request: None without a cool-off.

    Failures are counted per username and per address over the cool-off window; a lock lifts
    once enough of its oldest failures have aged out of the window to drop below the limit.
    """
    cool_off = get_cool_off(request)
    if cool_off is None:
        return None
    limit = get_failure_limit(request, credentials)
    handler = AxesProxyHandler.get_implementation()
    lifts: list[datetime] = []
    for attempts in handler.get_user_attempts(request, credentials):
        rows = list(
            attempts.order_by("attempt_time").values_list("attempt_time", "failures_since_start")
        )
        remaining = sum(failures for _time, failures in rows)
        lifts_at = None
        for attempt_time, failures in rows:
            if remaining < limit:
                break
            remaining -= failures
            lifts_at = attempt_time + cool_off
        if lifts_at is not None:
            lifts.append(lifts_at)
    return max(lifts, default=None)


def lockout_response(request: HttpRequest, *_args: Any, **_kwargs: Any) -> HttpResponse:
    """429 with the time the lock lifts; the same page whether or not the account exists.

    Axes passes (request, response, credentials) under WSGI but (request, credentials) in the
    response's place under ASGI, so the credentials are read from the request, where axes left
    them in both cases.
    """
    credentials = getattr(request, "axes_credentials", None)
    lifts_at = lockout_lifts_at(request, credentials)
    context: dict[str, Any] = {"lifts_at": lifts_at, "minutes_left": None}
    response_headers = {}
    if lifts_at is not None:
        seconds_left = max(1.0, (lifts_at - timezone.now()).total_seconds())
        context["minutes_left"] = math.ceil(seconds_left / 60)
        response_headers["Retry-After"] = str(math.ceil(seconds_left))
    response = render(request, LOCKOUT_TEMPLATE, context, status=settings.AXES_HTTP_RESPONSE_CODE)
    for name, value in response_headers.items():
        response[name] = value
    return response


@receiver(user_logged_in, dispatch_uid="accounts.forget_own_failures")
def forget_own_failures(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """A successful sign-in clears that user's failures from this address, and only those.

    Not axes' own reset, which also clears every failure from the address: an attacker with
    an account of their own could then sign in between guesses at someone else's password and
    never reach the limit.
    """
    if request is None:
        return
    AxesProxyHandler.update_request(request)
    AccessAttempt.objects.filter(
        username=user.get_username(), ip_address=request.axes_ip_address
    ).delete()
