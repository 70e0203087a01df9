"""Twenty simultaneous Generate requests against a budget that fits one: exactly one is queued.

A real multi-threaded server (pytest-django's live server) and real HTTP clients on threads,
all released at once by a barrier, so the budget check and the insert really race.
"""

import threading
import urllib.error
import urllib.parse
import urllib.request
from decimal import Decimal

import pytest
from django.conf import settings

from playground.accounts.models import UserBudget
from playground.generations.models import Generation
from playground.pricing.spend import budget_status
from tests.jobs import FORM_FIELDS

pytestmark = pytest.mark.django_db(transaction=True)

CLIENTS = 20
CSRF_TOKEN = "a" * 32  # any well-formed token: the cookie and the header must match


def post_all_at_once(url: str, session_id: str, count: int) -> list[int]:
    body = urllib.parse.urlencode(FORM_FIELDS).encode()
    barrier = threading.Barrier(count)
    statuses: list[int] = []

    def post() -> None:
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={
                "Cookie": f"{settings.SESSION_COOKIE_NAME}={session_id}; "
                f"{settings.CSRF_COOKIE_NAME}={CSRF_TOKEN}",
                "X-CSRFToken": CSRF_TOKEN,
                "HX-Request": "true",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        barrier.wait(timeout=30)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                statuses.append(response.status)
        except urllib.error.HTTPError as error:
            statuses.append(error.code)

    threads = [threading.Thread(target=post) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not any(thread.is_alive() for thread in threads)
    return statuses


@pytest.mark.parametrize("path", ["generate", "rerun"])
def test_it_accepts_exactly_one_of_twenty_simultaneous_requests(
    live_server, client, alice, provider, path
):
    client.force_login(alice)
    url = f"{live_server.url}/generations/"
    if path == "rerun":
        assert client.post("/generations/", FORM_FIELDS).status_code == 302
        earlier = Generation.objects.get()
        earlier.cancel()  # settled at no cost: only the reruns count
        url = f"{live_server.url}/generations/{earlier.pk}/rerun/"
    UserBudget.objects.create(user=alice, monthly_usd=Decimal("0.30"))  # one $0.21 job fits
    session_id = client.cookies[settings.SESSION_COOKIE_NAME].value

    statuses = post_all_at_once(url, session_id, CLIENTS)

    assert sorted(statuses) == [201] + [422] * (CLIENTS - 1), statuses
    job = Generation.objects.get(state="queued")
    status = budget_status(alice)
    assert status.in_flight == job.estimated_usd_high
    assert status.spent + status.in_flight <= Decimal("0.30")
