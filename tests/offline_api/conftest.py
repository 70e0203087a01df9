"""Fixtures: one stand-in server per module, reset between tests, and a real SDK client."""

from collections.abc import Iterator

import openai
import pytest

from playground.offline_api.server import OfflineImagesAPI


@pytest.fixture(scope="module")
def running_api() -> Iterator[OfflineImagesAPI]:
    api = OfflineImagesAPI(port=0, log=False).start()
    yield api
    api.stop()


@pytest.fixture
def api(running_api: OfflineImagesAPI) -> Iterator[OfflineImagesAPI]:
    running_api.reset()
    yield running_api
    running_api.reset()


@pytest.fixture
def client(api: OfflineImagesAPI) -> openai.OpenAI:
    return openai.OpenAI(api_key="sk-test", base_url=api.base_url, max_retries=0, timeout=20)
