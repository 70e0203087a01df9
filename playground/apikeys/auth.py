"""Authenticating a program by `Authorization: Bearer <key>`: revocation, allow-list, caps."""

from datetime import timedelta
from decimal import Decimal

from django.http import HttpRequest
from django.utils import timezone

from playground.apikeys.models import KEY_PREFIX, PREFIX_LENGTH, ApiKey
from playground.apikeys.spend import WINDOWS, frees_up_in, key_spend
from playground.audit.log import client_address
from playground.core.errors import ApiError
from playground.pricing.estimate import usd

# Writing last-used on every request would make each API call a write; once a minute is enough.
LAST_USED_EVERY = timedelta(minutes=1)
CAP_NAMES = {"hour": "hourly", "day": "daily", "total": "total"}
# One message for an unknown and a revoked key, so a caller cannot tell which keys exist.
INVALID_KEY = (
    "Invalid API key: it is unknown or has been revoked. Create a new key on your account page."
)


class ApiKeyError(ApiError):
    """A request refused for its key: none given, unknown, revoked, used from an address its
    allow-list does not hold, or over one of its spend caps (429 insufficient_quota)."""


def _bearer_token(request: HttpRequest) -> str:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not header.strip():
        raise ApiKeyError(
            401,
            "No API key given. Send it in an Authorization header: 'Authorization: Bearer "
            f"{KEY_PREFIX}…'.",
            code="missing_api_key",
        )
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise ApiKeyError(
            401,
            "Malformed Authorization header: expected 'Bearer ' followed by the API key.",
            code="invalid_authorization_header",
        )
    return token


def find_key(secret: str) -> ApiKey | None:
    """The active key this secret belongs to, or None."""
    if len(secret) <= PREFIX_LENGTH or not secret.startswith(KEY_PREFIX):
        return None
    for key in (
        ApiKey.objects.active().filter(prefix=secret[:PREFIX_LENGTH]).select_related("owner")
    ):
        if key.matches(secret):
            return key
    return None


def check_key_caps(key: ApiKey, estimate_usd: Decimal = Decimal(0)) -> None:
    """Refuse (429) when the key has reached a cap, or when a request that may cost
    `estimate_usd` would take it past one. Hour and day caps are rolling windows."""
    caps = key.caps()
    if all(cap is None for cap in caps.values()):
        return
    now = timezone.now()
    spent = key_spend(key, now).as_dict()
    for window, cap in caps.items():
        if cap is None:
            continue
        over = spent[window] >= cap if estimate_usd <= 0 else spent[window] + estimate_usd > cap
        if not over:
            continue
        name = CAP_NAMES[window]
        what = (
            f"This key has reached its {name} cap of {usd(cap)} ({usd(spent[window])} spent"
            if estimate_usd <= 0
            else f"This request could cost up to {usd(estimate_usd)}, which would take this key "
            f"past its {name} cap of {usd(cap)} ({usd(spent[window])} spent"
        )
        length = WINDOWS[window]
        if length is None:
            raise ApiKeyError(
                429,
                f"{what} in total). The total cap does not free up: ask an admin to raise it, "
                "or use another key.",
                code="insufficient_quota",
                error_type="insufficient_quota",
            )
        wait = frees_up_in(key, length, cap, max(estimate_usd, Decimal(0)), now)
        span = "hour" if window == "hour" else "24 hours"
        raise ApiKeyError(
            429,
            f"{what} in the last {span}). It frees up in {_duration(wait)}.",
            code="insufficient_quota",
            error_type="insufficient_quota",
            retry_after=wait,
        )


def _duration(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} seconds"
    minutes = -(-seconds // 60)
    if minutes < 120:
        return f"{minutes} minutes"
    return f"{minutes // 60} hours {minutes % 60} minutes"


def _note_use(key: ApiKey, address: str | None) -> None:
    now = timezone.now()
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_EVERY:
        return
    # Conditional UPDATE: concurrent requests of the same minute write once between them.
    updated = (
        ApiKey.objects.filter(pk=key.pk)
        .exclude(last_used_at__gte=now - LAST_USED_EVERY)
        .update(last_used_at=now, last_used_ip=address)
    )
    if updated:
        key.last_used_at, key.last_used_ip = now, address


def authenticate_api_request(request: HttpRequest, *, param: str | None = None) -> ApiKey:
    """The key a request is made with; ApiKeyError (401 or 403) when it may not be used. Its
    spend caps are checked once, when a job is queued (queue_generation): a key at its cap
    still reads the records and results it paid for. `param` names the field a refusal is
    about (Kie's envelopes name the `Authorization` header)."""
    try:
        return _authenticated_key(request)
    except ApiKeyError as error:
        error.param = param
        raise


def _authenticated_key(request: HttpRequest) -> ApiKey:
    key = find_key(_bearer_token(request))
    if key is None:
        raise ApiKeyError(401, INVALID_KEY, code="invalid_api_key")
    address = client_address(request)
    if not key.allows(address):
        raise ApiKeyError(
            403,
            f"This API key may not be used from {address or 'an unknown address'}: the address "
            "is not in the key's allow-list. Use it from an allowed network, or change the list.",
            code="address_not_allowed",
        )
    _note_use(key, address)
    return key
