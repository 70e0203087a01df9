"""Request rate limits of the API, per API key and per user, in fixed windows.

`check_rate(key, kind)` counts one request and returns a `RateStatus`, or raises `RateLimited`
when a limit is reached. Call it right after the key is authenticated, before anything is
queued: a refused request is not counted, so it uses up nothing in this window or a later one.
`kind` is "queue" for a request that queues a job (`/v1/images/generations`,
`/v1/images/edits`, `createTask`), limited per key and per user (all of the user's keys
together), or "read" for one that only reads (`recordInfo`), limited per key.

The limits are settings in the form "N/second", "N/minute" or "N/hour"; "0" or "" turns one
off. `parse_rate` checks them when the settings load, so a bad value stops the process at
startup with a message naming the setting.

`RateLimited` is an `ApiError` (429, code `rate_limit_exceeded`, with Retry-After and the
x-ratelimit-* headers), so each API renders it in its own envelope; on success the response
carries `status.headers()`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from playground.core.errors import ApiError

if TYPE_CHECKING:
    from playground.apikeys.models import ApiKey

# Counters live in the database: with several web processes and no shared cache, a row UPDATE
# is atomic everywhere, where Django's DatabaseCache increments by a get and a set that race.
PERIODS = {"second": 1, "minute": 60, "hour": 3600}
LONGEST_PERIOD = timedelta(seconds=max(PERIODS.values()))
KINDS = ("queue", "read")
FORGET_BATCH = 1000
FORGET_BATCHES = 10  # per recovery round of the worker
_RATE = re.compile(r"(\d+)\s*/\s*([a-z]+)")


@dataclass(frozen=True)
class Rate:
    limit: int
    period: int  # seconds
    unit: str

    def __str__(self) -> str:
        return f"{self.limit} requests per {self.unit}"


def parse_rate(setting: str, value: str | None) -> Rate | None:
    """The rate a setting's value gives, None for no limit; ImproperlyConfigured naming the
    setting for anything else."""
    text = (value or "").strip().lower()
    if text in ("", "0"):
        return None
    match = _RATE.fullmatch(text)
    if match is None or match.group(2) not in PERIODS or int(match.group(1)) < 1:
        raise ImproperlyConfigured(
            f"{setting}={value!r} is not a rate limit: use N/second, N/minute or N/hour with "
            "N at least 1 (for example 60/minute), or 0 or nothing for no limit."
        )
    unit = match.group(2)
    return Rate(int(match.group(1)), PERIODS[unit], unit)


@dataclass(frozen=True)
class RateStatus:
    """The limit nearest to being reached after this request: what OpenAI's headers tell."""

    limit: int | None = None
    remaining: int | None = None
    reset_seconds: float = 0.0

    def headers(self) -> dict[str, str]:
        """`x-ratelimit-*-requests`; none when no limit applies."""
        if self.limit is None or self.remaining is None:
            return {}
        return {
            "x-ratelimit-limit-requests": str(self.limit),
            "x-ratelimit-remaining-requests": str(self.remaining),
            "x-ratelimit-reset-requests": _reset_text(self.reset_seconds),
        }


class RateLimited(ApiError):
    """A limit was reached; the request was not counted and must not queue anything. A 429
    with Retry-After and the x-ratelimit-* headers, in whichever envelope the API uses."""

    def __init__(self, retry_after_seconds: int, limit: int, scope: str, rate: Rate) -> None:
        self.retry_after_seconds = retry_after_seconds
        self.limit = limit
        self.scope = scope  # "key" or "user"
        self.rate = rate
        whose = "this API key" if scope == "key" else "your account (all of its API keys together)"
        super().__init__(
            429,
            f"Rate limit reached for requests: {whose} may make {rate} (per-{scope} limit). "
            f"Try again in {_seconds_text(retry_after_seconds)}.",
            code="rate_limit_exceeded",
            error_type="requests",
            retry_after=retry_after_seconds,
            headers=self.status().headers(),
        )

    def status(self) -> RateStatus:
        return RateStatus(self.limit, 0, float(self.retry_after_seconds))


@dataclass(frozen=True)
class _Limit:
    scope: str
    counter: str
    rate: Rate


def _limits(key: ApiKey, kind: str) -> list[_Limit]:
    """The limits a request of this kind counts against, per key before per user: every
    request locks its rows in this order, so two requests can never deadlock."""
    if kind == "queue":
        wanted = [
            ("key", f"key:{key.pk}:queue", "API_RATE_LIMIT_PER_KEY"),
            ("user", f"user:{key.owner_id}:queue", "API_RATE_LIMIT_PER_USER"),
        ]
    elif kind == "read":
        wanted = [("key", f"key:{key.pk}:read", "API_READ_RATE_LIMIT_PER_KEY")]
    else:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    limits = []
    for scope, counter, setting in wanted:
        rate = parse_rate(setting, getattr(settings, setting, ""))
        if rate is not None:
            limits.append(_Limit(scope, counter, rate))
    return limits


def _count_one_more(counter: str, window_start: datetime) -> int:
    """Add this request to the window's row, making it on the first request; the new count.

    Runs inside the caller's transaction, which keeps the row locked until it ends."""
    # Imported here: settings.py loads this module for parse_rate, before the models exist.
    from playground.api.models import RateLimitWindow

    rows = RateLimitWindow.objects.filter(counter=counter, window_start=window_start)
    for _attempt in range(3):
        if rows.update(count=F("count") + 1):
            return rows.values_list("count", flat=True).get()
        try:
            with transaction.atomic():  # a savepoint: a lost race rolls back only the insert
                RateLimitWindow.objects.create(counter=counter, window_start=window_start, count=1)
            return 1
        except IntegrityError:
            continue  # another request made the row first: count on it
    raise IntegrityError(f"The rate limit window {counter} could not be counted.")


def check_rate(key: ApiKey, kind: str) -> RateStatus:
    """Count one request of `kind` made with `key`; RateLimited when a limit is reached."""
    limits = _limits(key, kind)
    if not limits:
        return RateStatus()
    now = timezone.now().timestamp()
    nearest = RateStatus()
    # One transaction for all the counters: a request refused by one limit is taken back
    # from the others as well.
    with transaction.atomic():
        for limit in limits:
            period = limit.rate.period
            start = math.floor(now / period) * period
            reset = start + period - now
            count = _count_one_more(limit.counter, datetime.fromtimestamp(start, tz=UTC))
            if count > limit.rate.limit:
                raise RateLimited(
                    max(1, math.ceil(reset)), limit.rate.limit, limit.scope, limit.rate
                )
            remaining = limit.rate.limit - count
            if nearest.remaining is None or remaining < nearest.remaining:
                nearest = RateStatus(limit.rate.limit, remaining, reset)
    return nearest


def forget_old_windows(now: datetime | None = None) -> int:
    """Delete the windows that have ended (all have, a longest period after they began), a
    batch per short transaction, at most FORGET_BATCHES of them; returns how many went."""
    from playground.api.models import RateLimitWindow

    cutoff = (now or timezone.now()) - LONGEST_PERIOD
    forgotten = 0
    for _batch in range(FORGET_BATCHES):
        ended = list(
            RateLimitWindow.objects.filter(window_start__lt=cutoff).values_list("pk", flat=True)[
                :FORGET_BATCH
            ]
        )
        if ended:
            forgotten += RateLimitWindow.objects.filter(pk__in=ended).delete()[0]
        if len(ended) < FORGET_BATCH:
            break
    return forgotten


def _reset_text(seconds: float) -> str:
    """OpenAI's duration form: 850ms, 12s, 6m0s, 1h0m0s."""
    if seconds < 1:
        return f"{max(0, round(seconds * 1000))}ms"
    whole = math.ceil(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


def _seconds_text(seconds: int) -> str:
    return "1 second" if seconds == 1 else f"{seconds} seconds"
