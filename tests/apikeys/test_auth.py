"""authenticate_api_request: the header, revocation, the allow-list, each cap, last use."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import RequestFactory
from django.utils import timezone

from playground.apikeys.auth import ApiKeyError, authenticate_api_request, check_key_caps
from playground.apikeys.models import ApiKey
from playground.generations.models import Generation

pytestmark = pytest.mark.django_db


def _request(authorization: str | None = None, address: str = "127.0.0.1"):  # type: ignore[no-untyped-def]
    headers = {"REMOTE_ADDR": address}
    if authorization is not None:
        headers["HTTP_AUTHORIZATION"] = authorization
    return RequestFactory().get("/api/v1/me", **headers)


def _refusal(request) -> ApiKeyError:  # type: ignore[no-untyped-def]
    with pytest.raises(ApiKeyError) as caught:
        authenticate_api_request(request)
    return caught.value


def _cap_refusal(key) -> ApiKeyError:  # type: ignore[no-untyped-def]
    with pytest.raises(ApiKeyError) as caught:
        check_key_caps(key)
    return caught.value


def test_a_key_at_its_cap_still_reads_its_results(issued, charge):
    """Caps limit spending, checked when a job is queued: a capped key still signs in, so
    a program can read the records and results it already paid for."""
    key, secret = issued
    key.cap_usd_total = Decimal("1")
    key.save()
    charge(key, "1.00")
    assert authenticate_api_request(_request(f"Bearer {secret}")) == key
    assert _cap_refusal(key).code == "insufficient_quota"


def test_it_accepts_a_valid_key(issued):
    key, secret = issued
    assert authenticate_api_request(_request(f"Bearer {secret}")) == key


def test_it_refuses_a_missing_header():
    error = _refusal(_request())
    assert (error.status, error.code) == (401, "missing_api_key")
    assert "Authorization" in error.message


@pytest.mark.parametrize("header", ["Basic abc", "Bearer", "Bearer ", "pk_abc", "Bearer a b"])
def test_it_refuses_a_malformed_header(header):
    error = _refusal(_request(header))
    assert (error.status, error.code) == (401, "invalid_authorization_header")


def test_it_gives_one_answer_for_unknown_and_revoked_keys(issued):
    key, secret = issued
    unknown = _refusal(_request("Bearer pk_" + "x" * 43))
    wrong_tail = _refusal(_request(f"Bearer {secret[:-4]}abcd"))
    key.revoke()
    revoked = _refusal(_request(f"Bearer {secret}"))
    assert {(e.status, e.code, e.message) for e in [unknown, wrong_tail, revoked]} == {
        (401, "invalid_api_key", unknown.message)
    }


@pytest.mark.parametrize(
    ("networks", "allowed", "refused"),
    [
        ("203.0.113.0/24", "203.0.113.9", "198.51.100.1"),
        ("10.0.0.1, 203.0.113.0/24", "10.0.0.1", "10.0.0.2"),
        ("2001:db8::/32", "2001:db8::5", "2001:db9::5"),
        ("203.0.113.7\n2001:db8::1/128", "2001:db8::1", "203.0.113.8"),
    ],
)
def test_it_enforces_the_allow_list(issued, networks, allowed, refused):
    key, secret = issued
    key.allowed_networks = networks
    key.save()
    assert authenticate_api_request(_request(f"Bearer {secret}", allowed)) == key
    error = _refusal(_request(f"Bearer {secret}", refused))
    assert (error.status, error.code) == (403, "address_not_allowed")
    assert refused in error.message


def test_it_counts_finished_and_in_flight_jobs_against_the_hourly_cap(issued, charge):
    key, _secret = issued
    key.cap_usd_per_hour = Decimal("1.00")
    key.save()
    charge(key, "0.40")
    check_key_caps(key)
    charge(
        key,
        "0.60",
        state=Generation.State.QUEUED,
        created_at=timezone.now() - timedelta(minutes=20),
    )
    error = _cap_refusal(key)
    assert (error.status, error.code) == (429, "insufficient_quota")
    assert "hourly cap of $1.00" in error.message
    # The in-flight job is 20 minutes old: dropping it out of the window frees enough.
    assert 39 * 60 <= error.retry_after <= 40 * 60 + 1


def test_it_enforces_the_daily_cap_with_a_retry_after(issued, charge):
    key, _secret = issued
    key.cap_usd_per_day = Decimal("2")
    key.save()
    charge(key, "1.50", created_at=timezone.now() - timedelta(hours=23))
    charge(key, "0.50", created_at=timezone.now() - timedelta(hours=2))
    charge(key, "9.00", created_at=timezone.now() - timedelta(days=2))  # out of the window
    error = _cap_refusal(key)
    assert error.status == 429 and "daily cap of $2.00" in error.message
    assert 59 * 60 <= error.retry_after <= 60 * 60 + 1
    assert "frees up in 60 minutes" in error.message or "frees up in 59 minutes" in error.message


def test_it_enforces_the_total_cap_without_a_retry_after(issued, charge):
    key, _secret = issued
    key.cap_usd_total = Decimal("5")
    key.save()
    charge(key, "5.00", created_at=timezone.now() - timedelta(days=40))
    error = _cap_refusal(key)
    assert error.status == 429 and "total cap of $5.00" in error.message
    assert error.retry_after is None


def test_it_does_not_count_failed_jobs_without_usage(issued, charge):
    key, _secret = issued
    key.cap_usd_total = Decimal("1")
    key.save()
    job = charge(key, "3.00", state=Generation.State.FAILED)
    Generation.objects.filter(pk=job.pk).update(actual_usd=None)
    check_key_caps(key)  # no refusal


def test_check_key_caps_refuses_an_estimate_that_would_pass_a_cap(issued, charge):
    key, _ = issued
    key.cap_usd_per_day = Decimal("1")
    key.save()
    charge(key, "0.70")
    check_key_caps(key, Decimal("0.30"))
    with pytest.raises(ApiKeyError) as caught:
        check_key_caps(key, Decimal("0.31"))
    assert caught.value.status == 429
    assert "could cost up to $0.31" in caught.value.message
    assert caught.value.retry_after > 23 * 3600


def test_it_notes_the_last_use_at_most_once_a_minute(issued):
    key, secret = issued
    authenticate_api_request(_request(f"Bearer {secret}", "203.0.113.5"))
    key.refresh_from_db()
    first = key.last_used_at
    assert first is not None and key.last_used_ip == "203.0.113.5"
    authenticate_api_request(_request(f"Bearer {secret}", "203.0.113.6"))
    key.refresh_from_db()
    assert (key.last_used_at, key.last_used_ip) == (first, "203.0.113.5")
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=first - timedelta(minutes=2))
    authenticate_api_request(_request(f"Bearer {secret}", "203.0.113.6"))
    key.refresh_from_db()
    assert key.last_used_at > first and key.last_used_ip == "203.0.113.6"
