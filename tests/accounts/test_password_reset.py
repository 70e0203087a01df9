"""Password reset: mail settings from the environment, and the reset over real HTTP and SMTP.

Settings are read once at import, so the parsing is tested as a pure function and the live
behaviour by overriding the settings it produces.
"""

import email
import email.policy
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
import requests
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from playground.accounts.email_url import (
    MailConfigError,
    MailServer,
    default_from_address,
    mail_server_from_env,
    parse_email_url,
)

# The loopback test server takes a password without TLS, on purpose.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

RESET_URLS = [
    "/accounts/password_reset/",
    "/accounts/password_reset/done/",
    "/accounts/reset/MQ/set-password/",
    "/accounts/reset/done/",
]
MAIL_USER = "mailer"
MAIL_PASSWORD = "s3cret-mail-pass"


# -- EMAIL_URL and the EMAIL_* variables ---------------------------------------------------


def test_smtp_url_means_starttls_with_percent_decoded_credentials() -> None:
    server = parse_email_url("smtp://me%40example.com:p%40ss%3Aword@Mail.Example.com:2525")
    assert server == MailServer(
        host="mail.example.com",
        port=2525,
        user="me@example.com",
        password="p@ss:word",
        use_tls=True,
        use_ssl=False,
    )


@pytest.mark.parametrize(
    ("url", "port", "use_tls", "use_ssl"),
    [
        ("smtp://mail.example.com", 587, True, False),
        ("smtps://u:p@mail.example.com", 465, False, True),
        ("smtp+insecure://localhost", 25, False, False),
        ("SMTPS://mail.example.com:2465/", 2465, False, True),
    ],
)
def test_scheme_gives_the_encryption_and_default_port(
    url: str, port: int, use_tls: bool, use_ssl: bool
) -> None:
    server = parse_email_url(url)
    assert (server.port, server.use_tls, server.use_ssl) == (port, use_tls, use_ssl)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://u:topsecret@mail.example.com", "the scheme must be one of"),
        ("smtp://u:topsecret@:587", "host name is missing"),
        ("smtp://u:topsecret@mail.example.com:99999", "port must be a number"),
        ("smtp://u:topsecret@mail.example.com:port", "port must be a number"),
        ("smtp://u:topsecret@mail.example.com/inbox?x=1", "only scheme, user, password"),
    ],
)
def test_bad_email_url_is_named_without_showing_the_password(url: str, reason: str) -> None:
    with pytest.raises(MailConfigError) as raised:
        parse_email_url(url)
    assert str(raised.value).startswith("EMAIL_URL: ")
    assert reason in str(raised.value)
    assert "topsecret" not in str(raised.value)


def test_password_is_not_in_the_servers_repr() -> None:
    assert "topsecret" not in repr(parse_email_url("smtps://u:topsecret@mail.example.com"))


def test_no_mail_variables_means_no_mail() -> None:
    assert mail_server_from_env({}) is None
    assert mail_server_from_env({"EMAIL_PORT": "587", "EMAIL_HOST_USER": "x"}) is None


def test_email_url_wins_over_the_individual_variables() -> None:
    server = mail_server_from_env(
        {"EMAIL_URL": "smtps://a:b@url.example.com", "EMAIL_HOST": "host.example.com"}
    )
    assert server is not None and server.host == "url.example.com"


@pytest.mark.parametrize(
    ("environ", "port", "use_tls", "use_ssl"),
    [
        ({}, 587, True, False),
        ({"EMAIL_USE_SSL": "true"}, 465, False, True),
        ({"EMAIL_USE_TLS": "false"}, 25, False, False),
        ({"EMAIL_USE_TLS": "yes", "EMAIL_PORT": "2587"}, 2587, True, False),
    ],
)
def test_individual_variables(environ: dict, port: int, use_tls: bool, use_ssl: bool) -> None:
    server = mail_server_from_env(
        {
            "EMAIL_HOST": "mail.example.com",
            "EMAIL_HOST_USER": "me",
            "EMAIL_HOST_PASSWORD": "pw",
            **environ,
        }
    )
    assert server == MailServer("mail.example.com", port, "me", "pw", use_tls, use_ssl)


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"EMAIL_USE_TLS": "true", "EMAIL_USE_SSL": "true"}, "EMAIL_USE_TLS and EMAIL_USE_SSL"),
        ({"EMAIL_USE_TLS": "maybe"}, "EMAIL_USE_TLS: expected true or false"),
        ({"EMAIL_PORT": "0"}, "EMAIL_PORT: must be a number"),
        ({"EMAIL_PORT": "smtp"}, "EMAIL_PORT: must be a number"),
    ],
)
def test_bad_individual_variables_are_named(environ: dict, named: str) -> None:
    with pytest.raises(MailConfigError, match=named):
        mail_server_from_env({"EMAIL_HOST": "mail.example.com", **environ})


def test_from_address() -> None:
    server = parse_email_url("smtp://robot%40example.com:pw@mail.example.com")
    assert default_from_address({"DEFAULT_FROM_EMAIL": "Images <a@b.example>"}, server) == (
        "Images <a@b.example>"
    )
    assert default_from_address({}, server) == "robot@example.com"
    assert default_from_address({}, None) == "webmaster@localhost"


# -- Without a mail server ---------------------------------------------------------------


def test_without_mail_reset_is_not_offered(live_server, settings) -> None:  # type: ignore[no-untyped-def]
    settings.EMAIL_CONFIGURED = False
    login = requests.get(live_server.url + "/accounts/login/")
    assert login.status_code == 200
    assert "Forgot your password?" not in login.text
    assert "password_reset" not in login.text
    for url in RESET_URLS:
        assert requests.get(live_server.url + url).status_code == 404, url
    assert requests.post(live_server.url + RESET_URLS[0], data={}).status_code in {403, 404}


# -- With a real SMTP server on loopback ---------------------------------------------------


class Inbox:
    """aiosmtpd handler keeping each delivered message."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # type: ignore[no-untyped-def]
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)  # type: ignore[arg-type]
        )
        return "250 Message accepted"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages


def accept_only_the_mail_login(server, session, envelope, mechanism, auth_data) -> AuthResult:  # type: ignore[no-untyped-def]
    ok = isinstance(auth_data, LoginPassword) and auth_data == (
        MAIL_USER.encode(),
        MAIL_PASSWORD.encode(),
    )
    return AuthResult(success=ok)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    port = free_port()
    # Plain SMTP with a password, as a relay on the same host would take it.
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        authenticator=accept_only_the_mail_login,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    yield handler, port
    controller.stop()


@pytest.fixture
def mail_on(settings, inbox) -> Inbox:  # type: ignore[no-untyped-def]
    """The settings EMAIL_URL would give, pointed at the loopback SMTP server."""
    handler, port = inbox
    server = parse_email_url(f"smtp+insecure://{MAIL_USER}:{MAIL_PASSWORD}@127.0.0.1:{port}")
    for name, value in server.django_settings().items():
        setattr(settings, name, value)
    settings.EMAIL_CONFIGURED = True
    settings.DEFAULT_FROM_EMAIL = "images@example.com"
    settings.PUBLIC_BASE_URL = ""
    return handler


def csrf_token(page: requests.Response) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert found, f"no CSRF token on {page.url}"
    return found.group(1)


def post_form(
    session: requests.Session, url: str, data: dict[str, str], follow: bool = False
) -> requests.Response:
    form = session.get(url)
    assert form.status_code == 200, (url, form.status_code)
    return session.post(
        form.url,
        data={"csrfmiddlewaretoken": csrf_token(form), **data},
        headers={"Referer": form.url},
        allow_redirects=follow,
    )


def ask_for_reset(base: str, address: str) -> requests.Response:
    return post_form(requests.Session(), base + "/accounts/password_reset/", {"email": address})


def reset_link(message: EmailMessage) -> str:
    body = message.get_content()
    found = re.search(r"https?://\S+/accounts/reset/\S+/", body)
    assert found, body
    return found.group(0)


def sign_in(base: str, username: str, password: str) -> requests.Response:
    return post_form(
        requests.Session(),
        base + "/accounts/login/",
        {"username": username, "password": password, "next": "/"},
    )


def test_reset_mail_arrives_and_its_link_sets_a_new_password(
    live_server, mail_on: Inbox, alice, caplog
) -> None:  # type: ignore[no-untyped-def]
    base = live_server.url
    alice.email = "alice@example.com"
    alice.save()

    login = requests.get(base + "/accounts/login/")
    assert 'href="/accounts/password_reset/">Forgot your password?</a>' in login.text

    asked = ask_for_reset(base, "alice@example.com")
    assert asked.status_code == 302
    assert asked.headers["Location"] == "/accounts/password_reset/done/"
    message = mail_on.wait_for(1)[0]
    assert message["To"] == "alice@example.com"
    assert message["From"] == "images@example.com"
    link = reset_link(message)
    assert link.startswith(base + "/accounts/reset/")

    session = requests.Session()
    set_password = post_form(
        session,
        link,
        {"new_password1": "a-brand-new-pass-42", "new_password2": "a-brand-new-pass-42"},
        follow=True,
    )
    assert set_password.url == base + "/accounts/reset/done/"
    assert "Password set" in set_password.text

    assert sign_in(base, "alice", "a-brand-new-pass-42").status_code == 302
    assert sign_in(base, "alice", "alice-password-1").status_code == 200
    # A link works once.
    assert "Link no longer valid" in requests.get(link).text
    assert MAIL_PASSWORD not in caplog.text


def test_unknown_address_gets_the_same_answer_and_no_mail(
    live_server, mail_on: Inbox, alice
) -> None:  # type: ignore[no-untyped-def]
    asked = ask_for_reset(live_server.url, "nobody@example.com")
    assert asked.status_code == 302
    assert asked.headers["Location"] == "/accounts/password_reset/done/"
    time.sleep(0.5)
    assert mail_on.messages == []


def test_a_malformed_address_gets_a_field_error(live_server, mail_on: Inbox) -> None:  # type: ignore[no-untyped-def]
    answer = ask_for_reset(live_server.url, "not-an-address")
    assert answer.status_code == 200
    assert '<p class="field-error">Enter a valid email address.</p>' in answer.text
    assert mail_on.messages == []


def test_link_points_at_the_public_address(live_server, settings, mail_on: Inbox, alice) -> None:  # type: ignore[no-untyped-def]
    settings.PUBLIC_BASE_URL = "https://images.example.com"
    alice.email = "alice@example.com"
    alice.save()
    assert ask_for_reset(live_server.url, "alice@example.com").status_code == 302
    assert reset_link(mail_on.wait_for(1)[0]).startswith("https://images.example.com/accounts/")


def test_wrong_mail_password_sends_nothing_and_logs_no_password(
    live_server, settings, mail_on: Inbox, alice, caplog
) -> None:  # type: ignore[no-untyped-def]
    settings.EMAIL_HOST_PASSWORD = "not-the-pass-xyz"
    alice.email = "alice@example.com"
    alice.save()
    asked = ask_for_reset(live_server.url, "alice@example.com")
    # The same page as for an unknown address: a failure must not tell that the account exists.
    assert asked.status_code == 302
    assert mail_on.messages == []
    assert "Failed to send password reset email" in caplog.text
    assert "not-the-pass-xyz" not in caplog.text


# -- The settings module, imported afresh with the variables set ------------------------------

SHOW_MAIL_SETTINGS = (
    "from django.conf import settings as s; "
    "print(s.EMAIL_CONFIGURED, s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_USE_TLS, "
    "s.EMAIL_USE_SSL, s.DEFAULT_FROM_EMAIL)"
)


def import_settings(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    environ = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("EMAIL_") and name != "DEFAULT_FROM_EMAIL"
    }
    environ.update(
        DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="playground.settings", **variables
    )
    return subprocess.run(
        [sys.executable, "-c", SHOW_MAIL_SETTINGS],
        env=environ,
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_settings_without_mail_variables(tmp_path: Path) -> None:
    shown = import_settings(tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split()[:2] == ["False", "django.core.mail.backends.dummy.EmailBackend"]


def test_settings_from_email_url(tmp_path: Path) -> None:
    shown = import_settings(tmp_path, EMAIL_URL="smtps://robot%40example.com:pw@mail.example.com")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split() == [
        "True",
        "django.core.mail.backends.smtp.EmailBackend",
        "mail.example.com",
        "465",
        "False",
        "True",
        "robot@example.com",
    ]


def test_settings_refuse_a_bad_email_url_without_showing_it(tmp_path: Path) -> None:
    shown = import_settings(tmp_path, EMAIL_URL="smtp://robot:topsecret-pw@mail.example.com:0x")
    assert shown.returncode != 0
    assert "ImproperlyConfigured: EMAIL_URL: the port must be a number" in shown.stderr
    assert "topsecret-pw" not in shown.stderr
