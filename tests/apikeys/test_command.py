"""create_api_key prints a working key as its last line."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from playground.apikeys.models import ApiKey
from playground.audit.models import AuditEvent
from tests.apikeys.conftest import bearer, database_text

pytestmark = pytest.mark.django_db


def test_its_last_line_is_a_working_key(client, alice):
    out = StringIO()
    call_command("create_api_key", "alice", "--name", "robot", "--cap-day", "2.5", stdout=out)
    secret = out.getvalue().strip().splitlines()[-1]
    response = client.get("/api/v1/me", **bearer(secret))
    assert response.status_code == 200
    assert response.json()["user"] == "alice"
    assert response.json()["key"]["name"] == "robot"
    key = ApiKey.objects.get()
    assert key.cap_usd_per_day == Decimal("2.5") and key.created_by is None
    assert secret not in database_text()
    event = AuditEvent.objects.get(action="created")
    assert event.actor is None and event.details["owner"] == "alice"


def test_it_refuses_an_unknown_user(alice):
    with pytest.raises(CommandError, match="No user named “nobody”"):
        call_command("create_api_key", "nobody", stdout=StringIO())
    assert not ApiKey.objects.exists()


def test_it_refuses_a_bad_cap(alice):
    with pytest.raises(CommandError, match="--cap-day"):
        call_command("create_api_key", "alice", "--cap-day", "lots", stdout=StringIO())
