"""Keys, jobs charged to them, and a raw dump of the database to search for secrets."""

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from playground.apikeys.models import ApiKey
from playground.generations.models import Generation


@pytest.fixture
def issued(alice: Any) -> tuple[ApiKey, str]:
    return ApiKey.issue(alice, "laptop", created_by=alice)


@pytest.fixture
def charge() -> Callable[..., Generation]:
    """A job queued with `key` that counts `usd` (settled) or its estimate (unfinished)."""

    def make(
        key: ApiKey,
        usd: str,
        *,
        state: str = Generation.State.SUCCEEDED,
        created_at: datetime | None = None,
    ) -> Generation:
        settled = state != Generation.State.QUEUED
        return Generation.objects.create(
            owner=key.owner,
            api_key=key,
            model="gpt-image-1",
            prompt="a cat",
            state=state,
            actual_usd=Decimal(usd) if settled else None,
            estimated_usd_high=Decimal(usd),
            created_at=created_at or timezone.now(),
        )

    return make


def database_text() -> str:
    """Every text value of every table, as stored."""
    values = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, bytes):
                        value = value.decode("utf-8", "replace")
                    if isinstance(value, str):
                        values.append(value)
    return "\n".join(values)


def bearer(secret: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
