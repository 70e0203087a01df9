"""HTTPS in production: SITE_URL, PROXY_COUNT and TLS on gunicorn, through real processes.

Settings are read at start, so each case runs `manage.py` or gunicorn (the Procfile's web
command) in a subprocess with its own environment and an empty DATA_DIR.
"""

import http.client
import json
import os
import re
import shlex
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest

PROJECT = Path(__file__).resolve().parents[1]
SITE = "https://images.example.com"
HOST = "images.example.com"
ONE_YEAR = 365 * 24 * 60 * 60
# Inherited variables that would change what is under test.
DEPLOY_VARIABLES = (
    "SITE_URL",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "PUBLIC_BASE_URL",
    "PROXY_COUNT",
    "DEBUG",
    "SECRET_KEY",
    "SECRET_KEY_FALLBACKS",
    "DATABASE_URL",
    "STATIC_ROOT",
    "HSTS_SECONDS",
    "HSTS_INCLUDE_SUBDOMAINS",
    "HSTS_PRELOAD",
    "TLS_CERTFILE",
    "TLS_KEYFILE",
    "FORWARDED_ALLOW_IPS",
    "GUNICORN_CMD_ARGS",
    "EMAIL_URL",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    # Set for the browser tests' own process; a deployment never has it.
    "DJANGO_ALLOW_ASYNC_UNSAFE",
)


def clean_env(data_dir: Path, **variables: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in DEPLOY_VARIABLES}
    env.update({"DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1", **variables})
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return manage(env, "check", "--deploy", "--fail-level", "WARNING")


def settings_in(env: dict[str, str], *names: str) -> dict[str, object]:
    """The named settings as a fresh process with `env` sees them."""
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        f"print(json.dumps({{n: getattr(settings, n, None) for n in {list(names)!r}}}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT,
        env={**env, "DJANGO_SETTINGS_MODULE": "playground.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- manage.py check --deploy ----------------------------------------------------------------


@pytest.mark.parametrize("proxies", ["0", "1"])
def test_the_documented_production_settings_pass_check_deploy(tmp_path, proxies):
    done = check_deploy(clean_env(tmp_path, SITE_URL=SITE, PROXY_COUNT=proxies))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


def dockerfile_env() -> dict[str, str]:
    """The Dockerfile's ENV lines (KEY=value pairs, with continuation lines)."""
    text = (PROJECT / "Dockerfile").read_text().replace("\\\n", " ")
    pairs: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            pairs.update(word.split("=", 1) for word in shlex.split(line[4:]) if "=" in word)
    return pairs


def documented_web_runs() -> list[dict[str, str]]:
    """The `-e` variables of each web `docker run` in README.md's Production section."""
    readme = (PROJECT / "README.md").read_text()
    section = readme.split("## Production", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^docker run (?:[^\n]*\\\n)*[^\n]*", section, flags=re.M)
    runs = []
    for command in commands:
        words = shlex.split(command.replace("\\\n", " "))
        if "--name" in words and words[words.index("--name") + 1] == "web":
            pairs = [words[i + 1] for i, word in enumerate(words) if word == "-e"]
            runs.append(dict(pair.split("=", 1) for pair in pairs))
    return runs


def test_the_readme_documents_a_proxy_run_and_a_tls_run() -> None:
    runs = documented_web_runs()
    assert len(runs) == 2
    assert all(run["SITE_URL"].startswith("https://") for run in runs)
    assert {run.get("PROXY_COUNT", "0") for run in runs} == {"0", "1"}


@pytest.mark.parametrize("run", documented_web_runs(), ids=["behind-proxy", "tls-on-gunicorn"])
def test_the_docker_image_as_documented_passes_check_deploy(tmp_path, run):
    image = dockerfile_env()
    assert image["DATA_DIR"] == "/data" and "DEBUG" not in image and "SECRET_KEY" not in image
    variables = {**image, **run}
    # Paths of the image, made local; the secret key is the one generated into DATA_DIR.
    variables["DATA_DIR"] = str(tmp_path / "data")
    variables["STATIC_ROOT"] = str(tmp_path / "static")
    done = check_deploy(clean_env(tmp_path / "data", **variables))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


def test_without_site_url_nothing_forces_https(tmp_path):
    seen = settings_in(
        clean_env(tmp_path),
        "SECURE_SSL_REDIRECT",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_HSTS_SECONDS",
        "SECURE_PROXY_SSL_HEADER",
        "ALLOWED_HOSTS",
        "PUBLIC_BASE_URL",
    )
    assert seen == {
        "SECURE_SSL_REDIRECT": False,
        "SESSION_COOKIE_SECURE": False,
        "CSRF_COOKIE_SECURE": False,
        "SECURE_HSTS_SECONDS": 0,
        "SECURE_PROXY_SSL_HEADER": None,
        "ALLOWED_HOSTS": ["127.0.0.1", "localhost", "[::1]"],
        "PUBLIC_BASE_URL": "",
    }


def test_site_url_gives_hosts_origins_and_the_share_address(tmp_path):
    names = ("ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "PUBLIC_BASE_URL", "SECURE_SSL_HOST")
    derived = settings_in(clean_env(tmp_path, SITE_URL=f"{SITE}/"), *names)
    assert derived == {
        "ALLOWED_HOSTS": [HOST],
        "CSRF_TRUSTED_ORIGINS": [SITE],
        "PUBLIC_BASE_URL": SITE,
        "SECURE_SSL_HOST": HOST,
    }
    explicit = clean_env(
        tmp_path,
        SITE_URL="https://Images.Example.com:8443",
        ALLOWED_HOSTS="a.example.com",
        HSTS_SECONDS="300",
        HSTS_PRELOAD="false",
    )
    seen = settings_in(explicit, *names, "SECURE_HSTS_SECONDS", "SECURE_HSTS_PRELOAD")
    assert seen["ALLOWED_HOSTS"] == ["a.example.com"]
    assert seen["CSRF_TRUSTED_ORIGINS"] == ["https://images.example.com:8443"]
    assert seen["SECURE_HSTS_SECONDS"] == 300 and seen["SECURE_HSTS_PRELOAD"] is False


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("images.example.com", "must start with https://"),
        ("https://images.example.com/playground", "origin only"),
        ("https://images.example.com/?a=1", "origin only"),
        ("https://user@images.example.com", "origin only"),
        ("ftp://images.example.com", "must start with https://"),
        ("https://", "must start with https://"),
        ("https://images example.com", "no valid host name"),
        ("https://images.example.com:99999", "not a valid URL"),
    ],
)
def test_a_bad_site_url_stops_the_start_naming_it(tmp_path, value, reason):
    done = manage(clean_env(tmp_path, SITE_URL=value), "check")
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and "SITE_URL" in done.stderr
    assert reason in done.stderr


def test_debug_is_refused_with_a_public_https_site(tmp_path):
    done = manage(clean_env(tmp_path, SITE_URL=SITE, DEBUG="true"), "check")
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and "DEBUG must be off" in done.stderr


def test_a_weak_secret_key_is_refused_with_a_public_https_site(tmp_path):
    done = manage(clean_env(tmp_path, SITE_URL=SITE, SECRET_KEY="change-me"), "check")
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and "SECRET_KEY is too weak" in done.stderr
    assert "change-me" not in done.stderr


# -- the live server: gunicorn as the Procfile starts it -------------------------------------


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def cookies(self) -> dict[str, str]:
        """Set-Cookie by cookie name, the whole header value."""
        values = self.headers.get_all("Set-Cookie") or []
        return {value.split("=", 1)[0]: value for value in values}


@dataclass
class Web:
    port: int
    tls: bool = False
    host: str = HOST  # the Host header sent

    def request(
        self, method: str, path: str, headers: dict[str, str] | None = None, body: str = ""
    ) -> Reply:
        if self.tls:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE  # a self-signed test certificate
            connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                "127.0.0.1", self.port, timeout=20, context=context
            )
        else:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        try:
            connection.request(method, path, body or None, {"Host": self.host, **(headers or {})})
            response = connection.getresponse()
            return Reply(response.status, response.headers, response.read())
        finally:
            connection.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def procfile_web_command(port: int) -> str:
    """The Procfile's web command (`make run`)."""
    line = next(
        line for line in (PROJECT / "Procfile").read_text().splitlines() if line.startswith("web:")
    )
    return line.removeprefix("web:").strip().replace("$WEB_PORT", str(port))


def dockerfile_instruction(name: str) -> list[str]:
    """The exec-form (JSON) argument list of the Dockerfile's CMD or HEALTHCHECK ... CMD."""
    text = (PROJECT / "Dockerfile").read_text().replace("\\\n", " ")
    line = next(line for line in text.splitlines() if line.startswith(f"{name} "))
    return json.loads(line[line.index("[") :])


def dockerfile_web_command(port: int) -> str:
    """The image's gunicorn command (after its migrations), on loopback for the test."""
    script = dockerfile_instruction("CMD")[-1]
    command = script[script.index("exec gunicorn ") :].removeprefix("exec ")
    assert "0.0.0.0:${PORT}" in command
    return command.replace("0.0.0.0:${PORT}", f"127.0.0.1:{port}")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """A migrated DATA_DIR with static files and a user, shared by this module's servers."""
    path = tmp_path_factory.mktemp("deploy") / "data"
    env = clean_env(path)
    for command in (["migrate", "--noinput"], ["collectstatic", "--noinput"]):
        done = manage(env, *command, "-v0")
        assert done.returncode == 0, done.stderr[-2000:]
    user = clean_env(path, DJANGO_SUPERUSER_PASSWORD="carol-password-1")
    done = manage(
        user, "createsuperuser", "--noinput", "--username", "carol", "--email", "carol@example.com"
    )
    assert done.returncode == 0, done.stderr
    return path


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", f"/CN={HOST}", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def start_web(data_dir, tmp_path) -> Iterator:
    processes: list[subprocess.Popen[bytes]] = []

    def start(tls: bool = False, host: str = HOST, image: bool = False, **variables: str) -> Web:
        """gunicorn as the Procfile starts it, or as the Docker image does (`image`)."""
        port = free_port()
        env = clean_env(data_dir, PORT=str(port), **variables)
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        command = dockerfile_web_command(port) if image else procfile_web_command(port)
        log = tmp_path / f"gunicorn-{port}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                ["sh", "-c", f"exec {command}"],
                cwd=PROJECT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        processes.append(process)
        web = Web(port, tls=tls, host=host.replace("PORT", str(port)))
        wait_until_up(web, process, log)
        return web

    yield start
    for process in processes:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until_up(web: Web, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited: {log.read_text()[-2000:]}")
        try:
            if web.request("GET", "/healthz").status == 200:
                return
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.2)
    raise AssertionError(f"gunicorn did not answer /healthz: {log.read_text()[-2000:]}")


def healthcheck(env_variables: dict[str, str], data_dir: Path) -> int:
    """Exit code of the Dockerfile's HEALTHCHECK command with these variables."""
    command = dockerfile_instruction("HEALTHCHECK")
    assert command[0] == "python"
    done = subprocess.run(
        [sys.executable, *command[1:]],
        cwd=PROJECT,
        env=clean_env(data_dir, **env_variables),
        capture_output=True,
        timeout=30,
    )
    return done.returncode


def sign_in(web: Web, headers: dict[str, str]) -> Reply:
    """Carol signs in over `headers` (e.g. X-Forwarded-Proto); returns the login's reply."""
    form = web.request("GET", "/accounts/login/", headers)
    assert form.status == 200
    csrf_cookie = form.cookies()["csrftoken"].split(";", 1)[0]
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', form.body)
    assert token is not None
    body = urlencode(
        {"username": "carol", "password": "carol-password-1", "csrfmiddlewaretoken": token[1]}
    )
    return web.request(
        "POST",
        "/accounts/login/",
        {
            **headers,
            "Cookie": csrf_cookie,
            "Origin": SITE,
            "Referer": f"{SITE}/accounts/login/",
            "Content-Type": "application/x-www-form-urlencoded",
        },
        body,
    )


def assert_secure_cookies(form_cookie: str, session_cookie: str) -> None:
    for cookie in (form_cookie, session_cookie):
        attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
        assert "secure" in attributes and "samesite=lax" in attributes, cookie
    assert "httponly" in session_cookie.lower()


def test_behind_a_trusted_proxy_it_redirects_plain_http_and_sends_hsts(start_web, data_dir):
    web = start_web(SITE_URL=SITE, PROXY_COUNT="1")
    plain = web.request("GET", "/accounts/login/?next=/gallery/")
    assert plain.status == 301
    assert plain.headers["Location"] == f"{SITE}/accounts/login/?next=/gallery/"
    assert "Strict-Transport-Security" not in plain.headers  # only ever sent over https

    https = {"X-Forwarded-Proto": "https"}
    page = web.request("GET", "/accounts/login/", https)
    assert page.status == 200
    hsts = page.headers["Strict-Transport-Security"]
    assert hsts == f"max-age={ONE_YEAR}; includeSubDomains; preload"
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert page.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    signed_in = sign_in(web, https)
    assert signed_in.status == 302, signed_in.body[:500]
    assert_secure_cookies(page.cookies()["csrftoken"], signed_in.cookies()["sessionid"])

    # The container's health check: plain HTTP on loopback, never redirected.
    assert web.request("GET", "/healthz").status == 200
    variables = {"PORT": str(web.port), "SITE_URL": SITE, "PROXY_COUNT": "1"}
    assert healthcheck(variables, data_dir) == 0


@pytest.mark.parametrize("image", [False, True], ids=["procfile", "dockerfile"])
def test_without_a_trusted_proxy_x_forwarded_proto_is_ignored(start_web, image):
    web = start_web(image=image, SITE_URL=SITE)  # PROXY_COUNT=0, even from loopback
    claimed = web.request("GET", "/accounts/login/", {"X-Forwarded-Proto": "https"})
    assert claimed.status == 301 and claimed.headers["Location"].startswith("https://")
    assert "Strict-Transport-Security" not in claimed.headers


def test_gunicorn_can_terminate_tls_itself(start_web, certificate, data_dir):
    cert, key = certificate
    tls = {"SITE_URL": SITE, "TLS_CERTFILE": str(cert), "TLS_KEYFILE": str(key)}
    web = start_web(tls=True, image=True, **tls)
    page = web.request("GET", "/accounts/login/")
    assert page.status == 200
    assert page.headers["Strict-Transport-Security"].startswith(f"max-age={ONE_YEAR}")
    signed_in = sign_in(web, {})
    assert signed_in.status == 302
    assert_secure_cookies(page.cookies()["csrftoken"], signed_in.cookies()["sessionid"])
    assert healthcheck({**tls, "PORT": str(web.port)}, data_dir) == 0


def test_without_site_url_plain_http_on_loopback_just_works(start_web):
    web = start_web(host="127.0.0.1:PORT")  # as `make run` serves it
    page = web.request("GET", "/accounts/login/")
    assert page.status == 200
    assert "Strict-Transport-Security" not in page.headers
    assert "secure" not in page.cookies()["csrftoken"].lower()
