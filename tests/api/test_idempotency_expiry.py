"""An Idempotency-Key is remembered for a day: then it may name a new request, and the worker's
recovery round deletes the expired records."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from playground.api.idempotency import KEPT_FOR, forget_expired_keys, queue_once
from playground.api.models import IdempotentRequest
from playground.api.responses import ApiError
from playground.apikeys.models import ApiKey
from tests.jobs import make_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def key(alice: Any) -> ApiKey:
    return ApiKey.issue(alice, "script", created_by=alice)[0]


def record(key: ApiKey, name: str, age: timedelta) -> IdempotentRequest:
    return IdempotentRequest.objects.create(
        api_key=key,
        idempotency_key=name,
        endpoint="generations",
        body_sha256="a" * 64,
        generation=make_job(key.owner),
        created_at=timezone.now() - age,
    )


def test_a_key_within_a_day_still_refuses_another_request(key):
    record(key, "retry-1", KEPT_FOR - timedelta(minutes=5))
    with pytest.raises(ApiError) as refused:
        queue_once(key, "retry-1", "generations", "b" * 64, lambda: make_job(key.owner))
    assert refused.value.status == 422


def test_an_expired_key_names_a_new_request(key):
    old = record(key, "retry-1", KEPT_FOR + timedelta(minutes=5))
    job, queued_now = queue_once(
        key, "retry-1", "generations", "b" * 64, lambda: make_job(key.owner)
    )
    assert queued_now and job.pk != old.generation_id
    assert IdempotentRequest.objects.get(idempotency_key="retry-1").generation_id == job.pk


def test_the_sweep_deletes_only_expired_records(key):
    record(key, "old", KEPT_FOR + timedelta(hours=1))
    record(key, "fresh", timedelta(hours=1))
    assert forget_expired_keys() == 1
    assert list(IdempotentRequest.objects.values_list("idempotency_key", flat=True)) == ["fresh"]
