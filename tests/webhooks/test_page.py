"""The owner's Webhooks page: the secret shown once, only their own callbacks, read-only admin."""

from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from playground.apikeys.models import ApiKey
from playground.audit.models import AuditEvent
from playground.webhooks.models import CallbackAttempt, CallbackDelivery, WebhookSecret
from playground.webhooks.secrets import SECRET_PREFIX, new_webhook_secret, webhook_secret_of
from playground.webhooks.views import PAGE_SIZE
from tests.webhooks.conftest import create_task

pytestmark = pytest.mark.django_db

URL = "/account/webhooks/"
HOOK = "https://hooks.example.com/kie/done?token=receiver-own-token"


def delivery_with_attempts(owner: Any, key: Any, *attempts: dict[str, Any]) -> CallbackDelivery:
    task = create_task(owner, key, HOOK, "http://testserver/")
    delivery = CallbackDelivery.objects.get(task=task)
    for number, fields in enumerate(attempts, start=1):
        CallbackAttempt.objects.create(
            delivery=delivery, number=number, started_at=timezone.now(), **fields
        )
    return delivery


def test_the_page_needs_a_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.post(reverse("webhook-secret-rotate")).status_code == 302
    assert not WebhookSecret.objects.exists()


def test_a_new_secret_is_shown_once_and_then_never(client, alice):
    client.force_login(alice)
    page = client.get(URL).content.decode()
    assert "You have no secret yet" in page

    response = client.post(reverse("webhook-secret-rotate"))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    first = webhook_secret_of(alice.pk)
    assert first and first.startswith(SECRET_PREFIX)
    assert response.content.decode().count(first) == 1
    assert "base64(HMAC-SHA256(taskId" in response.content.decode()

    later = client.get(URL).content.decode()
    assert first not in later and SECRET_PREFIX not in later
    assert "You have a secret, made" in later

    again = client.post(reverse("webhook-secret-rotate")).content.decode()
    second = webhook_secret_of(alice.pk)
    assert second != first and second in again and first not in again
    events = AuditEvent.objects.filter(action="rotated", actor=alice)
    assert events.count() == 2
    assert all(first not in str(e.details) and second not in str(e.details) for e in events)


def test_rotating_needs_a_post(client, alice):
    client.force_login(alice)
    assert client.get(reverse("webhook-secret-rotate")).status_code == 405
    assert not WebhookSecret.objects.exists()


def test_the_page_lists_own_deliveries_with_their_attempts(client, alice, bob, catalog):
    alice_key = ApiKey.issue(alice, "script", created_by=alice)[0]
    bob_key = ApiKey.issue(bob, "bob's", created_by=bob)[0]
    mine = delivery_with_attempts(
        alice,
        alice_key,
        {
            "status_code": 500,
            "error": "The receiver answered HTTP 500.",
            "duration_ms": 41,
            "response_excerpt": "upstream exploded",
        },
        {"status_code": None, "error": "No answer within 15 s.", "duration_ms": 15002},
    )
    retry_at = timezone.now() + timezone.timedelta(minutes=2)
    CallbackDelivery.objects.filter(pk=mine.pk).update(
        state=CallbackDelivery.State.SCHEDULED, attempts=2, next_attempt_at=retry_at
    )
    theirs = delivery_with_attempts(bob, bob_key, {"status_code": 200, "duration_ms": 9})
    client.force_login(alice)

    page = client.get(URL).content.decode()
    assert mine.task.task_id in page and theirs.task.task_id not in page
    assert "hooks.example.com/kie/done" in page
    assert "receiver-own-token" not in page  # the query string is the receiver's
    assert "HTTP 500" in page and "upstream exploded" in page and "No answer within 15 s." in page
    assert "being delivered" in page
    assert timezone.localtime(retry_at).strftime("%Y-%m-%d %H:%M:%S") in page
    assert 'Recent callbacks <span class="muted">(1)</span>' in page


def test_the_page_never_shows_the_secret_beside_deliveries(client, alice, catalog):
    secret = new_webhook_secret(alice)
    key = ApiKey.issue(alice, "script", created_by=alice)[0]
    delivery_with_attempts(alice, key, {"status_code": 200, "duration_ms": 5})
    client.force_login(alice)
    page = client.get(URL).content.decode()
    assert secret not in page and SECRET_PREFIX not in page


def test_the_list_is_paginated(client, alice, catalog):
    key = ApiKey.issue(alice, "script", created_by=alice)[0]
    tasks = [create_task(alice, key, HOOK, "http://testserver/") for _ in range(PAGE_SIZE + 1)]
    client.force_login(alice)
    first = client.get(URL).content.decode()
    second = client.get(URL + "?page=2").content.decode()
    assert "Page 1 of 2" in first and "Older" in first
    oldest = tasks[0].task_id
    assert oldest not in first and oldest in second
    assert tasks[-1].task_id in first and "waiting for the job" in first
    assert client.get(URL + "?page=nonsense").status_code == 200


def test_the_api_keys_page_links_here(client, alice):
    client.force_login(alice)
    page = client.get(reverse("api-keys")).content.decode()
    assert f'href="{URL}"' in page


def test_the_admin_shows_deliveries_read_only(admin_client, alice, catalog):
    key = ApiKey.issue(alice, "script", created_by=alice)[0]
    delivery = delivery_with_attempts(alice, key, {"status_code": 200, "duration_ms": 5})
    listing = admin_client.get(reverse("admin:webhooks_callbackdelivery_changelist"))
    assert listing.status_code == 200 and delivery.task.task_id in listing.content.decode()
    change = admin_client.get(reverse("admin:webhooks_callbackdelivery_change", args=[delivery.pk]))
    assert change.status_code == 200 and 'name="_save"' not in change.content.decode()
    assert admin_client.get(reverse("admin:webhooks_callbackdelivery_add")).status_code == 403
    assert (
        admin_client.post(
            reverse("admin:webhooks_callbackdelivery_delete", args=[delivery.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert CallbackDelivery.objects.filter(pk=delivery.pk).exists()
    secret = new_webhook_secret(alice)
    stored = WebhookSecret.objects.get(owner=alice)
    secrets_page = admin_client.get(
        reverse("admin:webhooks_webhooksecret_change", args=[stored.pk])
    ).content.decode()
    assert "alice" in secrets_page
    assert secret not in secrets_page and stored.secret_encrypted not in secrets_page
