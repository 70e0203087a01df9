"""Database connections: a bounded pool per web process on PostgreSQL, SQLite as it was.

The settings tests read the settings in a child process, as each process reads them at start.
The pool test runs in the PostgreSQL run (make test-postgres) against the live ASGI server.
"""

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.db import connection

from tests.postgres import skip_unless_postgresql

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = "postgres://playground@127.0.0.1:5432/playground"
PRINT_DATABASE = (
    "import json; from django.conf import settings; "
    "print(json.dumps(settings.DATABASES['default'], default=str))"
)


def settings_in_child(tmp_path: Path, env: dict[str, str], command: str = "web") -> dict:
    """The default database's settings as a web process or a management command reads them."""
    child_env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("DB_") and key != "DATABASE_URL"
    }
    child_env |= {"DATA_DIR": str(tmp_path), "SECRET_KEY": "x" * 50, **env}
    if command == "web":
        args = [
            sys.executable,
            "-c",
            "import django; django.setup(); " + PRINT_DATABASE,
        ]
        child_env["DJANGO_SETTINGS_MODULE"] = "playground.settings"
    else:
        args = [sys.executable, "manage.py", "shell", "--no-imports", "-c", PRINT_DATABASE]
    result = subprocess.run(
        args, cwd=ROOT, env=child_env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_sqlite_keeps_its_settings_and_gets_no_pool(tmp_path: Path) -> None:
    database = settings_in_child(tmp_path, {})
    assert database["ENGINE"] == "playground.core.sqlite"
    assert database["NAME"] == str(tmp_path / "playground.sqlite3")
    assert database["OPTIONS"] == {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    assert database["CONN_MAX_AGE"] == 0
    assert database["CONN_HEALTH_CHECKS"] is False
    worker = settings_in_child(tmp_path, {}, command="manage.py")
    assert worker["OPTIONS"] == database["OPTIONS"]
    assert worker["CONN_MAX_AGE"] == 0


def test_web_processes_on_postgresql_may_borrow_from_a_bounded_pool(tmp_path: Path) -> None:
    unpooled = settings_in_child(tmp_path, {"DATABASE_URL": POSTGRES_URL})
    assert "pool" not in unpooled["OPTIONS"]  # by default: a connection per request
    assert unpooled["CONN_MAX_AGE"] == 0  # under ASGI, never persistent
    assert unpooled["CONN_HEALTH_CHECKS"] is True

    pooled = settings_in_child(tmp_path, {"DATABASE_URL": POSTGRES_URL, "DB_POOL": "true"})
    assert pooled["OPTIONS"]["pool"] == {"min_size": 2, "max_size": 10}
    assert pooled["CONN_MAX_AGE"] == 0  # a pool does not mix with persistent connections
    assert pooled["CONN_HEALTH_CHECKS"] is True

    sized = settings_in_child(
        tmp_path,
        {
            "DATABASE_URL": POSTGRES_URL,
            "DB_POOL": "true",
            "DB_POOL_MIN_SIZE": "0",
            "DB_POOL_MAX_SIZE": "4",
        },
    )
    assert sized["OPTIONS"]["pool"] == {"min_size": 0, "max_size": 4}


def test_management_commands_on_postgresql_keep_their_connections(tmp_path: Path) -> None:
    env = {"DATABASE_URL": POSTGRES_URL}
    database = settings_in_child(tmp_path, env, command="manage.py")
    assert "pool" not in database["OPTIONS"]
    assert database["CONN_MAX_AGE"] == 60
    assert database["CONN_HEALTH_CHECKS"] is True
    shorter = settings_in_child(tmp_path, {**env, "DB_CONN_MAX_AGE": "5"}, command="manage.py")
    assert shorter["CONN_MAX_AGE"] == 5


@pytest.mark.parametrize(("min_size", "max_size"), [("5", "3"), ("0", "0"), ("-1", "4")])
def test_an_impossible_pool_size_is_refused_by_name(
    tmp_path: Path, min_size: str, max_size: str
) -> None:
    env = {
        **os.environ,
        "DATA_DIR": str(tmp_path),
        "SECRET_KEY": "x" * 50,
        "DATABASE_URL": POSTGRES_URL,
        "DB_POOL": "true",
        "DB_POOL_MIN_SIZE": min_size,
        "DB_POOL_MAX_SIZE": max_size,
        "DJANGO_SETTINGS_MODULE": "playground.settings",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"DB_POOL_MAX_SIZE ({max_size})" in result.stderr
    assert f"DB_POOL_MIN_SIZE ({min_size})" in result.stderr


# --- On PostgreSQL: the live ASGI server ---------------------------------------------------

POOL_MAX = 3
REQUESTS = 40


def _monitor_connection():  # type: ignore[no-untyped-def]
    import psycopg

    db = connection.settings_dict
    return psycopg.connect(
        host=db["HOST"],
        port=db["PORT"],
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname=db["NAME"],
        autocommit=True,
    )


def _backends(monitor) -> set[int]:  # type: ignore[no-untyped-def]
    """Client connections to the test database, but for the monitor and event listeners."""
    rows = monitor.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        " AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
        " AND query NOT ILIKE 'LISTEN %%'"
    ).fetchall()
    return {pid for (pid,) in rows}


@pytest.fixture
def small_pool() -> Iterator[None]:
    """This process's pool rebuilt with room for POOL_MAX connections, then as configured."""
    skip_unless_postgresql("the pool is PostgreSQL's")
    options = connection.settings_dict["OPTIONS"]
    configured = options.get("pool")
    connection.close()
    connection.close_pool()
    options["pool"] = {"min_size": 1, "max_size": POOL_MAX}
    try:
        yield
    finally:
        connection.close()
        connection.close_pool()
        if configured is None:
            options.pop("pool")
        else:
            options["pool"] = configured


def test_a_burst_of_requests_shares_the_pools_few_connections(
    live_server, transactional_db, small_pool
) -> None:  # type: ignore[no-untyped-def]
    assert connection.settings_dict["OPTIONS"]["pool"]["max_size"] == POOL_MAX
    monitor = _monitor_connection()
    before = _backends(monitor) | {monitor.info.backend_pid}
    seen: set[int] = set()
    peak = 0
    done = threading.Event()

    def watch() -> None:
        nonlocal peak
        with _monitor_connection() as watcher:
            while not done.is_set():
                now = _backends(watcher) - before
                seen.update(now)
                peak = max(peak, len(now))
                time.sleep(0.005)

    def get_healthz(_: int) -> int:
        with urllib.request.urlopen(f"{live_server.url}/healthz", timeout=60) as response:
            return response.status

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with ThreadPoolExecutor(max_workers=REQUESTS) as requests:
            statuses = list(requests.map(get_healthz, range(REQUESTS)))
        time.sleep(0.2)  # one more look after the last response
    finally:
        done.set()
        watcher.join(timeout=10)
    after = _backends(monitor) - before
    monitor.close()

    # Every request was served (waiting for a connection when all were lent out) ...
    assert statuses == [200] * REQUESTS
    # ... by a few connections, reused: never more at once than the pool holds, and not one
    # opened per request (without the pool each request would open and close its own).
    assert 1 <= len(seen) <= POOL_MAX, seen
    assert peak <= POOL_MAX
    # The connections stay open in the pool for the next requests.
    assert after and after <= seen
