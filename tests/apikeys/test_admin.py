"""Staff create keys for anyone (shown once, in the page only) and revoke them; no hash shown."""

import logging

import pytest

from playground.apikeys.models import ApiKey
from playground.audit.models import AuditEvent
from tests.apikeys.conftest import bearer, database_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, django_user_model):  # type: ignore[no-untyped-def]
    staff = django_user_model.objects.create_superuser("root", password="root-password-1")
    client.force_login(staff)
    return client


def test_a_non_staff_user_gets_nothing(client, alice, issued):
    client.force_login(alice)
    response = client.get("/admin/apikeys/apikey/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_it_creates_a_key_for_anyone_and_shows_it_once(admin_client, bob, caplog):
    caplog.set_level(logging.DEBUG)
    response = admin_client.post(
        "/admin/apikeys/apikey/add/",
        {"owner": bob.pk, "name": "for bob", "cap_usd_per_day": "10", "allowed_networks": ""},
    )
    assert response.status_code == 200, response.content.decode()[:2000]
    secret = response.context["secret"]
    assert secret in response.content.decode()
    key = ApiKey.objects.get()
    assert key.owner == bob and key.created_by.username == "root"
    assert admin_client.get("/api/v1/me", **bearer(secret)).json()["user"] == "bob"
    # Not in a message, the session, the database, a log line or any later page.
    assert secret not in database_text()
    assert secret not in caplog.text
    for url in ["/admin/apikeys/apikey/", f"/admin/apikeys/apikey/{key.pk}/change/"]:
        page = admin_client.get(url).content.decode()
        assert secret not in page and key.key_hash not in page
        assert key.prefix in page
    event = AuditEvent.objects.get(action="created")
    assert event.actor_name == "root" and event.details["owner"] == "bob"


def test_it_revokes_with_an_action(admin_client, issued):
    key, secret = issued
    response = admin_client.post(
        "/admin/apikeys/apikey/",
        {"action": "revoke_keys", "_selected_action": [key.pk]},
        follow=True,
    )
    assert "Revoked 1 API key" in response.content.decode()
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert admin_client.get("/api/v1/me", **bearer(secret)).status_code == 401
    assert AuditEvent.objects.filter(action="revoked", actor_name="root").exists()


def test_it_records_changes_and_deletions(admin_client, issued, alice):
    key, _ = issued
    admin_client.post(
        f"/admin/apikeys/apikey/{key.pk}/change/",
        {"owner": alice.pk, "name": "renamed", "cap_usd_total": "3", "allowed_networks": ""},
    )
    changed = AuditEvent.objects.get(action="changed")
    assert set(changed.details["fields"]) == {"name", "cap_usd_total"}
    admin_client.post(f"/admin/apikeys/apikey/{key.pk}/delete/", {"post": "yes"})
    assert not ApiKey.objects.exists()
    assert AuditEvent.objects.filter(action="deleted", target_id=str(key.pk)).exists()


def test_the_list_shows_spend(admin_client, issued, charge):
    key, _ = issued
    charge(key, "1.25")
    charge(key, "0.50")
    assert "$1.75" in admin_client.get("/admin/apikeys/apikey/").content.decode()
