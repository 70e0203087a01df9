"""A key's spend cap holds when its requests arrive together: the cap is checked under the
same lock as the budget, so twenty requests at once cannot each see room for themselves."""

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx2
import pytest

from playground.apikeys.models import ApiKey
from playground.generations.models import Generation
from tests.api.conftest import MODEL

pytestmark = pytest.mark.django_db(transaction=True)
AT_ONCE = 20
BODY = {"model": MODEL, "prompt": "a kite", "quality": "low", "size": "1024x1024"}


def _capped_key(alice, live_server, settings) -> tuple[ApiKey, str]:
    """A key whose total cap has room for exactly three of these requests."""
    settings.API_RATE_LIMIT_PER_KEY = ""
    settings.API_RATE_LIMIT_PER_USER = ""
    key, secret = ApiKey.issue(alice, "capped", created_by=alice)
    probe = httpx2.post(
        live_server.url + "/api/v1/jobs/createTask",
        json={"model": MODEL, "input": {k: v for k, v in BODY.items() if k != "model"}},
        headers={"Authorization": f"Bearer {secret}"},
        timeout=30,
    )
    assert probe.status_code == 200, probe.text
    high = Generation.objects.get().estimated_usd_high
    Generation.objects.all().delete()
    key.cap_usd_total = (3 * high).quantize(Decimal("0.01"), "ROUND_UP")  # caps are in cents
    assert key.cap_usd_total >= 3 * high and key.cap_usd_total < 4 * high, "pick another size"
    key.save()
    return key, secret


def test_twenty_tasks_at_once_stay_within_the_keys_cap(live_server, alice, provider, settings):
    key, secret = _capped_key(alice, live_server, settings)

    def create(_: int) -> int:
        return httpx2.post(
            live_server.url + "/api/v1/jobs/createTask",
            json={"model": MODEL, "input": {k: v for k, v in BODY.items() if k != "model"}},
            headers={"Authorization": f"Bearer {secret}"},
            timeout=60,
        ).status_code

    with ThreadPoolExecutor(AT_ONCE) as pool:
        statuses = list(pool.map(create, range(AT_ONCE)))
    assert sorted(statuses) == [200] * 3 + [402] * (AT_ONCE - 3)
    assert Generation.objects.filter(api_key=key).count() == 3


def test_twenty_images_requests_at_once_stay_within_the_keys_cap(
    live_server, alice, provider, settings
):
    key, secret = _capped_key(alice, live_server, settings)
    settings.API_WAIT_SECONDS = 1  # no worker runs: the accepted ones answer 504 after 1 s

    def generate(_: int) -> int:
        return httpx2.post(
            live_server.url + "/v1/images/generations",
            json=BODY,
            headers={"Authorization": f"Bearer {secret}"},
            timeout=60,
        ).status_code

    with ThreadPoolExecutor(AT_ONCE) as pool:
        statuses = list(pool.map(generate, range(AT_ONCE)))
    assert sorted(statuses) == [429] * (AT_ONCE - 3) + [504] * 3
    assert Generation.objects.filter(api_key=key).count() == 3
