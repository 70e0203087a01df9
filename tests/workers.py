"""A real `run_worker` process beside the test run, sharing its database file and media."""

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from django.conf import settings
from django.db import connection, connections

ROOT = Path(__file__).resolve().parent.parent


def child_database_url() -> str:
    """The test run's own database (not the one in settings), for a child process."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    return f"sqlite:///{db['NAME']}"


def child_env(database_url: str | None = None) -> dict[str, str]:
    """A child process's environment: the test run's database (or `database_url`), media and key."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "playground.settings",
        "DATABASE_URL": database_url or child_database_url(),
        "DATA_DIR": str(Path(settings.MEDIA_ROOT).parent),
        "SECRET_KEY": settings.SECRET_KEY,
        "UPSTREAM_BACKOFF_SECONDS": "0.05",
    }


def start_worker(
    log_path: Path,
    concurrency: int = 8,
    grace_seconds: float = 5.0,
    interval: float = 0.1,
    database_url: str | None = None,
    extra_env: dict[str, str] | None = None,
) -> subprocess.Popen:
    env = {**child_env(database_url), "WORKER_CONCURRENCY": str(concurrency), **(extra_env or {})}
    log = log_path.open("ab")
    return subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "run_worker",
            "--interval",
            str(interval),
            "--grace-seconds",
            str(grace_seconds),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def stop_worker(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.05) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


class WorkerThread:
    """A PoolWorker running its claim loop in a thread of the test process."""

    def __init__(self, concurrency: int = 2, interval: float = 0.05) -> None:
        from playground.generations.management.commands.run_worker import pool_worker

        self.worker = pool_worker(concurrency, 5, ["default"], interval)
        self.thread = threading.Thread(target=self._run, name="claim-loop", daemon=True)

    def _run(self) -> None:
        try:
            self.worker.run()
        finally:
            connections.close_all()

    def __enter__(self):  # type: ignore[no-untyped-def]
        self.thread.start()
        return self.worker

    def __exit__(self, *exc: object) -> None:
        self.worker.running = False
        self.worker.wakeups.interrupted = True
        self.thread.join(timeout=60)
        assert not self.thread.is_alive()
