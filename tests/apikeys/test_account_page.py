"""The account page: create a key (shown once), list, revoke; nobody else's keys."""

from decimal import Decimal

import pytest

from playground.apikeys.models import ApiKey
from playground.audit.models import AuditEvent
from tests.apikeys.conftest import bearer

pytestmark = pytest.mark.django_db


def test_it_needs_a_login(client):
    response = client.get("/account/api-keys/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_it_creates_a_key_and_shows_it_once(client, alice):
    client.force_login(alice)
    response = client.post(
        "/account/api-keys/",
        {"name": "ci", "cap_usd_per_day": "5", "allowed_networks": "127.0.0.1, 10.0.0.0/8"},
    )
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    secret = response.context["secret"]
    page = response.content.decode()
    assert secret in page and "shown only this once" in page and "data-copy" in page
    key = ApiKey.objects.get()
    assert (key.owner, key.created_by, key.cap_usd_per_day) == (alice, alice, Decimal("5"))
    assert key.allowed_networks == "127.0.0.1\n10.0.0.0/8"
    assert client.get("/api/v1/me", **bearer(secret)).status_code == 200
    reloaded = client.get("/account/api-keys/").content.decode()
    assert secret not in reloaded and key.prefix in reloaded
    event = AuditEvent.objects.get(action="created")
    assert (event.actor, event.target_id, event.ip_address) == (alice, str(key.pk), "127.0.0.1")
    assert secret not in str(event.details) and key.key_hash not in str(event.details)


def test_it_names_each_bad_value(client, alice):
    client.force_login(alice)
    response = client.post(
        "/account/api-keys/",
        {
            "name": "",
            "cap_usd_per_hour": "lots",
            "cap_usd_total": "-1",
            "allowed_networks": "10.0.0.0/8, not-a-net",
        },
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "Name: This field is required." in page
    assert "Enter a number." in page
    assert "cannot be negative" in page
    assert "not-a-net" in page and "CIDR" in page
    assert not ApiKey.objects.exists()


def test_it_revokes_a_key(client, alice, issued):
    key, secret = issued
    client.force_login(alice)
    response = client.post(f"/account/api-keys/{key.pk}/revoke/")
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert client.get("/api/v1/me", **bearer(secret)).status_code == 401
    assert AuditEvent.objects.filter(action="revoked", target_id=str(key.pk), actor=alice).exists()
    assert "Revoked" in client.get("/account/api-keys/").content.decode()


def test_another_user_cannot_see_or_revoke_a_key(client, bob, issued):
    key, _ = issued
    client.force_login(bob)
    assert key.prefix not in client.get("/account/api-keys/").content.decode()
    assert client.post(f"/account/api-keys/{key.pk}/revoke/").status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is None


def test_revoking_needs_a_post(client, alice, issued):
    key, _ = issued
    client.force_login(alice)
    assert client.get(f"/account/api-keys/{key.pk}/revoke/").status_code == 405


def test_the_header_links_to_the_page(client, alice):
    client.force_login(alice)
    assert 'href="/account/api-keys/"' in client.get("/account/api-keys/").content.decode()
