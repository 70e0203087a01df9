"""Several real `run_worker` processes on one queue: every job runs once, none is lost.

The first case runs on the suite's own database (SQLite or PostgreSQL). The second needs a
PostgreSQL cluster of its own, with far fewer connection slots than the workers' threads, so
it is set up and checked from outside Django's connection: a child process migrates it and
queues the jobs, and the test reads the rows with psycopg.
"""

import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from playground.generations.forms import GenerationForm
from playground.generations.models import Generation
from playground.generations.queueing import NoInputs, queue_generation
from tests.jobs import FORM_FIELDS
from tests.postgres import postgres_bindir, postgres_cluster, skip_unless_postgresql
from tests.workers import ROOT, child_env, start_worker, stop_worker, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

JOBS = 200
WORKERS = 3
LATENCY = 0.02  # seconds the stand-in takes to answer each call
# Cheap to draw and to store: the smallest size, low quality, JPEG.
FIELDS = {**FORM_FIELDS, "quality": "low", "output_format": "jpeg"}


def prompt(number: int) -> str:
    return f"a lighthouse, take {number}"


def upstream_calls(upstream) -> Counter:  # type: ignore[no-untyped-def]
    """Calls the stand-in received, by prompt (each job has its own)."""
    return Counter(entry["params"].get("prompt") for entry in upstream.requests)


class Workers:
    """Worker processes, each logging to its own file; stopped when the block ends."""

    def __init__(self, folder: Path, concurrency: int, database_url: str | None = None) -> None:
        self.logs = [folder / f"worker-{index}.log" for index in range(WORKERS)]
        self.processes = [
            start_worker(log, concurrency=concurrency, database_url=database_url)
            for log in self.logs
        ]

    def alive(self) -> bool:
        return all(process.poll() is None for process in self.processes)

    def output(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text()[-3000:]}" for log in self.logs)

    def __enter__(self) -> "Workers":
        return self

    def __exit__(self, *exc: object) -> None:
        for process in self.processes:
            stop_worker(process)


def test_three_workers_run_each_of_200_jobs_exactly_once(alice, provider, upstream, tmp_path):
    upstream.set_latency(LATENCY)
    for number in range(JOBS):
        queue_generation(alice, GenerationForm({**FIELDS, "prompt": prompt(number)}), NoInputs())
    assert Generation.objects.filter(state="queued").count() == JOBS

    started = time.monotonic()
    with Workers(tmp_path, concurrency=8) as workers:
        finished = wait_for(
            lambda: not Generation.objects.filter(state__in=Generation.UNFINISHED_STATES).exists(),
            timeout=55,
            interval=0.2,
        )
        assert finished, workers.output()
        assert workers.alive(), workers.output()
    elapsed = time.monotonic() - started

    by_state = Counter(Generation.objects.values_list("state", flat=True))
    assert by_state == {"succeeded": JOBS}, (by_state, workers.output())
    assert set(Generation.objects.values_list("runs", flat=True)) == {1}
    assert set(Generation.objects.values_list("attempts", flat=True)) == {1}
    assert upstream_calls(upstream) == {prompt(number): 1 for number in range(JOBS)}
    assert not DBTaskResult.objects.filter(status=TaskResultStatus.READY).exists()
    assert elapsed < 55, f"{JOBS} jobs took {elapsed:.0f} s"


# -- PostgreSQL with fewer connection slots than worker threads -------------------------------

MAX_CONNECTIONS = 20  # 3 of them reserved for superusers: the monitor below, not the workers
WORKER_ROLE = "playground"
# Run in a child process on the small cluster: migrate, then queue JOBS jobs for one user with
# the stand-in (argv[1]) as the default provider, through the one queueing function.
QUEUE_JOBS = """
import sys
import django
django.setup()
from django.contrib.auth import get_user_model
from django.core.management import call_command
call_command("migrate", "--noinput", verbosity=0)
from playground.generations.forms import GenerationForm
from playground.generations.queueing import NoInputs, queue_generation
from playground.providers.models import Provider
from tests.generations.test_many_workers import FIELDS, JOBS, prompt

provider = Provider(name="Stand-in", kind=Provider.Kind.OFFLINE, base_url=sys.argv[1],
                    is_default=True)
provider.set_api_key("sk-test-key-0123456789")
provider.save()
owner = get_user_model().objects.create_user("carol", password="carol-password-1")
for number in range(JOBS):
    queue_generation(owner, GenerationForm({**FIELDS, "prompt": prompt(number)}), NoInputs())
print("queued")
"""


@pytest.fixture
def crowded_postgres() -> Iterator[tuple[str, str]]:
    """A cluster with MAX_CONNECTIONS slots: (the workers' URL, a superuser's URL)."""
    skip_unless_postgresql("a cluster of its own, with few connection slots")
    assert postgres_bindir() is not None
    import psycopg

    with postgres_cluster({"max_connections": str(MAX_CONNECTIONS)}) as admin_url:
        server = admin_url.rsplit("/", 1)[0]
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            # Not a superuser: the workers cannot take the slots kept for the monitor.
            admin.execute(f"CREATE ROLE {WORKER_ROLE} LOGIN")
            admin.execute(f"CREATE DATABASE playground OWNER {WORKER_ROLE}")
        host = server.split("@", 1)[1]
        yield f"postgres://{WORKER_ROLE}@{host}/playground", admin_url


def job_rows(monitor) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    from psycopg.rows import dict_row

    table = Generation._meta.db_table
    fields = "id, state, runs, attempts, error_code, error_message"
    with monitor.cursor(row_factory=dict_row) as cursor:
        return cursor.execute(f"SELECT {fields} FROM {table}").fetchall()


def states(rows: list[dict]) -> Counter:  # type: ignore[type-arg]
    return Counter(row["state"] for row in rows)


def take_every_slot(workers_url: str, squatters: list) -> None:  # type: ignore[type-arg]
    """Open connections as the workers' role until the server refuses one."""
    import psycopg

    while len(squatters) < MAX_CONNECTIONS:
        try:
            squatters.append(psycopg.connect(workers_url, autocommit=True, connect_timeout=5))
        except psycopg.OperationalError:
            return


def crowd_out_the_workers(monitor, workers_url: str, seconds: float) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """Cut the workers' connections and hold every free slot for a while: their queries fail
    and their reconnections are refused ("too many clients"). Returns the workers'
    connections cut and the slots held."""
    squatters: list = []  # type: ignore[type-arg]
    try:
        take_every_slot(workers_url, squatters)
        ours = [squatter.info.backend_pid for squatter in squatters]
        cut = monitor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE usename = %s AND pid <> ALL(%s)",
            [WORKER_ROLE, ours],
        ).fetchall()
        take_every_slot(workers_url, squatters)  # the slots the cut connections left
        time.sleep(seconds)
        return len(cut), len(squatters)
    finally:
        for squatter in squatters:
            squatter.close()


def test_workers_short_of_database_connections_lose_no_job_and_run_none_twice(
    crowded_postgres, upstream, tmp_path
):
    import psycopg

    workers_url, admin_url = crowded_postgres
    queued = subprocess.run(
        [sys.executable, "-c", QUEUE_JOBS, upstream.base_url],
        cwd=ROOT,
        env=child_env(workers_url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert queued.returncode == 0 and "queued" in queued.stdout, queued.stderr[-3000:]
    upstream.clear_requests()
    upstream.set_latency(LATENCY)

    with psycopg.connect(admin_url, autocommit=True) as monitor:
        assert states(job_rows(monitor)) == {"queued": JOBS}
        started = time.monotonic()
        # 3 x 32 threads, 17 slots; then, with jobs in flight, no slot at all for a while.
        with Workers(tmp_path, concurrency=32, database_url=workers_url) as workers:
            assert wait_for(
                lambda: states(job_rows(monitor))["succeeded"] >= JOBS // 5, timeout=30
            ), workers.output()
            cut, held = crowd_out_the_workers(monitor, workers_url, seconds=3)
            assert cut > 0 and held > 0, (cut, held)
            finished = wait_for(
                lambda: not set(Generation.UNFINISHED_STATES) & set(states(job_rows(monitor))),
                timeout=55,
                interval=0.5,
            )
            assert finished, workers.output()
            assert workers.alive(), workers.output()
        elapsed = time.monotonic() - started
        rows = job_rows(monitor)

    unusual = [row for row in rows if row["state"] != "succeeded" or row["runs"] != 1]
    report = json.dumps(unusual[:10], default=str) + workers.output()
    assert states(rows) == {"succeeded": JOBS}, report
    assert {row["runs"] for row in rows} == {1}, report
    assert upstream_calls(upstream) == {prompt(number): 1 for number in range(JOBS)}
    # Whatever went wrong was handled: no error escaped a thread.
    said = workers.output().lower()
    assert "exception in thread" not in said, said[-6000:]
    assert elapsed < 55, f"{JOBS} jobs took {elapsed:.0f} s"
