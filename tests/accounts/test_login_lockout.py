"""Sign-in lockout over real HTTP against the ASGI live server.

Failures are counted per username and, separately, per client address. Another loopback
address (127.0.0.2) stands for a second client; uvicorn trusts X-Forwarded-For only from
127.0.0.1, so requests from 127.0.0.2 show what the app itself does with that header.
"""

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import requests
from axes.models import AccessAttempt
from requests.adapters import HTTPAdapter

# Django's own messages, unchanged: the site's login and the admin's.
WRONG_PASSWORD_MESSAGE = re.compile(r"Please enter (a|the) correct username and password")
PAUSED_MESSAGE = "Sign-in is paused after too many failed attempts"
LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"
SECOND_CLIENT = "127.0.0.2"


class FromAddress(HTTPAdapter):
    """Connects from the given local address (any of 127.0.0.0/8 reaches the server)."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def browser(address: str = "127.0.0.1") -> requests.Session:
    session = requests.Session()
    session.mount("http://", FromAddress(address))
    return session


def sign_in(
    session: requests.Session,
    base_url: str,
    username: str,
    password: str,
    path: str = LOGIN,
    headers: dict[str, str] | None = None,
) -> requests.Response:
    """GET the form for its CSRF token, then POST it like a browser would."""
    form = session.get(base_url + path, headers=headers)
    assert form.status_code == 200, form.status_code
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
    assert token, "no CSRF token in the login form"
    return session.post(
        base_url + path,
        data={
            "csrfmiddlewaretoken": token.group(1),
            "username": username,
            "password": password,
            "next": "/",
        },
        headers={"Referer": base_url + path, **(headers or {})},
        allow_redirects=False,
    )


def assert_wrong_password(response: requests.Response) -> None:
    assert response.status_code == 200
    assert WRONG_PASSWORD_MESSAGE.search(response.text)
    assert PAUSED_MESSAGE not in response.text


def lift_time(response: requests.Response) -> datetime:
    """The lockout page's lift time, which it shows in a <time> element."""
    assert response.status_code == 429, response.status_code
    assert PAUSED_MESSAGE in response.text
    assert "<title>Sign-in paused · Image Playground</title>" in response.text  # the site's page
    found = re.search(r'<time datetime="([^"]+)">', response.text)
    assert found, "the lockout page does not say when it lifts"
    return datetime.fromisoformat(found.group(1))


def fail_until_locked(
    session: requests.Session,
    base_url: str,
    limit: int,
    usernames: list[str],
    path: str = LOGIN,
    headers: dict[str, str] | None = None,
) -> requests.Response:
    """limit - 1 plain failures, then the one that reaches the limit (answered 429)."""
    for attempt in range(limit - 1):
        username = usernames[attempt % len(usernames)]
        assert_wrong_password(sign_in(session, base_url, username, "wrong-guess", path, headers))
    last = sign_in(session, base_url, usernames[-1], "wrong-guess", path, headers)
    lift_time(last)
    return last


@pytest.fixture
def limit(settings) -> int:  # type: ignore[no-untyped-def]
    return settings.AXES_FAILURE_LIMIT


@pytest.fixture
def staff_alice(alice):  # type: ignore[no-untyped-def]
    alice.is_staff = True
    alice.save()
    return alice


@pytest.fixture
def server(live_server) -> Iterator[str]:  # type: ignore[no-untyped-def]
    yield live_server.url


def test_configured_from_the_environment_defaults(settings) -> None:  # type: ignore[no-untyped-def]
    assert settings.AXES_FAILURE_LIMIT == settings.LOGIN_FAILURE_LIMIT == 5
    assert timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES) == settings.AXES_COOLOFF_TIME
    assert settings.LOGIN_LOCKOUT_MINUTES == 15
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"


@pytest.mark.parametrize("path", [LOGIN, ADMIN_LOGIN])
def test_right_password_after_too_many_wrong_ones_is_refused_with_the_lift_time(
    server: str, staff_alice, limit: int, path: str
) -> None:  # type: ignore[no-untyped-def]
    session = browser()
    started = datetime.now(UTC)
    fail_until_locked(session, server, limit, ["alice"], path)

    refused = sign_in(session, server, "alice", "alice-password-1", path)
    lifts_at = lift_time(refused)
    cool_off = timedelta(minutes=15)
    assert started + cool_off <= lifts_at <= datetime.now(UTC) + cool_off
    assert "in 15 minutes" in refused.text
    assert lifts_at.strftime("%H:%M") in refused.text
    assert 14 * 60 < int(refused.headers["Retry-After"]) <= 15 * 60
    assert "sessionid" not in session.cookies
    # Still signed out: the protected page sends us to the login.
    assert session.get(server + "/admin/", allow_redirects=False).status_code == 302


def test_lockout_page_is_the_same_for_an_unknown_username(server: str, alice, limit: int) -> None:  # type: ignore[no-untyped-def]
    known = fail_until_locked(browser(), server, limit, ["alice"])
    unknown = fail_until_locked(browser(SECOND_CLIENT), server, limit, ["nobody-here"])

    def without_times(page: str) -> str:
        page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)
        page = re.sub(r'"X-CSRFToken": "[^"]+"', "", page)
        return re.sub(r"<time[^>]*>[^<]*</time>", "", page)

    assert without_times(known.text) == without_times(unknown.text)
    assert "alice" not in known.text
    assert "nobody-here" not in unknown.text


def test_one_address_is_locked_out_across_usernames(server: str, alice, limit: int) -> None:  # type: ignore[no-untyped-def]
    guesses = [f"guess-{n}" for n in range(limit)]
    fail_until_locked(browser(), server, limit, guesses)

    # A username never tried from that address is refused there too, even with its password...
    lift_time(sign_in(browser(), server, "alice", "alice-password-1"))
    # ...but its owner signs in from another address.
    assert sign_in(browser(SECOND_CLIENT), server, "alice", "alice-password-1").status_code == 302


def test_a_username_is_locked_out_from_every_address(server: str, alice, bob, limit: int) -> None:  # type: ignore[no-untyped-def]
    fail_until_locked(browser(), server, limit, ["alice"])

    elsewhere = browser(SECOND_CLIENT)
    lift_time(sign_in(elsewhere, server, "alice", "alice-password-1"))
    # The other address itself is not locked: other accounts sign in from it.
    assert sign_in(elsewhere, server, "bob", "bob-password-1").status_code == 302


def test_forwarded_for_header_is_ignored_without_trusted_proxies(
    server: str, alice, limit: int
) -> None:  # type: ignore[no-untyped-def]
    session = browser(SECOND_CLIENT)
    for attempt in range(limit):
        spoofed = {"X-Forwarded-For": f"198.51.100.{attempt + 1}"}
        response = sign_in(session, server, f"guess-{attempt}", "wrong-guess", headers=spoofed)
    lift_time(response)
    spoofed = {"X-Forwarded-For": "198.51.100.200"}
    lift_time(sign_in(session, server, "alice", "alice-password-1", headers=spoofed))
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {SECOND_CLIENT}


def test_with_a_trusted_proxy_the_forwarded_client_is_counted(
    server: str, settings, alice, limit: int
) -> None:  # type: ignore[no-untyped-def]
    settings.PROXY_COUNT = 1
    proxy = browser(SECOND_CLIENT)  # the reverse proxy connects; it appends the client

    def via_proxy(client: str, spoofed: str = "192.0.2.9") -> dict[str, str]:
        return {"X-Forwarded-For": f"{spoofed}, {client}"}

    for attempt in range(limit):
        headers = via_proxy("203.0.113.5", spoofed=f"192.0.2.{attempt + 1}")
        response = sign_in(proxy, server, f"guess-{attempt}", "wrong-guess", headers=headers)
    lift_time(response)
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.5"}

    lift_time(sign_in(proxy, server, "alice", "alice-password-1", headers=via_proxy("203.0.113.5")))
    other_client = sign_in(
        proxy, server, "alice", "alice-password-1", headers=via_proxy("203.0.113.6")
    )
    assert other_client.status_code == 302


def test_sign_in_works_again_after_the_cool_off(server: str, settings, alice, limit: int) -> None:  # type: ignore[no-untyped-def]
    settings.AXES_COOLOFF_TIME = timedelta(seconds=2)
    session = browser()
    fail_until_locked(session, server, limit, ["alice"])
    refused = sign_in(session, server, "alice", "alice-password-1")
    lifts_at = lift_time(refused)
    assert "in 1 minute." in refused.text

    time.sleep(max(0.0, (lifts_at - datetime.now(UTC)).total_seconds()) + 0.2)
    assert sign_in(session, server, "alice", "alice-password-1").status_code == 302


def test_attempts_during_the_lockout_do_not_push_the_lift_time_back(
    server: str, alice, limit: int
) -> None:  # type: ignore[no-untyped-def]
    session = browser()
    first = lift_time(fail_until_locked(session, server, limit, ["alice"]))
    time.sleep(1.1)
    for _ in range(3):
        again = lift_time(sign_in(session, server, "alice", "wrong-guess"))
    assert again == first


def test_a_successful_sign_in_clears_the_users_own_failures(server: str, alice, limit: int) -> None:  # type: ignore[no-untyped-def]
    session = browser()
    for _ in range(limit - 1):
        assert_wrong_password(sign_in(session, server, "alice", "wrong-guess"))
    assert sign_in(session, server, "alice", "alice-password-1").status_code == 302

    session = browser()
    for _ in range(limit - 1):
        assert_wrong_password(sign_in(session, server, "alice", "wrong-guess"))
    lift_time(sign_in(session, server, "alice", "wrong-guess"))


def test_signing_in_to_another_account_does_not_clear_failures(
    server: str, alice, bob, limit: int
) -> None:  # type: ignore[no-untyped-def]
    attacker = browser()
    for _ in range(limit - 1):
        assert_wrong_password(sign_in(attacker, server, "alice", "wrong-guess"))
    # The attacker's own account, from the same address, between guesses.
    assert sign_in(browser(), server, "bob", "bob-password-1").status_code == 302

    lift_time(sign_in(attacker, server, "alice", "wrong-guess"))
    lift_time(sign_in(browser(SECOND_CLIENT), server, "alice", "alice-password-1"))
