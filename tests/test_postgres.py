"""The money and job guarantees on PostgreSQL: the same tests, run against a real cluster.

They run in a child pytest, because the database is chosen when Django starts. Locally the
test is skipped without PostgreSQL; on CI (CI=true) it must run.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.postgres import postgres_bindir, postgres_cluster

ROOT = Path(__file__).resolve().parent.parent
ON_POSTGRES = [
    "tests/generations/test_budget_race.py",
    "tests/generations/test_queueing.py",
    "tests/generations/test_worker_recovery.py",
    "tests/generations/test_worker_resilience.py",
    "tests/generations/test_database_hiccups.py",
    "tests/generations/test_wakeup.py",
    "tests/generations/test_push.py",
    "tests/generations/test_deletion.py",
    "tests/pricing/test_budget_and_cost.py",
    # The gallery's queries: lookups, search, keyset conditions on timestamps, bulk actions.
    "tests/gallery/test_gallery_filters.py",
    "tests/gallery/test_gallery_pagination.py",
    "tests/gallery/test_gallery_bulk.py",
    # A web process's bounded connection pool (DB_POOL=true), under a burst of requests.
    "tests/test_db_connections.py",
]


def test_it_keeps_budgets_and_jobs_safe_on_postgresql():
    if postgres_bindir() is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("PostgreSQL is required on CI (apt-get install postgresql)")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    pytest.importorskip("psycopg")
    with postgres_cluster() as database_url:
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *ON_POSTGRES],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": database_url},
            capture_output=True,
            text=True,
            timeout=600,
        )
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert " passed" in summary and "skipped" not in summary, summary
