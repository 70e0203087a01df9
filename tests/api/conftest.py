"""Shared by the API tests: a worker running jobs, a playground API key, an SDK client."""

from collections.abc import Iterator
from typing import Any

import pytest
from openai import OpenAI

from playground.apikeys.models import ApiKey
from tests.workers import WorkerThread

MODEL = "gpt-image-1.5"


@pytest.fixture
def worker(provider: Any) -> Iterator[None]:
    with WorkerThread(concurrency=4, interval=0.05):
        yield


@pytest.fixture
def secret(alice: Any) -> str:
    return ApiKey.issue(alice, "script", created_by=alice)[1]


def client_for(live_server: Any, secret: str, **kwargs: Any) -> OpenAI:
    return OpenAI(base_url=live_server.url + "/v1", api_key=secret, max_retries=0, **kwargs)
