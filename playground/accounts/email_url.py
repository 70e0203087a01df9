"""Outgoing mail from the environment: EMAIL_URL, or the individual EMAIL_* variables.

Pure functions of their input (no Django import), so that settings can use them at import time
and tests can call them directly. Error messages name the variable and the reason, never the
value: an EMAIL_URL carries the mail password.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"

# scheme: (STARTTLS, implicit TLS, default port)
URL_SCHEMES: dict[str, tuple[bool, bool, int]] = {
    "smtp": (True, False, 587),
    "smtps": (False, True, 465),
    # No encryption at all: only for a relay on the same host or a private network.
    "smtp+insecure": (False, False, 25),
}
TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}


class MailConfigError(ValueError):
    """A mail variable that cannot be used; the message names the variable and why."""


@dataclass(frozen=True)
class MailServer:
    host: str
    port: int
    user: str = ""
    password: str = field(default="", repr=False)
    use_tls: bool = False
    use_ssl: bool = False

    def django_settings(self) -> dict[str, Any]:
        """The EMAIL_* settings that make Django send through this server."""
        return {
            "EMAIL_BACKEND": SMTP_BACKEND,
            "EMAIL_HOST": self.host,
            "EMAIL_PORT": self.port,
            "EMAIL_HOST_USER": self.user,
            "EMAIL_HOST_PASSWORD": self.password,
            "EMAIL_USE_TLS": self.use_tls,
            "EMAIL_USE_SSL": self.use_ssl,
        }


def parse_email_url(url: str) -> MailServer:
    """smtp://user:pass@host:587 (STARTTLS), smtps://…:465 (TLS), smtp+insecure://host:25.

    User and password are percent-decoded, so a password with "@", ":" or "/" is written
    %40, %3A, %2F.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in URL_SCHEMES:
        accepted = ", ".join(f"{name}://" for name in URL_SCHEMES)
        raise MailConfigError(f"EMAIL_URL: the scheme must be one of {accepted}")
    if not parts.hostname:
        raise MailConfigError("EMAIL_URL: the mail server's host name is missing")
    try:
        port = parts.port
    except ValueError:
        raise MailConfigError("EMAIL_URL: the port must be a number from 1 to 65535") from None
    starttls, implicit_tls, default_port = URL_SCHEMES[scheme]
    if parts.path not in {"", "/"} or parts.query or parts.fragment:
        raise MailConfigError("EMAIL_URL: only scheme, user, password, host and port are read")
    return MailServer(
        host=parts.hostname,
        port=port or default_port,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        use_tls=starttls,
        use_ssl=implicit_tls,
    )


def _flag(environ: Mapping[str, str], name: str, default: bool) -> bool:
    value = environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise MailConfigError(f"{name}: expected true or false")


def _port(environ: Mapping[str, str], default: int) -> int:
    value = environ.get("EMAIL_PORT", "").strip()
    if not value:
        return default
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise MailConfigError("EMAIL_PORT: must be a number from 1 to 65535")
    return int(value)


def mail_server_from_env(environ: Mapping[str, str]) -> MailServer | None:
    """The configured mail server, or None when neither EMAIL_URL nor EMAIL_HOST is set.

    EMAIL_URL wins. With the individual variables, STARTTLS is on unless EMAIL_USE_SSL is
    (implicit TLS) or EMAIL_USE_TLS is set to false (a plain relay).
    """
    if url := environ.get("EMAIL_URL", "").strip():
        return parse_email_url(url)
    host = environ.get("EMAIL_HOST", "").strip()
    if not host:
        return None
    use_ssl = _flag(environ, "EMAIL_USE_SSL", False)
    use_tls = _flag(environ, "EMAIL_USE_TLS", not use_ssl)
    if use_ssl and use_tls:
        raise MailConfigError("EMAIL_USE_TLS and EMAIL_USE_SSL: set only one of them")
    default_port = 465 if use_ssl else 587 if use_tls else 25
    return MailServer(
        host=host,
        port=_port(environ, default_port),
        user=environ.get("EMAIL_HOST_USER", ""),
        password=environ.get("EMAIL_HOST_PASSWORD", ""),
        use_tls=use_tls,
        use_ssl=use_ssl,
    )


def default_from_address(environ: Mapping[str, str], server: MailServer | None) -> str:
    """DEFAULT_FROM_EMAIL, else the SMTP user when it is an address (most servers insist)."""
    if value := environ.get("DEFAULT_FROM_EMAIL", "").strip():
        return value
    if server is not None and "@" in server.user:
        return server.user
    return "webmaster@localhost"
