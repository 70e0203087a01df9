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
from collections.abc import Iterator
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
def postgres_cluster() -> Iterator[str]:
    """Start a throwaway cluster; yields a DATABASE_URL for a database to create."""
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

    def run(*args: str, check: bool = True) -> None:
        subprocess.run(
            _as_cluster_owner([str(bindir / args[0]), *args[1:]]),
            check=check,
            capture_output=True,
            timeout=120,
        )

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
            f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off",
            "start",
        )
        try:
            yield f"postgres://postgres@127.0.0.1:{port}/playground"
        finally:
            run("pg_ctl", "-D", str(data), "-m", "immediate", "stop", check=False)
    finally:
        shutil.rmtree(base, ignore_errors=True)
