"""A key is stored as a keyed hash only: never in the database, a log line or a later page."""

import logging

import pytest
from django.conf import settings
from django.test import override_settings

from playground.apikeys.auth import find_key
from playground.apikeys.models import PREFIX_LENGTH, ApiKey, hash_key
from tests.apikeys.conftest import database_text

pytestmark = pytest.mark.django_db


def test_it_stores_a_hash_and_a_prefix_not_the_key(issued):
    key, secret = issued
    key.refresh_from_db()
    assert secret.startswith("pk_") and len(secret) > 40
    assert key.key_hash != secret and secret not in key.key_hash
    assert len(key.key_hash) == 64
    assert key.prefix == secret[:PREFIX_LENGTH]
    assert key.matches(secret)
    assert not key.matches(secret[:-1] + ("A" if secret[-1] != "A" else "B"))


def test_it_keys_the_hash_with_the_secret_key(issued):
    _, secret = issued
    assert hash_key(secret, "one server") != hash_key(secret, "another server")


def test_it_finds_keys_after_a_secret_key_rotation(issued):
    key, secret = issued
    new = "a-brand-new-secret-key-" * 3
    with override_settings(SECRET_KEY=new, SECRET_KEY_FALLBACKS=[settings.SECRET_KEY]):
        assert find_key(secret) == key
    with override_settings(SECRET_KEY=new, SECRET_KEY_FALLBACKS=[]):
        assert find_key(secret) is None


def test_it_never_writes_the_key_to_the_database_or_the_logs(client, alice, caplog):
    caplog.set_level(logging.DEBUG)
    client.force_login(alice)
    response = client.post("/account/api-keys/", {"name": "ci"})
    secret = response.context["secret"]
    assert secret in response.content.decode()  # shown once, in this response only
    assert ApiKey.objects.get().matches(secret)
    client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert secret not in database_text()
    assert secret not in caplog.text
    assert secret not in client.get("/account/api-keys/").content.decode()
