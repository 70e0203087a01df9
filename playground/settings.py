"""Settings for the playground, driven by environment variables (see README)."""

import os
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key

from playground import deployment
from playground.accounts.email_url import (
    MailConfigError,
    default_from_address,
    mail_server_from_env,
)
from playground.api import rate_limits
from playground.core import media_storage

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


DATA_DIR = Path(env_str("DATA_DIR", str(BASE_DIR / "var"))).resolve()
# Owner-only (0700); True when it was not, i.e. made before modes were enforced (fixed below).
_DATA_DIR_WAS_OPEN = deployment.private_directory(DATA_DIR)


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept in DATA_DIR."""
    if key := env_str("SECRET_KEY"):
        return key
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        deployment.create_private_file_once(key_file, get_random_secret_key())
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
# Earlier keys, still accepted (sessions, signatures, provider keys, API keys) after a rotation.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS")
DEBUG = env_bool("DEBUG", False)
# The site's public address, e.g. https://images.example.com: the one switch of a public
# deployment. It gives ALLOWED_HOSTS, CSRF_TRUSTED_ORIGINS and PUBLIC_BASE_URL their defaults
# and, when https, turns on secure cookies, the HTTPS redirect and HSTS (see "HTTPS" below).
_SITE = deployment.parse_site_url(env_str("SITE_URL"))
SITE_URL = _SITE.origin if _SITE else ""
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", _SITE.host if _SITE else "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", SITE_URL)
# The address share links and their preview tags use, e.g. https://images.example.com;
# empty: taken from each request.
PUBLIC_BASE_URL = (env_str("PUBLIC_BASE_URL") or SITE_URL).rstrip("/")

PORT = env_int("PORT", 8000)
OFFLINE_API_PORT = env_int("OFFLINE_API_PORT", PORT + 1)
OPENAI_API_KEY = env_str("OPENAI_API_KEY")
OPENAI_BASE_URL = env_str("OPENAI_BASE_URL")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "csp",
    "template_partials",
    "django_tasks",
    "django_tasks_db",
    "playground.core",
    "playground.accounts",
    "playground.catalog",
    "playground.providers",
    "playground.inputs",
    "playground.offline_api",
    "playground.generations",
    "playground.pricing",
    "playground.gallery",
    "playground.sharing",
    "playground.audit",
    "playground.apikeys",
    "playground.api",
    "playground.webhooks",
    "playground.file_uploads",
    "axes",  # sign-in lockout, see "Sign-in lockout" below
]

MIDDLEWARE = [
    # First, so that an answer made by any middleware below carries its x-request-id too.
    "playground.api.request_ids.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Near the top, so that responses made by the middleware below get the policy too.
    "playground.core.csp.SiteCSPMiddleware",
    "playground.core.static_middleware.AsyncCapableWhiteNoiseMiddleware",
    # Gzip for text responses (pages, htmx partials, JSON), not images: see compression.py.
    # Below whitenoise, which serves static files precompressed (.br, .gz); above everything
    # that reads or writes the body, so compression comes last.
    "playground.core.compression.TextGZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "playground.core.middleware.BadInputMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "playground.core.middleware.DatabaseUnavailableMiddleware",
    # Last, as axes requires: turns a locked-out sign-in into its 429 page (works over ASGI).
    "axes.middleware.AxesMiddleware",
]

# Content-Security-Policy on every response: scripts, styles and connections from this site
# only, no inline code and no eval. Images too; the playground page alone adds data: and blob:
# for the reference previews and the mask editor (playground.core.csp.allow_local_images).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "media-src": ["'none'"],
        "object-src": ["'none'"],
        "frame-src": ["'none'"],
        "worker-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

ROOT_URLCONF = "playground.urls"
WSGI_APPLICATION = "playground.wsgi.application"
ASGI_APPLICATION = "playground.asgi.application"  # what gunicorn serves (see Procfile)

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "playground.core.context_processors.page_header",
            ],
        },
    },
]

# SQLite in DATA_DIR by default; WAL, a busy timeout and IMMEDIATE transactions let the web
# server and the worker's threads write side by side without "database is locked".
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'playground.sqlite3'}",
        conn_max_age=0,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["ENGINE"] = "playground.core.sqlite"  # threads take turns to write
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not memory, so that tests can run a real worker process beside the test run;
    # one per test process, so that two test runs never share it.
    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(tempfile.gettempdir()) / f"playground-test-{os.getpid()}.sqlite3")
    }


def _pool_options() -> dict[str, int]:
    min_size = env_int("DB_POOL_MIN_SIZE", 2)
    max_size = env_int("DB_POOL_MAX_SIZE", 10)
    if max_size < 1 or not 0 <= min_size <= max_size:
        raise ImproperlyConfigured(
            f"DB_POOL_MAX_SIZE ({max_size}) must be at least 1, and DB_POOL_MIN_SIZE "
            f"({min_size}) between 0 and DB_POOL_MAX_SIZE."
        )
    return {"min_size": min_size, "max_size": max_size}


# PostgreSQL. The web app is served over ASGI, where each request's synchronous code runs in a
# thread of its own and Django advises against persistent connections. With DB_POOL=true web
# processes borrow connections from a bounded pool, so a burst of requests waits for one
# instead of opening one each; by default each request opens its own and closes it after.
# The worker shares a pool of WORKER_DB_CONNECTIONS among all its jobs, whatever its
# concurrency: a job holds none while it waits on the upstream, and borrows one briefly to
# start, save and settle (its LISTEN connection for wake-ups comes on top). Other management
# commands (migrate) keep their connections for DB_CONN_MAX_AGE seconds.
# README: "Database connections".
_RUNS_MANAGEMENT_COMMAND = Path(sys.argv[0]).name in {"manage.py", "django-admin"}
_RUNS_WORKER = _RUNS_MANAGEMENT_COMMAND and sys.argv[1:2] == ["run_worker"]
WORKER_DB_CONNECTIONS = env_int("WORKER_DB_CONNECTIONS", 4)
if WORKER_DB_CONNECTIONS < 1:
    raise ImproperlyConfigured(f"WORKER_DB_CONNECTIONS ({WORKER_DB_CONNECTIONS}) must be >= 1.")
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if _RUNS_WORKER:
        DATABASES["default"]["CONN_MAX_AGE"] = 0  # what Django's pool requires
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": 1,
            "max_size": WORKER_DB_CONNECTIONS,
            # Waiting longer for a free one is a database error (retried): at a burst of jobs
            # settling at once they queue for it, in a database outage the wait ends here.
            "timeout": 15,
        }
    elif _RUNS_MANAGEMENT_COMMAND:
        DATABASES["default"]["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 60)
    elif env_bool("DB_POOL", False):
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = _pool_options()

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(DATA_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = DATA_DIR / "media"
STORAGES = {
    # Local disk under MEDIA_ROOT, or a private S3 bucket when MEDIA_BUCKET is set (README).
    "default": media_storage.default_storage(os.environ),
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "playground.core.static_storage.ManifestStaticStorage"
        ),
        # Public files, readable by all: the image collects them as root and runs as another
        # user. Without this they would take the owner-only upload modes below.
        "OPTIONS": {"file_permissions_mode": 0o644, "directory_permissions_mode": 0o755},
    },
}
WHITENOISE_USE_FINDERS = DEBUG

TASKS = {
    "default": {
        "BACKEND": env_str("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "ENQUEUE_ON_COMMIT": False,
    }
}
# Jobs running at once in one worker process; each waits on one upstream call.
WORKER_CONCURRENCY = env_int("WORKER_CONCURRENCY", 32)
# glibc malloc arenas in a worker process (0: glibc's default); see run_worker.
WORKER_MALLOC_ARENAS = env_int("WORKER_MALLOC_ARENAS", 2)
# How long a `/v1/images/*` request waits for its job before answering 504 (the job runs on).
API_WAIT_SECONDS = env_int("API_WAIT_SECONDS", 600)
# Threads per web process shared by the requests that wait long (an API call waiting for its
# job, a page following its jobs) for their brief database reads; see core/asgi_files.py.
WEB_WAIT_THREADS = env_int("WEB_WAIT_THREADS", 4)
# Every request the server makes (reference images to fetch, callbacks to post to, calls to
# providers) goes only to globally routable addresses, unless this is set; see
# core/outbound.py. ALLOW_PRIVATE_PROVIDER_URLS, its former name for providers, is still read.
API_ALLOW_PRIVATE_URLS = env_bool("API_ALLOW_PRIVATE_URLS", False) or env_bool(
    "ALLOW_PRIVATE_PROVIDER_URLS", False
)
# A reference image fetched from a URL: the most bytes read, and how long the fetch may take.
API_FETCH_MAX_BYTES = env_int("API_FETCH_MAX_BYTES", 20 * 1024 * 1024)
API_FETCH_TIMEOUT_SECONDS = env_int("API_FETCH_TIMEOUT_SECONDS", 15)
# All the reference images of one task together (fetched and data URLs): the most bytes.
API_FETCH_MAX_TOTAL_BYTES = env_int("API_FETCH_MAX_TOTAL_BYTES", 64 * 1024 * 1024)
# How long the result URLs that recordInfo and callbacks give out stay valid.
API_RESULT_URL_SECONDS = env_int("API_RESULT_URL_SECONDS", 24 * 3600)
# API request rate limits, "N/second", "N/minute" or "N/hour" ("0" or "": none): requests that
# queue a job, per key and per user (all their keys together), and task reads per key.
API_RATE_LIMIT_PER_KEY = env_str("API_RATE_LIMIT_PER_KEY", "60/minute")
API_RATE_LIMIT_PER_USER = env_str("API_RATE_LIMIT_PER_USER", "120/minute")
API_READ_RATE_LIMIT_PER_KEY = env_str("API_READ_RATE_LIMIT_PER_KEY", "600/minute")
for _rate_setting in (
    "API_RATE_LIMIT_PER_KEY",
    "API_RATE_LIMIT_PER_USER",
    "API_READ_RATE_LIMIT_PER_KEY",
):
    rate_limits.parse_rate(_rate_setting, globals()[_rate_setting])  # a bad value stops here
# Task callbacks: how long a receiver may take to answer, how many attempts are made, and the
# waits before the 2nd, 3rd ... attempt (the last wait repeats if there are more attempts).
CALLBACK_TIMEOUT_SECONDS = env_int("CALLBACK_TIMEOUT_SECONDS", 15)
CALLBACK_MAX_ATTEMPTS = env_int("CALLBACK_MAX_ATTEMPTS", 6)
CALLBACK_RETRY_SECONDS = [10, 30, 120, 600, 1800, 3600]
# Callback attempts one worker process makes at once, on threads of their own: a slow
# receiver holds one of these, never one of the WORKER_CONCURRENCY job slots.
CALLBACK_CONCURRENCY = env_int("CALLBACK_CONCURRENCY", 4)
if CALLBACK_CONCURRENCY < 1:
    raise ImproperlyConfigured(f"CALLBACK_CONCURRENCY ({CALLBACK_CONCURRENCY}) must be >= 1.")
# Where workers on this machine listen for "a job was queued" (SQLite; PostgreSQL uses NOTIFY).
WAKEUP_DIR = Path(env_str("WAKEUP_DIR", str(DATA_DIR / "run")))
# On SIGTERM a worker stops claiming jobs and lets running ones finish for this long, then
# gives the rest back to the queue (a planned stop never counts as a crash).
WORKER_GRACE_SECONDS = float(env_str("WORKER_GRACE_SECONDS", "60"))

# Upstream calls: total attempts for transient failures, and the per-request timeout.
UPSTREAM_MAX_ATTEMPTS = env_int("UPSTREAM_MAX_ATTEMPTS", 4)
UPSTREAM_TIMEOUT_SECONDS = env_int("UPSTREAM_TIMEOUT_SECONDS", 600)
UPSTREAM_BACKOFF_SECONDS = float(env_str("UPSTREAM_BACKOFF_SECONDS", "1.0"))
AZURE_OPENAI_API_VERSION = env_str("AZURE_OPENAI_API_VERSION", "2025-04-01-preview")

# Uploads bigger than this go to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# -- Image decoding per edit request (inputs/limits.py).
# Reference images of one edit may decode to at most this many megapixels together (a small
# file can hold 40 MP); checked from the headers before anything is decoded.
EDIT_MAX_REQUEST_MEGAPIXELS = env_int("EDIT_MAX_REQUEST_MEGAPIXELS", 200)
# Of those, the megapixels that may be re-encoded as PNG (palette, 16-bit, turned or animated
# images): that costs several times a decode (ten on a photo).
EDIT_MAX_REQUEST_CONVERTED_MEGAPIXELS = env_int("EDIT_MAX_REQUEST_CONVERTED_MEGAPIXELS", 40)
# Images decoded at once per web process (one decode can take about 300 MB; decoding is CPU
# bound, so gunicorn's --workers already sets how many run side by side), and how long one
# request may wait for turns in total before it is told the server is busy.
IMAGE_DECODE_CONCURRENCY = env_int("IMAGE_DECODE_CONCURRENCY", 1)
IMAGE_DECODE_WAIT_SECONDS = float(env_str("IMAGE_DECODE_WAIT_SECONDS", "20"))

# -- Request bodies, checked before they are read (core/body_limits.py).
# Over this, a body is read only for a signed-in caller (session with a valid CSRF token, or an
# API key): the login, logout and password reset forms stay well under it.
REQUEST_BODY_ANONYMOUS_MAX_BYTES = env_int("REQUEST_BODY_ANONYMOUS_MAX_BYTES", 64 * 1024)
# The most anyone may send: an edit's 16 references and its mask under 50 MB each, plus 1 MB
# for the other fields. Over it: 413, before (or as soon as) the body passes it.
REQUEST_BODY_MAX_BYTES = env_int("REQUEST_BODY_MAX_BYTES", (16 + 1) * 50 * 2**20 + 2**20)

# -- Owner-only data: what the app writes under DATA_DIR is 0600 (files) and 0700 (folders).
# Explicit modes rather than a umask, which would also reach the collected static files.
FILE_UPLOAD_PERMISSIONS = deployment.PRIVATE_FILE_MODE
FILE_UPLOAD_DIRECTORY_PERMISSIONS = deployment.PRIVATE_DIRECTORY_MODE
if _DATA_DIR_WAS_OPEN:  # once, for a data directory from before: tighten what is inside
    deployment.private_tree(DATA_DIR, keep_readable=(STATIC_ROOT,))
deployment.private_directory(MEDIA_ROOT)
deployment.private_directory(WAKEUP_DIR)  # the workers' wake-up sockets
if DATABASES["default"]["ENGINE"] == "playground.core.sqlite":
    deployment.private_sqlite_file(Path(DATABASES["default"]["NAME"]))

# -- HTTPS and the secure defaults (`manage.py check --deploy` is clean with an https SITE_URL).
# Reverse proxies in front of the app trusted to set X-Forwarded-* headers; 0: clients talk to
# gunicorn directly and those headers are ignored (gunicorn is told to trust none either).
PROXY_COUNT = env_int("PROXY_COUNT", 0)
if PROXY_COUNT > 0:
    # The nearest proxy terminates TLS and must set (not append to) X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
# Share links carry their token in the path: no address at all goes to other sites.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if _SITE and _SITE.is_https:
    if DEBUG:
        raise ImproperlyConfigured(
            "DEBUG must be off when SITE_URL is a public https address: it shows settings "
            "and code in error pages."
        )
    if deployment.weak_secret_key(SECRET_KEY):
        raise ImproperlyConfigured(
            "SECRET_KEY is too weak for a public https SITE_URL: use 50 or more random "
            "characters, or leave it unset to use the one generated into DATA_DIR."
        )
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_SSL_HOST = _SITE.netloc  # the redirect goes to the public address
    # The container's health check asks over plain HTTP on loopback.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 365 * 24 * 60 * 60)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("HSTS_PRELOAD", True)

# -- Sign-in lockout (django-axes): after LOGIN_FAILURE_LIMIT failed sign-ins for one username,
# or from one address, within LOGIN_LOCKOUT_MINUTES, sign-in is refused (429, with the time it
# lifts) until the oldest failures are that old. Nonexistent usernames lock the same way.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 15)
if LOGIN_FAILURE_LIMIT < 1 or LOGIN_LOCKOUT_MINUTES < 1:
    raise ImproperlyConfigured("LOGIN_FAILURE_LIMIT and LOGIN_LOCKOUT_MINUTES must be 1 or more.")
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses locked-out attempts before any check
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own, not the pair
# Attempts during a lockout neither count nor push back the time it lifts, as shown.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# A sign-in clears that user's failures from that address only (playground.accounts.lockout);
# axes' own reset would clear every failure from the address.
AXES_RESET_ON_SUCCESS = False
# REMOTE_ADDR, or the X-Forwarded-For entry set by the PROXY_COUNT trusted proxies.
AXES_CLIENT_IP_CALLABLE = "playground.accounts.lockout.client_ip_address"
AXES_LOCKOUT_CALLABLE = "playground.accounts.lockout.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429

# -- E-mail, for password reset: EMAIL_URL (smtp:// STARTTLS, smtps:// TLS, smtp+insecure://)
# or EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS, EMAIL_USE_SSL.
# Without either, password reset is not offered at all (no link; its pages answer 404).
try:
    _MAIL_SERVER = mail_server_from_env(os.environ)
except MailConfigError as error:
    raise ImproperlyConfigured(str(error)) from None
EMAIL_CONFIGURED = _MAIL_SERVER is not None
if _MAIL_SERVER is not None:
    globals().update(_MAIL_SERVER.django_settings())
else:
    EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
EMAIL_TIMEOUT = 10  # seconds; a stuck mail server must not hold a page for long
DEFAULT_FROM_EMAIL = default_from_address(os.environ, _MAIL_SERVER)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
del _MAIL_SERVER

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # axes logs every sign-in at INFO; its warnings (failures, lockouts) are what matter.
    "loggers": {
        "httpx": {"level": "WARNING"},
        "openai": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}
