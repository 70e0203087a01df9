"""Run pytest on a throwaway PostgreSQL cluster: `python -m tests.run_on_postgres [args]`.

Starts a cluster on loopback (tests/postgres.py), runs pytest with DATABASE_URL pointing at it
(pytest-django creates and drops the test database), stops the cluster and exits with pytest's
status. PostgreSQL missing is a failure, not a skip. The child pytest loads this module as a
plugin: it stops at once unless Django's database really is PostgreSQL, and fails any test
that skipped for want of PostgreSQL, so such skips never pass for a PostgreSQL run.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.postgres import POSTGRESQL_ONLY, SQLITE_ONLY, postgres_bindir, postgres_cluster

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = "tests.run_on_postgres"


def main(args: list[str]) -> int:
    if postgres_bindir() is None:
        print("PostgreSQL is not installed (apt-get install postgresql)", file=sys.stderr)
        return 1
    try:
        import psycopg  # noqa: F401
    except ImportError:
        print("psycopg is not installed (pip install -e '.[test]')", file=sys.stderr)
        return 1
    with postgres_cluster() as database_url:
        command = [sys.executable, "-m", "pytest", "-p", PLUGIN, *(args or ["tests"])]
        return subprocess.run(
            command, cwd=ROOT, env={**os.environ, "DATABASE_URL": database_url}
        ).returncode


# -- the plugin, in the child pytest ---------------------------------------------------------


def pytest_sessionstart(session: pytest.Session) -> None:
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    if not engine.endswith("postgresql"):
        pytest.exit(f"a PostgreSQL run is on {engine}, not PostgreSQL", returncode=1)


def _wants_postgresql(reason: str) -> bool:
    if reason.startswith(SQLITE_ONLY):
        return False
    return reason.startswith(POSTGRESQL_ONLY) or "postgres" in reason.lower() or "psycopg" in reason


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> object:
    outcome = yield
    report = outcome.get_result()
    if report.skipped and isinstance(report.longrepr, tuple):
        reason = str(report.longrepr[2]).removeprefix("Skipped: ")
        if _wants_postgresql(reason):
            report.outcome = "failed"
            report.longrepr = f"skipped on the PostgreSQL run: {reason}"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
