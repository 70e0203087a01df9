"""A throwaway PostgreSQL cluster on loopback, started from Debian's `postgresql` binaries.

initdb refuses to run as root, so as root the cluster belongs to the `postgres` system user.
"""

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path


def postgres_bindir() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    found = shutil.which("initdb")
    for path in [*candidates, found]:
        if path and Path(path).exists():
            return Path(path).parent
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_cluster_owner(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


@contextmanager
def postgres_cluster(settings: Mapping[str, str] | None = None) -> Iterator[str]:
    """Start a throwaway cluster; yields a DATABASE_URL for a database to create.

    `settings` are extra server settings, e.g. {"max_connections": "20"}.
    """
    bindir = postgres_bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    # Its own folder straight under the temporary directory: the cluster's owner must reach
    # it, and pytest keeps its own temporary tree private to the user running the tests.
    base = Path(tempfile.mkdtemp(prefix="playground-pg-"))
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(base, owner.pw_uid, owner.pw_gid)
    data = base / "pgdata"
    port = _free_port()
    extra = "".join(f" -c {name}={value}" for name, value in (settings or {}).items())

    def run(*args: str, check: bool = True) -> None:
        done = subprocess.run(
            _as_cluster_owner([str(bindir / args[0]), *args[1:]]),
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check and done.returncode != 0:
            log = base / "postgres.log"
            server = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{args[0]} failed: {done.stderr[-2000:]}{server}")

    try:
        run("initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync")
        run(
            "pg_ctl",
            "-D",
            str(data),
            "-w",
            "-l",
            str(base / "postgres.log"),
            "-o",
            f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off{extra}",
            "start",
        )
        try:
            yield f"postgres://postgres@127.0.0.1:{port}/playground"
        finally:
            run("pg_ctl", "-D", str(data), "-m", "immediate", "stop", check=False)
    finally:
        shutil.rmtree(base, ignore_errors=True)


# Skip reasons that start with these name the one database a test needs. A run on PostgreSQL
# (tests/run_on_postgres.py) fails any test skipped for want of PostgreSQL.
POSTGRESQL_ONLY = "PostgreSQL only"
SQLITE_ONLY = "SQLite only"


def skip_unless_postgresql(why: str) -> None:
    """Skip the calling test unless the test database is PostgreSQL."""
    __tracebackhide__ = True  # the skip names the test's line, not this one
    import pytest
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip(f"{POSTGRESQL_ONLY} (make test-postgres): {why}")


def skip_unless_sqlite(why: str) -> None:
    """Skip the calling test unless the test database is SQLite."""
    __tracebackhide__ = True  # the skip names the test's line, not this one
    import pytest
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip(f"{SQLITE_ONLY} (make test): {why}")
