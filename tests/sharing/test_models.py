"""Tokens are long, random and unique; a link's state follows its expiry and revocation."""

import base64
import re
from datetime import timedelta
from unittest import mock

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from playground.sharing.models import ShareLink, new_token
from playground.sharing.services import create_share
from tests.sharing.conftest import make_image

pytestmark = pytest.mark.django_db


def test_it_makes_tokens_of_at_least_128_random_bits():
    token = new_token()
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", token)
    assert len(base64.urlsafe_b64decode(token)) * 8 == 192


def test_it_takes_tokens_from_the_secrets_module_not_from_ids(alice):
    image = make_image(alice)
    with mock.patch("secrets.token_urlsafe", return_value="x" * 32) as token_urlsafe:
        link = create_share(alice, [image], None, False)
    token_urlsafe.assert_called_once_with(24)
    assert link.token == "x" * 32
    assert str(link.pk) not in link.token


def test_it_never_repeats_a_token(alice):
    assert len({new_token() for _ in range(5000)}) == 5000
    image = make_image(alice)
    tokens = {create_share(alice, [image], None, False).token for _ in range(20)}
    assert len(tokens) == 20


def test_it_refuses_a_duplicate_token_in_the_database(alice):
    link = ShareLink.objects.create(owner=alice)
    with pytest.raises(IntegrityError), transaction.atomic():
        ShareLink.objects.create(owner=alice, token=link.token)


def test_it_knows_its_state(alice):
    now = timezone.now()
    active = ShareLink.objects.create(owner=alice)
    later = ShareLink.objects.create(owner=alice, expires_at=now + timedelta(hours=1))
    expired = ShareLink.objects.create(owner=alice, expires_at=now - timedelta(seconds=1))
    revoked = ShareLink.objects.create(owner=alice, revoked_at=now)
    assert [link.state() for link in (active, later, expired, revoked)] == [
        "active",
        "active",
        "expired",
        "revoked",
    ]
    assert set(ShareLink.objects.active()) == {active, later}
    assert list(ShareLink.objects.expired()) == [expired]
    assert list(ShareLink.objects.revoked()) == [revoked]


def test_it_revokes_once(alice):
    link = ShareLink.objects.create(owner=alice)
    assert link.revoke() is True
    first = link.revoked_at
    assert first is not None and not link.is_active
    assert link.revoke() is False
    assert link.revoked_at == first
