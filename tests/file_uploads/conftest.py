"""Shared by the File Upload API tests: an owner's key, an outsider's key, a worker."""

from collections.abc import Iterator
from typing import Any

import pytest

from playground.apikeys.models import ApiKey
from tests.workers import WorkerThread


@pytest.fixture
def secret(alice: Any) -> str:
    """The owner's API key."""
    return ApiKey.issue(alice, "script", created_by=alice)[1]


@pytest.fixture
def outsider(bob: Any) -> str:
    """Another user's API key."""
    return ApiKey.issue(bob, "bobs", created_by=bob)[1]


@pytest.fixture
def worker(provider: Any) -> Iterator[None]:
    with WorkerThread(concurrency=4, interval=0.05):
        yield
