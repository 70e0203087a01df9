"""Many jobs at once across several web and worker processes (the compose.yaml design).

It starts, as plain processes on this machine, what `compose.yaml` runs on several: web
processes (gunicorn with one uvicorn worker each, on their own ports, like one machine each),
`run_worker` processes, and the offline stand-in of the Images API answering after `--latency`
seconds, in a temporary DATA_DIR, on a throwaway PostgreSQL cluster (`--database postgres`,
max_connections 100) or on SQLite (`--database sqlite`). Then it submits `--jobs` jobs over
HTTP (a signed-in session posting the playground form, CSRF token included) as fast as the web
processes take them, spread over all of them, and while they run samples every 0.2 s:

- upstream calls in flight: from the stand-in's request log (each call arrives at a logged time
  and is answered `--latency` seconds later), and jobs the database says are running;
- database connections: the client sessions in pg_stat_activity, by process (each process
  names itself with PGAPPNAME); PostgreSQL only;
- each worker's resident memory (VmRSS; VmHWM at the end).

It reports: the most upstream calls in flight at once, that every job ran exactly once (runs
== 1 and one upstream call per job), each job's settle time (finished_at - created_at, and
finished - its POST sent), the peak database connections, each worker's peak memory and the
submit errors, each against its target.

`--memory` runs 2,000 jobs in consecutive waves at a low latency (each wave done when its jobs
have settled and their renditions are stored) and reads the worker's memory after every 500: it
must stay flat (within 10%).

    .venv/bin/python bench/bench_scale_out.py --database postgres   # 3 workers x 100, 300 jobs
    .venv/bin/python bench/bench_scale_out.py --database sqlite     # 1 worker x 300, 300 jobs
    .venv/bin/python bench/bench_scale_out.py --database sqlite --memory
    .venv/bin/python bench/bench_scale_out.py --database postgres --jobs 30 --latency 2  # quick
    .venv/bin/python bench/bench_scale_out.py --database postgres --s3 --serve  # to use by hand

`--s3` keeps media in a private bucket of moto's S3 server on loopback; `--serve` starts the
whole design (with its admin's credentials printed) and keeps it running until Ctrl-C.

Settings from the environment (e.g. the worker's database pool) reach every process. It prints
figures with PASS/FAIL; exits 1 when a target is missed, 2 when the run itself fails.
"""

import argparse
import contextlib
import json
import math
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench_jobs import (
    JOB_FIELDS,
    BenchError,
    Stack,
    check_alive,
    free_port,
    http_request,
    log_tails,
    login,
    manage,
    progress,
    read_credentials,
    stack_env,
    stand_in_argv,
    stop_processes,
    wait_healthy,
)

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.prefix) / "bin"
sys.path.insert(0, str(ROOT))

from tests.postgres import postgres_bindir, postgres_cluster  # noqa: E402

SAMPLE_SECONDS = 0.2
SUBMITTERS = 16  # concurrent HTTP submitters, spread over the web processes
MAX_CONNECTIONS = 100  # PostgreSQL's default, which the design must fit in

# Targets.
IN_FLIGHT_TARGET = 250
IN_FLIGHT_TARGET_OF = 300
POSTGRES_SETTLE_TARGET_RATIO = 1.3  # finished_at - created_at <= 1.3 x latency (39 s at 30 s)
SQLITE_SETTLE_TARGET_RATIO = 1.15  # finished - POST sent <= 1.15 x latency
PEAK_CONNECTIONS_TARGET = 30  # below
POSTGRES_WORKER_RSS_TARGET_MB = 500
SQLITE_WORKER_RSS_TARGET_MB = 400
MEMORY_FLAT_RATIO = 0.10
MEMORY_JOBS = 2000
MEMORY_READINGS = 4  # after 500, 1000, 1500 and 2000 jobs
MEMORY_WAVE = 100
MEMORY_LATENCY = 0.2

# The bench's own variables; anything else in the environment (a worker pool setting, ...)
# reaches every process as it is.
WEB_POOL = {"DB_POOL": "true", "DB_POOL_MIN_SIZE": "1", "DB_POOL_MAX_SIZE": "4"}


@dataclass
class Options:
    database: str
    jobs: int
    latency: float
    workers: int
    slots: int
    web: int
    memory: bool
    s3: bool = False
    serve: bool = False

    @property
    def postgres(self) -> bool:
        return self.database == "postgres"


def parse_options(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--jobs", type=int, help="jobs to submit (300; 2000 with --memory)")
    parser.add_argument("--latency", type=float, help="stand-in seconds per call (30; 0.2)")
    parser.add_argument("--workers", type=int, help="worker processes (3 on postgres, else 1)")
    parser.add_argument("--slots", type=int, help="WORKER_CONCURRENCY (100 on postgres, else 300)")
    parser.add_argument("--web", type=int, default=2, help="web processes (2)")
    parser.add_argument("--memory", action="store_true", help="worker memory over many jobs")
    parser.add_argument(
        "--s3", action="store_true", help="media in a bucket of moto's S3 server on loopback"
    )
    parser.add_argument(
        "--serve",
        action="store_true",
        help="start everything and keep it running for a person (Ctrl-C stops it); no jobs",
    )
    args = parser.parse_args(argv)
    postgres = args.database == "postgres"
    options = Options(
        database=args.database,
        jobs=args.jobs or (MEMORY_JOBS if args.memory else 300),
        latency=args.latency
        if args.latency is not None
        else (MEMORY_LATENCY if args.memory else 30.0),
        workers=args.workers or (3 if postgres else 1),
        slots=args.slots or (100 if postgres else 300),
        web=args.web,
        memory=args.memory,
        s3=args.s3,
        serve=args.serve,
    )
    for name in ("jobs", "workers", "slots", "web"):
        if getattr(options, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if options.latency < 0:
        parser.error("--latency must not be negative")
    return options


# -- the processes ---------------------------------------------------------------------------


@dataclass
class ScaleOut:
    stack: Stack
    web_ports: list[int]
    workers: dict[str, int] = field(default_factory=dict)  # name -> pid


def start(stack: Stack, name: str, argv: list[str], extra_env: dict[str, str]) -> int:
    """One long-running process in its own session, output in logs/<name>.log."""
    stack.log_dir.mkdir(exist_ok=True)
    env = {**stack.env, **extra_env, "PGAPPNAME": name}
    with (stack.log_dir / f"{name}.log").open("wb") as log:
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    stack.processes[name] = process
    return process.pid


def web_command(port: int) -> list[str]:
    """The Procfile's web command with one uvicorn worker: one web machine each."""
    return [
        str(BIN / "gunicorn"),
        "playground.asgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--forwarded-allow-ips",
        "",
        "--worker-class",
        "uvicorn_worker.UvicornWorker",
        "--workers",
        "1",
        "--timeout",
        "0",
        "--graceful-timeout",
        "3",
        "--no-control-socket",
    ]


def start_scale_out(stack: Stack, options: Options) -> ScaleOut:
    """The compose design as processes: the stand-in, web processes and workers."""
    web_ports = [stack.web_port] + [free_port() for _ in range(options.web - 1)]
    scale = ScaleOut(stack, web_ports)
    # Its request log tells the calls in flight.
    argv = [*stand_in_argv(stack.api_port, options.latency), "--quiet"]
    start(stack, "offline", argv, {})
    web_env = WEB_POOL if options.postgres else {}
    for number, port in enumerate(web_ports, 1):
        start(stack, f"web-{number}", web_command(port), web_env)
    worker_env = {"WORKER_CONCURRENCY": str(options.slots)}
    for number in range(1, options.workers + 1):
        name = f"worker-{number}"
        argv = [sys.executable, "manage.py", "run_worker", "--grace-seconds", "3"]
        scale.workers[name] = start(stack, name, argv, worker_env)
    for port in [*web_ports, stack.api_port]:
        wait_healthy(stack, port)
    return scale


@contextmanager
def postgres_database() -> Iterator[str]:
    """A DATABASE_URL on a throwaway cluster (PostgreSQL's default max_connections, 100)."""
    if postgres_bindir() is None:
        raise BenchError("PostgreSQL is not installed (apt-get install postgresql)")
    import psycopg

    with postgres_cluster() as url:
        admin = urllib.parse.urlsplit(url)._replace(path="/postgres").geturl()
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute("CREATE DATABASE playground")
            limit = int(connection.execute("SHOW max_connections").fetchone()[0])
        if limit != MAX_CONNECTIONS:
            progress(f"note: the cluster's max_connections is {limit}, not {MAX_CONNECTIONS}")
        yield url


MEDIA_BUCKET = "playground-media"


def start_media_bucket(stack: Stack) -> dict[str, str]:
    """moto's S3 server on loopback with a private bucket; the media settings that use it."""
    import boto3

    port = free_port()
    start(stack, "s3", [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)], {})
    endpoint = f"http://127.0.0.1:{port}"
    credentials = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench-secret"}
    deadline = time.monotonic() + 30
    while True:
        try:
            boto3.client(
                "s3",
                endpoint_url=endpoint,
                region_name="us-east-1",
                aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
            ).create_bucket(Bucket=MEDIA_BUCKET)
            break
        except Exception as error:  # not listening yet
            if time.monotonic() > deadline:
                raise BenchError(f"moto's S3 server did not start: {error}") from None
            time.sleep(0.2)
    return {
        **credentials,
        "MEDIA_BUCKET": MEDIA_BUCKET,
        "MEDIA_ENDPOINT_URL": endpoint,
        "MEDIA_REGION": "us-east-1",
    }


@contextmanager
def running(options: Options) -> Iterator[ScaleOut]:
    """Database, migrations once, then every process; all torn down after."""
    with contextlib.ExitStack() as cleanup:
        database_url = cleanup.enter_context(postgres_database()) if options.postgres else None
        data_dir = Path(tempfile.mkdtemp(prefix="playground-scale-"))
        cleanup.callback(shutil.rmtree, data_dir, ignore_errors=True)
        web_port, api_port = free_port(), free_port()
        while api_port == web_port:
            api_port = free_port()
        stack = Stack(data_dir, stack_env(data_dir, web_port, api_port), web_port, api_port)
        if database_url:
            stack.env["DATABASE_URL"] = database_url
        cleanup.callback(stop_processes, stack.processes)
        try:
            if options.s3:
                stack.env.update(start_media_bucket(stack))
                progress(f"media in bucket {MEDIA_BUCKET} at {stack.env['MEDIA_ENDPOINT_URL']}")
            progress(f"migrating once ({options.database}) in {data_dir}")
            manage(stack, "migrate", "--noinput", "-v0")
            manage(stack, "collectstatic", "--noinput", "-v0")
            manage(stack, "prepare_playground")
            progress(
                f"starting {options.web} web, {options.workers} worker x {options.slots} slots, "
                f"stand-in at {options.latency:g} s"
            )
            yield start_scale_out(stack, options)
        except BenchError:
            if stack.processes:
                progress(log_tails(stack))
            raise


# -- sampling --------------------------------------------------------------------------------


def memory_mb(pid: int, key: str = "VmRSS") -> float:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{key}:"):
                return int(line.split()[1]) / 1024
    return 0.0


def stand_in_log(port: int) -> list[dict[str, Any]]:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/_control/requests")
        response = connection.getresponse()
        return json.loads(response.read())["requests"]
    finally:
        connection.close()


class Database:
    """The bench's one connection for sampling and progress (not counted in the figures)."""

    def __init__(self, stack: Stack) -> None:
        url = stack.env.get("DATABASE_URL")
        self.postgres = bool(url)
        if url:
            import psycopg

            self.connection: Any = psycopg.connect(url, autocommit=True, application_name="bench")
        else:
            path = stack.data_dir / "playground.sqlite3"
            self.connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)

    def close(self) -> None:
        self.connection.close()

    def sessions(self) -> Counter[str]:
        """Client sessions by application name, the bench's own (named bench) aside."""
        if not self.postgres:
            return Counter()
        rows = self.connection.execute(
            "SELECT application_name, count(*) FROM pg_stat_activity "
            "WHERE backend_type = 'client backend' AND application_name <> 'bench' "
            "GROUP BY 1"
        ).fetchall()
        return Counter({role_of(name): count for name, count in rows})

    def job_counts(self, tag: str) -> tuple[int, int, int]:
        """(jobs stored, finished, running) with this tag in their prompt."""
        like = "%s" if self.postgres else "?"
        row = self.connection.execute(
            "SELECT count(*), "
            "sum(CASE WHEN finished_at IS NOT NULL THEN 1 ELSE 0 END), "
            "sum(CASE WHEN state = 'running' THEN 1 ELSE 0 END) "
            f"FROM generations_generation WHERE prompt LIKE {like}",
            (f"bench {tag} %",),
        ).fetchone()
        return int(row[0] or 0), int(row[1] or 0), int(row[2] or 0)

    def renditions_pending(self, tag: str) -> int:
        """Images of jobs with this tag whose renditions are not stored yet."""
        like = "%s" if self.postgres else "?"
        row = self.connection.execute(
            "SELECT count(*) FROM gallery_image i JOIN generations_generation g "
            f"ON g.id = i.generation_id WHERE g.prompt LIKE {like} AND i.thumbnail = ''",
            (f"bench {tag} %",),
        ).fetchone()
        return int(row[0] or 0)


def role_of(application_name: str) -> str:
    return application_name or "(unnamed)"


@dataclass
class Samples:
    connections: list[int] = field(default_factory=list)
    connections_peak_by_role: Counter[str] = field(default_factory=Counter)
    running_peak: int = 0
    rss_peak: dict[str, float] = field(default_factory=dict)
    calls: dict[int, dict[str, Any]] = field(default_factory=dict)  # stand-in log by id

    @property
    def peak_connections(self) -> int:
        return max(self.connections, default=0)


class Sampler(threading.Thread):
    def __init__(self, scale: ScaleOut, tag: str) -> None:
        super().__init__(daemon=True)
        self.scale = scale
        self.tag = tag
        self.samples = Samples()
        self.stopping = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        database = Database(self.scale.stack)
        try:
            while not self.stopping.is_set():
                self.take(database)
                self.stopping.wait(SAMPLE_SECONDS)
            self.take(database)
        except BaseException as error:  # reported by the main thread
            self.error = error
        finally:
            database.close()

    def take(self, database: Database) -> None:
        samples = self.samples
        sessions = database.sessions()
        if database.postgres:
            samples.connections.append(sum(sessions.values()))
            for role, count in sessions.items():
                peak = samples.connections_peak_by_role
                peak[role] = max(peak[role], count)
        _, _, running_now = database.job_counts(self.tag)
        samples.running_peak = max(samples.running_peak, running_now)
        for name, pid in self.scale.workers.items():
            samples.rss_peak[name] = max(samples.rss_peak.get(name, 0.0), memory_mb(pid))
        for entry in stand_in_log(self.scale.stack.api_port):
            if entry.get("kind") in ("generations", "edits"):
                samples.calls[int(entry["id"])] = entry

    def stop(self) -> Samples:
        self.stopping.set()
        self.join(timeout=30)
        if self.error is not None:
            raise BenchError(f"sampling failed: {self.error!r}")
        return self.samples


def most_in_flight(arrivals: list[float], seconds: float) -> int:
    """Most calls open at once, each open from its arrival for `seconds`."""
    events = sorted([(t, 1) for t in arrivals] + [(t + seconds, -1) for t in arrivals])
    open_now = peak = 0
    for _, change in events:  # an end sorts before an arrival at the same instant
        open_now += change
        peak = max(peak, open_now)
    return peak


# -- submitting ------------------------------------------------------------------------------


@dataclass
class Submitted:
    sent: dict[str, float] = field(default_factory=dict)  # prompt -> epoch seconds
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0


def submit(scale: ScaleOut, cookies: dict[str, str], prompts: list[str]) -> Submitted:
    """POST every prompt as a playground job, SUBMITTERS at a time over all web processes."""
    result = Submitted()
    lock = threading.Lock()

    def one(index: int, prompt: str) -> None:
        port = scale.web_ports[index % len(scale.web_ports)]
        fields = {"csrfmiddlewaretoken": cookies["csrftoken"], "prompt": prompt, **JOB_FIELDS}
        sent = time.time()
        try:
            status = http_request(port, "POST", "/generations/", fields, cookies).status
            problem = None if status in (201, 302) else f"HTTP {status}"
        except OSError as error:
            problem = f"{type(error).__name__}: {error}"
        with lock:
            if problem is None:
                result.sent[prompt] = sent
            else:
                result.errors.append(problem)

    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=SUBMITTERS) as pool:
        list(pool.map(one, range(len(prompts)), prompts))
    result.seconds = time.monotonic() - began
    return result


def wait_settled(scale: ScaleOut, tag: str, expected: int, timeout: float) -> None:
    database = Database(scale.stack)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            check_alive(scale.stack)
            stored, finished, _ = database.job_counts(tag)
            if finished >= expected:
                return
            time.sleep(0.25)
        raise BenchError(
            f"{finished} of {expected} jobs ({stored} stored) settled in {timeout:g} s"
        )
    finally:
        database.close()


def wait_renditions(scale: ScaleOut, tag: str, timeout: float) -> None:
    database = Database(scale.stack)
    try:
        deadline = time.monotonic() + timeout
        while (pending := database.renditions_pending(tag)) and time.monotonic() < deadline:
            check_alive(scale.stack)
            time.sleep(0.25)
        if pending:
            raise BenchError(f"{pending} images still without renditions after {timeout:g} s")
    finally:
        database.close()


# -- results ---------------------------------------------------------------------------------


@dataclass
class JobResult:
    prompt: str
    state: str
    runs: int
    settle: float  # finished_at - created_at
    since_sent: float | None  # finished_at - the POST sent
    sent: float | None  # when its POST was sent, epoch seconds
    error: str
    start_delay: float = float("nan")  # started_at - created_at
    after_upstream: float = float("nan")  # finished_at - started_at - upstream_seconds
    created: float = float("nan")  # created_at, epoch seconds
    upstream_seconds: float = float("nan")


def job_results(stack: Stack, tag: str, sent: dict[str, float]) -> list[JobResult]:
    """Read the jobs through the ORM (the processes are still up; nothing is sampled now)."""
    os.environ.update(stack.env)
    import django

    django.setup()
    from django.db import connections

    from playground.generations.models import Generation

    rows = Generation.objects.filter(prompt__startswith=f"bench {tag} ").values(
        "prompt",
        "state",
        "runs",
        "created_at",
        "started_at",
        "finished_at",
        "upstream_seconds",
        "error_message",
    )
    results = []
    for row in rows:
        finished = row["finished_at"].timestamp() if row["finished_at"] else float("nan")
        submitted = sent.get(row["prompt"])
        results.append(
            JobResult(
                prompt=row["prompt"],
                state=row["state"],
                runs=row["runs"],
                settle=finished - row["created_at"].timestamp(),
                since_sent=finished - submitted if submitted else None,
                sent=submitted,
                error=row["error_message"],
                start_delay=_seconds_between(row["created_at"], row["started_at"]),
                after_upstream=_seconds_between(row["started_at"], row["finished_at"])
                - (row["upstream_seconds"] or 0.0),
                created=row["created_at"].timestamp(),
                upstream_seconds=row["upstream_seconds"] or float("nan"),
            )
        )
    connections.close_all()
    return results


def _with_sent(results: list[JobResult]) -> list[tuple[JobResult, float]]:
    return [(r, r.sent) for r in results if r.sent is not None]


def _seconds_between(start: Any, end: Any) -> float:
    return end.timestamp() - start.timestamp() if start and end else float("nan")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def verdict(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


class Report:
    def __init__(self) -> None:
        self.passed = True

    def line(self, text: str, passed: bool | None = None) -> None:
        if passed is not None:
            self.passed &= passed
            text = f"{text} [{verdict(passed)}]"
        print(text, flush=True)


def report_jobs(
    report: Report,
    options: Options,
    submitted: Submitted,
    samples: Samples,
    results: list[JobResult],
    tag: str,
) -> None:
    calls = [c for c in samples.calls.values() if f"bench {tag} " in str(c.get("params", {}))]
    ids = sorted(samples.calls)
    missed = (ids[-1] - ids[0] + 1 - len(ids)) if ids else 0
    per_prompt = Counter(str(c["params"].get("prompt")) for c in calls)
    in_flight = most_in_flight([float(c["time"]) for c in calls], options.latency)
    settle = [r.settle for r in results]
    since_sent = [r.since_sent for r in results if r.since_sent is not None]
    # 250 of 300: scaled down for a shorter run.
    target_in_flight = math.ceil(options.jobs * IN_FLIGHT_TARGET / IN_FLIGHT_TARGET_OF)
    report.line(
        f"submitted {len(submitted.sent)} of {options.jobs} jobs in {submitted.seconds:.1f} s "
        f"over {options.web} web processes; submit errors: {len(submitted.errors)}"
        + (f" ({Counter(submitted.errors).most_common(3)})" if submitted.errors else ""),
        not submitted.errors,
    )
    report.line(
        f"upstream calls in flight at once: {in_flight} (target >= {target_in_flight}); "
        f"jobs running at once by the database: {samples.running_peak}",
        in_flight >= target_in_flight,
    )
    once = [r for r in results if r.runs == 1]
    repeated = sorted(p for p, n in per_prompt.items() if n > 1)
    exact = (
        len(results) == len(submitted.sent)
        and len(once) == len(results)
        and len(calls) == len(results)
        and not repeated
        and missed == 0
    )
    report.line(
        f"run exactly once: {len(once)} of {len(results)} jobs with runs == 1; upstream calls "
        f"{len(calls)} for {len(results)} jobs, {len(repeated)} prompts called twice"
        + (f", {missed} log entries not seen" if missed else ""),
        exact,
    )
    states = Counter(r.state for r in results)
    report.line(f"states: {dict(states)}", set(states) == {"succeeded"})
    arrived = {str(c["params"].get("prompt")): float(c["time"]) for c in calls}
    for label, values in (
        ("created after its POST was sent", [r.created - sent for r, sent in _with_sent(results)]),
        ("started after created", [r.start_delay for r in results]),
        (
            "upstream request arrived after created",
            [arrived.get(r.prompt, float("nan")) - r.created for r in results],
        ),
        ("upstream call as the worker timed it", [r.upstream_seconds for r in results]),
        ("settled after the upstream answered", [r.after_upstream for r in results]),
    ):
        known = [v for v in values if not math.isnan(v)]
        if known:
            report.line(
                f"  {label}: max {max(known):.1f} / p50 {percentile(known, 0.5):.1f} / "
                f"p95 {percentile(known, 0.95):.1f} s"
            )
    for failure in sorted({r.error[:160] for r in results if r.state != "succeeded"})[:3]:
        report.line(f"  not succeeded: {failure}")
    if options.postgres:
        limit = options.latency * POSTGRES_SETTLE_TARGET_RATIO
        report.line(
            f"settle (finished_at - created_at): max {max(settle):.1f} / p50 "
            f"{percentile(settle, 0.5):.1f} / p95 {percentile(settle, 0.95):.1f} s "
            f"(target max <= {limit:.1f} s)",
            max(settle) <= limit,
        )
        if since_sent:
            report.line(f"  finished - POST sent: max {max(since_sent):.1f} s")
    else:
        limit = options.latency * SQLITE_SETTLE_TARGET_RATIO
        worst = max(since_sent, default=float("inf"))
        report.line(
            f"settle (finished - POST sent): max {worst:.1f} / p50 "
            f"{percentile(since_sent, 0.5):.1f} / p95 {percentile(since_sent, 0.95):.1f} s "
            f"(target max <= {limit:.1f} s); finished_at - created_at max {max(settle):.1f} s",
            worst <= limit,
        )


def report_resources(report: Report, options: Options, samples: Samples, hwm: dict) -> None:
    if options.postgres:
        roles = ", ".join(f"{r} {n}" for r, n in sorted(samples.connections_peak_by_role.items()))
        report.line(
            f"database connections: peak {samples.peak_connections} of max_connections "
            f"{MAX_CONNECTIONS} (target < {PEAK_CONNECTIONS_TARGET}); "
            f"peak by process: {roles}",
            samples.peak_connections < PEAK_CONNECTIONS_TARGET,
        )
    target = POSTGRES_WORKER_RSS_TARGET_MB if options.postgres else SQLITE_WORKER_RSS_TARGET_MB
    peaks = ", ".join(
        f"{name} {samples.rss_peak.get(name, 0):.0f} MB (VmHWM {hwm.get(name, 0):.0f})"
        for name in sorted(samples.rss_peak)
    )
    worst = max([*samples.rss_peak.values(), *hwm.values()], default=0.0)
    report.line(f"worker memory peak: {peaks} (target < {target} MB)", worst < target)


# -- runs ------------------------------------------------------------------------------------


def settings_line(options: Options) -> str:
    names = sorted(
        k for k in os.environ if k.startswith(("WORKER_", "DB_")) and k != "WORKER_CONCURRENCY"
    )
    chosen = ", ".join(f"{k}={os.environ[k]}" for k in names) or "none"
    web = ", ".join(f"{k}={v}" for k, v in WEB_POOL.items()) if options.postgres else "defaults"
    return (
        f"{options.database}: {options.web} web ({web}), {options.workers} worker x "
        f"{options.slots} slots, {options.jobs} jobs, stand-in {options.latency:g} s; "
        f"worker/database settings from the environment: {chosen}"
    )


def worker_hwm(scale: ScaleOut) -> dict[str, float]:
    return {name: memory_mb(pid, "VmHWM") for name, pid in scale.workers.items()}


def run_burst(options: Options) -> bool:
    tag = os.urandom(4).hex()
    prompts = [f"bench {tag} job {i:04d}: a lighthouse at dusk" for i in range(options.jobs)]
    with running(options) as scale:
        cookies = login(scale.stack.web_port, *read_credentials(scale.stack))
        sampler = Sampler(scale, tag)
        sampler.start()
        try:
            progress(f"submitting {options.jobs} jobs")
            submitted = submit(scale, cookies, prompts)
            progress(f"submitted in {submitted.seconds:.1f} s; waiting for them to settle")
            timeout = options.latency * 3 + 60 + options.jobs * 0.2
            wait_settled(scale, tag, len(submitted.sent), timeout)
        finally:
            samples = sampler.stop()
        hwm = worker_hwm(scale)
        check_alive(scale.stack)
        results = job_results(scale.stack, tag, submitted.sent)
    report = Report()
    report.line(settings_line(options))
    report_jobs(report, options, submitted, samples, results, tag)
    report_resources(report, options, samples, hwm)
    return report.passed


def run_memory(options: Options) -> bool:
    """Consecutive waves of jobs; the workers' memory read MEMORY_READINGS times, evenly."""
    tag = os.urandom(4).hex()
    checkpoint = max(1, options.jobs // MEMORY_READINGS)
    wave_size = min(MEMORY_WAVE, checkpoint)
    readings: list[tuple[int, dict[str, float]]] = []
    errors: list[str] = []
    with running(options) as scale:
        cookies = login(scale.stack.web_port, *read_credentials(scale.stack))
        done = 0
        while done < options.jobs:
            wave = min(wave_size, checkpoint - done % checkpoint, options.jobs - done)
            prompts = [f"bench {tag} job {done + i:05d}: a tide pool" for i in range(wave)]
            submitted = submit(scale, cookies, prompts)
            errors += submitted.errors
            done += wave
            wait_settled(scale, tag, done - len(errors), options.latency * 3 + 120)
            # A job's work ends with its renditions, made just after it settles.
            wait_renditions(scale, tag, timeout=120)
            if done % checkpoint == 0 or done == options.jobs:
                rss = {name: memory_mb(pid) for name, pid in scale.workers.items()}
                readings.append((done, rss))
                figures = ", ".join(f"{n} {mb:.0f} MB" for n, mb in rss.items())
                progress(f"{done} jobs settled: {figures}")
        hwm = worker_hwm(scale)
        results = job_results(scale.stack, tag, {})
    report = Report()
    report.line(settings_line(options))
    states = Counter(r.state for r in results)
    report.line(
        f"{len(results)} jobs: {dict(states)}; submit errors {len(errors)}",
        not errors and set(states) == {"succeeded"},
    )
    for name in scale.workers:
        values = [rss[name] for _, rss in readings]
        spread = (max(values) - min(values)) / min(values) if values and min(values) else 1.0
        series = " / ".join(f"{count}: {rss[name]:.0f}" for count, rss in readings)
        report.line(
            f"{name} memory after jobs (MB) {series}; spread {spread:.1%} "
            f"(target within {MEMORY_FLAT_RATIO:.0%}); VmHWM {hwm[name]:.0f} MB",
            spread <= MEMORY_FLAT_RATIO,
        )
    return report.passed


def serve(options: Options) -> bool:
    """The whole design running for a person to use, until Ctrl-C."""
    with running(options) as scale:
        username, password = read_credentials(scale.stack)
        for port in scale.web_ports:
            progress(f"web process: http://127.0.0.1:{port}/")
        progress(f"sign in as {username} / {password}; Ctrl-C stops everything")
        # A process that stops (one killed to try recovery) is reported; the rest run on.
        reported: set[str] = set()
        while True:
            time.sleep(1)
            for name, process in scale.stack.processes.items():
                if process.poll() is not None and name not in reported:
                    reported.add(name)
                    progress(f"{name} exited with {process.returncode}")


def terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    options = parse_options(argv)
    run: Callable[[Options], bool] = (
        serve if options.serve else run_memory if options.memory else run_burst
    )
    return run_bench(lambda: run(options))


def run_bench(run: Callable[[], bool]) -> int:
    """Exit status of a benchmark: 0 all targets met, 1 one missed, 2 the run failed; a
    SIGTERM or Ctrl-C stops every process it started."""
    signal.signal(signal.SIGTERM, terminate)
    try:
        return 0 if run() else 1
    except BenchError as error:
        progress(f"failed: {error}")
        return 2
    except KeyboardInterrupt:
        progress("interrupted; every process was stopped")
        return 130
    except Exception:
        traceback.print_exc()
        progress("failed unexpectedly; every process was stopped")
        return 2


if __name__ == "__main__":
    sys.exit(main())
