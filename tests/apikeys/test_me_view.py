"""GET /api/v1/me: the key's owner, caps and spend, or an error in OpenAI's shape."""

from decimal import Decimal

import pytest

from playground.generations.models import Generation
from tests.apikeys.conftest import bearer

pytestmark = pytest.mark.django_db


def test_it_answers_the_owner_caps_and_spend(client, issued, charge):
    key, secret = issued
    key.cap_usd_per_day = Decimal("3.50")
    key.allowed_networks = "127.0.0.0/8"
    key.save()
    charge(key, "0.25")
    charge(key, "0.50", state=Generation.State.QUEUED)
    response = client.get("/api/v1/me", **bearer(secret))
    assert response.status_code == 200
    body = response.json()
    assert body["user"] == "alice"
    assert body["key"]["name"] == "laptop" and body["key"]["prefix"] == key.prefix
    assert set(body["key"]) == {"name", "prefix", "created_at", "last_used_at"}
    assert body["key"]["last_used_at"] is not None
    assert body["caps"] == {
        "usd_per_hour": None,
        "usd_per_day": "3.50",
        "usd_total": None,
        "allowed_networks": ["127.0.0.0/8"],
    }
    assert {k: Decimal(v) for k, v in body["spend"].items()} == {
        "hour": Decimal("0.75"),
        "day": Decimal("0.75"),
        "total": Decimal("0.75"),
    }
    assert secret not in response.content.decode()


def test_it_answers_401_in_openais_error_shape(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    error = response.json()["error"]
    assert set(error) >= {"message", "type", "code"}
    assert error["code"] == "missing_api_key"


def test_it_answers_403_for_an_address_outside_the_allow_list(client, issued):
    key, secret = issued
    key.allowed_networks = "203.0.113.0/24"
    key.save()
    response = client.get("/api/v1/me", **bearer(secret))
    assert response.status_code == 403
    assert "127.0.0.1" in response.json()["error"]["message"]


def test_it_shows_a_key_at_its_cap_its_spend(client, issued, charge):
    key, secret = issued
    key.cap_usd_per_hour = Decimal("1")
    key.save()
    charge(key, "1.00")
    response = client.get("/api/v1/me", **bearer(secret))
    assert response.status_code == 200  # caps limit spending, not reading
    assert Decimal(response.json()["spend"]["hour"]) == Decimal("1")


def test_it_is_get_only_and_needs_no_csrf_token(issued):
    from django.test import Client

    _, secret = issued
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/api/v1/me", **bearer(secret)).status_code == 405
    assert strict.get("/api/v1/me", **bearer(secret)).status_code == 200
