"""`Idempotency-Key`: the same key, API key and body get the first request's job back.

A key is remembered for a day, as OpenAI's API does; after that it may be used again for a new
request, and the worker's recovery round deletes what has expired.
"""

from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from playground.api.models import MAX_IDEMPOTENCY_KEY, IdempotentRequest
from playground.apikeys.models import ApiKey
from playground.core.errors import ApiError, invalid
from playground.generations.models import Generation

HEADER = "Idempotency-Key"
KEPT_FOR = timedelta(hours=24)
FORGET_BATCH = 1000


def idempotency_key(header_value: str | None) -> str | None:
    if header_value is None:
        return None
    value = header_value.strip()
    if not value or len(value) > MAX_IDEMPOTENCY_KEY or not value.isprintable():
        raise invalid(
            HEADER,
            f"The {HEADER} header must be 1 to {MAX_IDEMPOTENCY_KEY} printable characters.",
        )
    return value


def _earlier_job(api_key: ApiKey, key: str, endpoint: str, fingerprint: str) -> Generation | None:
    earlier = (
        IdempotentRequest.objects.filter(api_key=api_key, idempotency_key=key)
        .select_related("generation")
        .first()
    )
    if earlier is None:
        return None
    if earlier.endpoint != endpoint or earlier.body_sha256 != fingerprint:
        raise ApiError(
            422,
            f"This {HEADER} was used with a different request. Use a new {HEADER} for a "
            "new request.",
            param=HEADER,
            code="idempotency_key_reused",
        )
    return earlier.generation


def queue_once(
    api_key: ApiKey,
    key: str,
    endpoint: str,
    fingerprint: str,
    queue: Callable[[], Generation],
) -> tuple[Generation, bool]:
    """(job, queued now): the job queued for this key earlier, or the one `queue` makes.

    The record and the job commit together; of two concurrent duplicates the unique
    constraint lets one commit, and the other's job is rolled back with its record.
    """
    # An expired record frees its key for this request (the sweep may not have run yet).
    IdempotentRequest.objects.filter(
        api_key=api_key, idempotency_key=key, created_at__lt=timezone.now() - KEPT_FOR
    ).delete()
    if (earlier := _earlier_job(api_key, key, endpoint, fingerprint)) is not None:
        return earlier, False
    try:
        with transaction.atomic():
            record = IdempotentRequest.objects.create(
                api_key=api_key, idempotency_key=key, endpoint=endpoint, body_sha256=fingerprint
            )
            generation = queue()
            record.generation = generation
            record.save(update_fields=["generation"])
    except IntegrityError:
        earlier = _earlier_job(api_key, key, endpoint, fingerprint)
        if earlier is None:
            raise
        return earlier, False
    return generation, True


def forget_expired_keys(now: datetime | None = None) -> int:
    """Delete the records older than KEPT_FOR, a batch at a time; returns how many went."""
    cutoff = (now or timezone.now()) - KEPT_FOR
    expired = list(
        IdempotentRequest.objects.filter(created_at__lt=cutoff).values_list("pk", flat=True)[
            :FORGET_BATCH
        ]
    )
    return IdempotentRequest.objects.filter(pk__in=expired).delete()[0] if expired else 0
