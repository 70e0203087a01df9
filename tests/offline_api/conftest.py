"""Fixtures: the shared stand-in (reset between tests) and a real SDK client pointed at it."""

import openai
import pytest

from playground.offline_api.server import OfflineImagesAPI


@pytest.fixture
def api(upstream: OfflineImagesAPI) -> OfflineImagesAPI:
    return upstream


@pytest.fixture
def client(api: OfflineImagesAPI) -> openai.OpenAI:
    return openai.OpenAI(api_key="sk-test", base_url=api.base_url, max_retries=0, timeout=20)
