"""Many OpenAI-compatible API requests in flight at once (`POST /v1/images/generations`).

It starts, in a temporary DATA_DIR, the web server the way the Procfile does (gunicorn with
`--web-workers` uvicorn workers), one `run_worker --concurrency N` and the offline stand-in of
the Images API answering after `--latency` seconds, on SQLite (`--database sqlite`) or on a
throwaway PostgreSQL cluster (`--database postgres`, max_connections 100; the web process
borrows from a pool of `--web-pool` connections as in compose.yaml, `--web-pool 0` opens one
per request as the Procfile's defaults do). It gives the admin an API key (`create_api_key`;
API_RATE_LIMIT_PER_KEY and _PER_USER raised to let the burst through, still counted), then
fires `--requests` requests at once through the official `openai` SDK (AsyncOpenAI, no
retries), each with its own prompt, and waits for all of them.

While they run it samples every 0.1 s:

- the web processes' threads (entries of /proc/<pid>/task);
- the database connections of the web processes and of the worker: on PostgreSQL the client
  sessions in pg_stat_activity by application name (each process names itself with PGAPPNAME;
  the LISTEN connection of each is counted apart), on SQLite the open file descriptors of each
  process on the database file (/proc/<pid>/fd);
- each process's CPU time.

Afterwards it checks from the database and the stand-in's request log: exactly one job per
prompt, each succeeded with its image stored, each answer's image equal to the stored
original, one upstream call per prompt. It breaks each request's time down (queued, started,
upstream, settled, answered). "At the peak" is the middle one of the samples with the most
requests waiting (their job queued, not yet settled), among those where no request in flight
was being queued or answered, so that what the web process holds then is held for the waits.

Targets: every request succeeds, none lost or duplicated; the wall time from firing to the last
answer is under 3x the latency; the waits hold no server thread and no database connection: at
the peak the web processes have at most THREAD_ALLOWANCE threads more than when idle, and at
most CONNECTION_ALLOWANCE database connections (or their pools' size) besides LISTEN.

    .venv/bin/python bench/bench_api.py                        # SQLite, 100 requests, 2 s
    .venv/bin/python bench/bench_api.py --database postgres
    .venv/bin/python bench/bench_api.py --database postgres --web-pool 0
    .venv/bin/python bench/bench_api.py --requests 300 --web-workers 2 --keep

Other settings from the environment (WORKER_DB_CONNECTIONS, ...) reach every process. It prints
the machine's load average too: other work on a small machine stretches every time. It exits 1
when a target is missed, 2 when the run itself fails.
"""

import argparse
import asyncio
import base64
import contextlib
import os
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench_jobs import (
    BenchError,
    Stack,
    check_alive,
    free_port,
    log_tails,
    manage,
    progress,
    read_credentials,
    stack_env,
    stand_in_argv,
    stop_processes,
    wait_healthy,
)
from bench_scale_out import postgres_database, run_bench, stand_in_log, start

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.prefix) / "bin"

SAMPLE_SECONDS = 0.1
WALL_TARGET_RATIO = 3.0  # the last answer within 3x the upstream latency of firing
# A bounded set of threads for the short reads and writes is fine (asyncio's default executor
# has min(32, CPUs + 4)); a thread per waiting request is not.
THREAD_ALLOWANCE = 8
# A read in progress when a sample is taken; one per waiting request would be far more. A
# pool keeps its connections open between requests: with one, its size is allowed instead.
CONNECTION_ALLOWANCE = 2
MODEL = "gpt-image-1.5"
WEB = "web"
WORKER = "worker"


@dataclass
class Options:
    requests: int
    latency: float
    database: str
    web_workers: int
    worker_concurrency: int
    web_pool: int = 4
    keep: bool = False

    @property
    def postgres(self) -> bool:
        return self.database == "postgres"


def parse_options(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=100, help="requests at once (100)")
    parser.add_argument("--latency", type=float, default=2.0, help="stand-in seconds (2)")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--web-workers", type=int, default=1, help="uvicorn workers (1)")
    parser.add_argument(
        "--worker-concurrency", type=int, default=128, help="run_worker --concurrency (128)"
    )
    parser.add_argument(
        "--web-pool",
        type=int,
        default=4,
        help="PostgreSQL: the web process's DB_POOL_MAX_SIZE, as compose.yaml sets it (4); "
        "0 leaves DB_POOL off: a connection per request, as the Procfile runs it",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the DATA_DIR (the processes' logs) afterwards"
    )
    args = parser.parse_args(argv)
    options = Options(
        args.requests,
        args.latency,
        args.database,
        args.web_workers,
        args.worker_concurrency,
        args.web_pool,
        args.keep,
    )
    for name in ("requests", "web_workers", "worker_concurrency"):
        if getattr(options, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if options.web_pool < 0:
        parser.error("--web-pool must not be negative")
    if options.latency <= 0:
        parser.error("--latency must be more than 0")
    return options


# -- the processes ---------------------------------------------------------------------------


def web_command(port: int, workers: int) -> list[str]:
    """The Procfile's web command, with `workers` uvicorn workers."""
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
        str(workers),
        "--timeout",
        "0",
        "--graceful-timeout",
        "3",
        "--no-control-socket",
    ]


def web_env(options: Options) -> dict[str, str]:
    """The web process's database pool on PostgreSQL (none on SQLite, nor with --web-pool 0)."""
    if not options.postgres or not options.web_pool:
        return {"DB_POOL": "false"}
    size = str(options.web_pool)
    return {"DB_POOL": "true", "DB_POOL_MIN_SIZE": "1", "DB_POOL_MAX_SIZE": size}


def pool_text(options: Options) -> str:
    if not options.postgres:
        return "SQLite"
    return f"DB_POOL_MAX_SIZE={options.web_pool}" if options.web_pool else "DB_POOL off"


def connection_allowance(options: Options) -> int:
    """Connections the web processes may hold at the peak: a pool keeps its own open."""
    pooled = options.web_pool * options.web_workers if options.postgres else 0
    return max(CONNECTION_ALLOWANCE, pooled)


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                # pid (comm) state ppid ...; comm may hold spaces, so split after its ")"
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
    return sorted(found)


def web_worker_pids(stack: Stack, count: int) -> list[int]:
    """The uvicorn worker processes gunicorn forked (they serve the requests)."""
    master = stack.processes[WEB].pid
    deadline = time.monotonic() + 30
    while len(pids := children_of(master)) < count:
        if time.monotonic() > deadline:
            raise BenchError(f"gunicorn started {len(pids)} of {count} workers")
        time.sleep(0.1)
    return pids


def create_api_key(stack: Stack, username: str) -> str:
    """A key for `username`; `create_api_key` prints it as its last line."""
    printed = manage(stack, "create_api_key", username, "--name", "bench")
    return printed.strip().splitlines()[-1]


@dataclass
class Running:
    stack: Stack
    web_pids: list[int]
    worker_pid: int
    api_key: str

    @property
    def cpu_pids(self) -> dict[str, int]:
        """The processes whose CPU time is followed (the bench itself too)."""
        web = {f"{WEB}-{n}": pid for n, pid in enumerate(self.web_pids, 1)}
        others = {
            WORKER: self.worker_pid,
            "stand-in": self.stack.processes["offline"].pid,
            "bench (SDK client)": os.getpid(),
        }
        return {**web, **others}

    @property
    def base_url(self) -> str:
        return f"{self.stack.web_url}/v1"

    @property
    def sqlite_path(self) -> Path:
        return self.stack.data_dir / "playground.sqlite3"


@contextmanager
def running(options: Options) -> Iterator[Running]:
    """Database, migrations, an API key, then the stand-in, web and worker; all torn down."""
    with contextlib.ExitStack() as cleanup:
        database_url = cleanup.enter_context(postgres_database()) if options.postgres else None
        data_dir = Path(tempfile.mkdtemp(prefix="playground-api-"))
        if options.keep:
            cleanup.callback(progress, f"kept {data_dir} (logs in {data_dir / 'logs'})")
        else:
            cleanup.callback(shutil.rmtree, data_dir, ignore_errors=True)
        web_port, api_port = free_port(), free_port()
        while api_port == web_port:
            api_port = free_port()
        stack = Stack(data_dir, stack_env(data_dir, web_port, api_port), web_port, api_port)
        if database_url:
            stack.env["DATABASE_URL"] = database_url
        # The burst comes from one key: its rate limits let it through, and still count it.
        burst = f"{2 * options.requests}/minute"
        stack.env.update(API_RATE_LIMIT_PER_KEY=burst, API_RATE_LIMIT_PER_USER=burst)
        cleanup.callback(stop_processes, stack.processes)
        try:
            progress(f"migrating ({options.database}) in {data_dir}")
            manage(stack, "migrate", "--noinput", "-v0")
            manage(stack, "collectstatic", "--noinput", "-v0")
            manage(stack, "prepare_playground")
            api_key = create_api_key(stack, read_credentials(stack)[0])
            progress(
                f"starting {options.web_workers} web worker(s), run_worker --concurrency "
                f"{options.worker_concurrency}, stand-in at {options.latency:g} s"
            )
            # --control: its request log tells the upstream calls, one per prompt.
            start(stack, "offline", [*stand_in_argv(api_port, options.latency), "--quiet"], {})
            start(stack, WEB, web_command(web_port, options.web_workers), web_env(options))
            worker_argv = [
                sys.executable,
                "manage.py",
                "run_worker",
                "--concurrency",
                str(options.worker_concurrency),
                "--grace-seconds",
                "3",
            ]
            worker_pid = start(stack, WORKER, worker_argv, {})
            wait_healthy(stack, web_port)
            wait_healthy(stack, api_port)
            yield Running(stack, web_worker_pids(stack, options.web_workers), worker_pid, api_key)
        except BenchError:
            if stack.processes:
                progress(log_tails(stack))
            raise


# -- sampling --------------------------------------------------------------------------------


def thread_count(pid: int) -> int:
    with contextlib.suppress(OSError):
        return len(os.listdir(f"/proc/{pid}/task"))
    return 0


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of `pid`, all its threads."""
    with contextlib.suppress(OSError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0


def open_files_at(pid: int, path: Path) -> int:
    """File descriptors of `pid` open on `path` (one per SQLite connection)."""
    target = str(path)
    count = 0
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                    count += 1
    return count


@dataclass
class Sample:
    at: float  # epoch seconds
    web_threads: int
    web_connections: int  # besides the LISTEN ones
    web_listeners: int
    worker_connections: int
    worker_listeners: int
    cpu: dict[str, float]  # process -> CPU seconds used so far


class Sampler(threading.Thread):
    """Threads and database connections every SAMPLE_SECONDS, in a thread of its own."""

    def __init__(self, run: Running) -> None:
        super().__init__(daemon=True)
        self.target = run
        self.samples: list[Sample] = []
        self.stopping = threading.Event()
        self.error: BaseException | None = None
        url = run.stack.env.get("DATABASE_URL")
        self.connection: Any = None
        if url:
            import psycopg

            self.connection = psycopg.connect(url, autocommit=True, application_name="bench")

    def connections(self) -> dict[tuple[str, bool], int]:
        """(process name, is a LISTEN connection) -> client sessions."""
        if self.connection is None:
            path = self.target.sqlite_path
            return {
                (WEB, False): sum(open_files_at(pid, path) for pid in self.target.web_pids),
                (WORKER, False): open_files_at(self.target.worker_pid, path),
            }
        rows = self.connection.execute(
            "SELECT application_name, query ILIKE 'LISTEN%%', count(*) FROM pg_stat_activity "
            "WHERE backend_type = 'client backend' AND application_name IN (%s, %s) "
            "GROUP BY 1, 2",
            (WEB, WORKER),
        ).fetchall()
        return {(name, bool(listening)): int(count) for name, listening, count in rows}

    def take(self) -> Sample:
        at = time.time()
        by_kind = self.connections()
        return Sample(
            at=at,
            web_threads=sum(thread_count(pid) for pid in self.target.web_pids),
            web_connections=by_kind.get((WEB, False), 0),
            web_listeners=by_kind.get((WEB, True), 0),
            worker_connections=by_kind.get((WORKER, False), 0),
            worker_listeners=by_kind.get((WORKER, True), 0),
            cpu={name: cpu_seconds(pid) for name, pid in self.target.cpu_pids.items()},
        )

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                self.samples.append(self.take())
                self.stopping.wait(SAMPLE_SECONDS)
        except BaseException as error:  # reported by the main thread
            self.error = error

    def stop(self) -> list[Sample]:
        self.stopping.set()
        self.join(timeout=30)
        if self.connection is not None:
            self.connection.close()
        if self.error is not None:
            raise BenchError(f"sampling failed: {self.error!r}")
        return self.samples


# -- the requests ----------------------------------------------------------------------------


@dataclass
class Answer:
    prompt: str
    sent: float  # epoch seconds
    seconds: float
    image: bytes | None = None
    error: str = ""


async def fire(run: Running, prompts: list[str], timeout: float) -> list[Answer]:
    """Every prompt at once through the SDK; each answer with its time and decoded image."""
    from openai import AsyncOpenAI

    client = AsyncOpenAI(base_url=run.base_url, api_key=run.api_key, max_retries=0, timeout=timeout)
    start_together = asyncio.Event()

    async def one(prompt: str) -> Answer:
        await start_together.wait()
        sent = time.time()
        began = time.monotonic()
        try:
            result = await client.images.generate(
                model=MODEL, prompt=prompt, size="1024x1024", quality="low", n=1
            )
            data = result.data or []
            if len(data) != 1 or not data[0].b64_json:
                raise ValueError(f"{len(data)} images, b64_json missing")
            image = base64.b64decode(data[0].b64_json)
            return Answer(prompt, sent, time.monotonic() - began, image)
        except Exception as error:
            return Answer(prompt, sent, time.monotonic() - began, error=f"{error!r}"[:200])

    async with client:
        tasks = [asyncio.create_task(one(prompt)) for prompt in prompts]
        await asyncio.sleep(0)  # every task is waiting on the event
        start_together.set()
        return await asyncio.gather(*tasks)


# -- checking --------------------------------------------------------------------------------


@dataclass
class Stored:
    """What the database holds for the bench's prompts."""

    jobs: int = 0
    per_prompt: Counter[str] = field(default_factory=Counter)
    states: Counter[str] = field(default_factory=Counter)
    images_stored: int = 0
    matching: int = 0  # answers whose image equals the stored original
    waits: list[tuple[float, float]] = field(default_factory=list)  # created_at, finished_at
    # prompt -> (created_at, started_at, finished_at, upstream_seconds), epoch seconds
    times: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)


def stored_jobs(stack: Stack, tag: str, answers: list[Answer]) -> Stored:
    """Read the jobs and their originals through the ORM (after the sampling has stopped)."""
    os.environ.update(stack.env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connections

    from playground.gallery.models import Image
    from playground.generations.models import Generation

    by_prompt = {a.prompt: a.image for a in answers if a.image is not None}
    stored = Stored()
    try:
        for job in Generation.objects.filter(prompt__startswith=f"bench-api {tag} "):
            stored.jobs += 1
            stored.per_prompt[job.prompt] += 1
            stored.states[job.state] += 1
            if job.finished_at:
                stored.waits.append((job.created_at.timestamp(), job.finished_at.timestamp()))
            if job.started_at and job.finished_at:
                stored.times[job.prompt] = (
                    job.created_at.timestamp(),
                    job.started_at.timestamp(),
                    job.finished_at.timestamp(),
                    job.upstream_seconds or 0.0,
                )
            images = list(Image.objects.filter(generation=job).order_by("index"))
            if len(images) != 1 or not images[0].file:
                continue
            with images[0].file.open("rb") as original:
                data = original.read()
            stored.images_stored += 1
            stored.matching += int(by_prompt.get(job.prompt) == data)
    finally:
        connections.close_all()
    return stored


@dataclass
class Upstream:
    """The stand-in's log of the bench's calls."""

    calls: Counter[str] = field(default_factory=Counter)  # prompt -> calls
    # prompt -> when the stand-in took the call (its connection accepted), epoch seconds
    received: dict[str, float] = field(default_factory=dict)


def upstream_calls(stack: Stack, tag: str) -> Upstream:
    upstream = Upstream()
    for entry in stand_in_log(stack.api_port):
        prompt = str(entry.get("params", {}).get("prompt", ""))
        if entry.get("kind") == "generations" and prompt.startswith(f"bench-api {tag} "):
            upstream.calls[prompt] += 1
            upstream.received[prompt] = float(entry["time"])
    return upstream


def waiting_at(moment: float, waits: list[tuple[float, float]]) -> int:
    return sum(1 for created, finished in waits if created <= moment < finished)


def peak_sample(
    samples: list[Sample], answers: list[Answer], stored: Stored
) -> tuple[Sample | None, int, bool]:
    """The sample in the middle of those with the most requests waiting, and that number.

    Preferably among samples where every request in flight was waiting (its job queued, not
    settled): what the web processes hold then is held for the waits alone, not for queueing
    a job or answering. The middle one, as a job is stamped queued a moment before its request
    gives its connection back. The bool tells whether there were such samples.
    """
    flights = [(a.sent, a.sent + a.seconds) for a in answers]
    counted = [
        (sample, waiting_at(sample.at, stored.waits), waiting_at(sample.at, flights))
        for sample in samples
    ]
    pure = [(sample, waiting) for sample, waiting, flying in counted if 0 < waiting == flying]
    chosen = pure or [(sample, waiting) for sample, waiting, _ in counted]
    most = max((waiting for _, waiting in chosen), default=0)
    tied = [sample for sample, waiting in chosen if waiting == most]
    return (tied[len(tied) // 2] if tied else None), most, bool(pure)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def phases(
    answers: list[Answer], stored: Stored, upstream: Upstream, latency: float
) -> dict[str, list[float]]:
    """Where each request's time went, from its job's timestamps and the stand-in's log."""
    found: dict[str, list[float]] = {
        "sent -> job queued": [],
        "queued -> started by the worker": [],
        "started -> call reached the stand-in": [],
        "upstream call (worker's timing)": [],
        "  of which beyond the latency": [],
        "started -> settled, besides upstream": [],
        "settled -> answer received": [],
    }
    nan = float("nan")
    for answer in answers:
        if answer.prompt not in stored.times:
            continue
        created, started, finished, seconds = stored.times[answer.prompt]
        received = upstream.received.get(answer.prompt, nan)
        values = (
            created - answer.sent,
            started - created,
            received - started,
            seconds,
            seconds - latency,
            finished - started - seconds,
            answer.sent + answer.seconds - finished,
        )
        for label, value in zip(found, values, strict=True):
            if value == value:  # not NaN
                found[label].append(value)
    return found


def spread(values: list[float]) -> str:
    if not values:
        return "-"
    return (
        f"p50 {percentile(values, 0.5):.2f} / p95 {percentile(values, 0.95):.2f} / "
        f"max {max(values):.2f} s"
    )


class Report:
    def __init__(self) -> None:
        self.passed = True

    def line(self, label: str, value: str, passed: bool | None = None) -> None:
        if passed is not None:
            self.passed &= passed
            value = f"{value}  [{'PASS' if passed else 'FAIL'}]"
        print(f"  {label:<40} {value}", flush=True)


def report(
    options: Options,
    answers: list[Answer],
    wall: float,
    stored: Stored,
    upstream: Upstream,
    idle: Sample,
    samples: list[Sample],
    load: float,
) -> bool:
    prompts = {a.prompt for a in answers}
    calls = upstream.calls
    succeeded = [a for a in answers if a.image is not None]
    duplicates = sum(n - 1 for n in stored.per_prompt.values() if n > 1)
    duplicates += sum(n - 1 for n in calls.values() if n > 1)
    lost = len(prompts - set(stored.per_prompt)) + len(prompts - set(calls))
    seconds = [a.seconds for a in answers]
    sample, most, only_waiting = peak_sample(samples, answers, stored)
    peak = sample or idle
    allowance = connection_allowance(options)
    threads = peak.web_threads
    web_connections, web_listeners = peak.web_connections, peak.web_listeners
    worker_connections, worker_listeners = peak.worker_connections, peak.worker_listeners

    def with_listeners(count: int, listeners: int) -> str:
        return f"{count}" + (f" (+{listeners} LISTEN)" if options.postgres else " (open fds)")

    result = Report()
    print(
        f"API burst on {options.database}: {options.requests} requests, stand-in "
        f"{options.latency:g} s, {options.web_workers} web worker(s) ({pool_text(options)}), "
        f"run_worker --concurrency {options.worker_concurrency}; {os.cpu_count()} CPUs, "
        f"load average {load:.1f} before firing",
        flush=True,
    )
    errors = Counter(a.error for a in answers if a.error)
    result.line("requests", f"{len(answers)}")
    result.line(
        "succeeded (image in the answer)",
        f"{len(succeeded)}" + (f"; errors {errors.most_common(3)}" if errors else ""),
        len(succeeded) == options.requests,
    )
    result.line(
        "jobs in the database",
        f"{stored.jobs}; states {dict(stored.states)}; images stored {stored.images_stored}; "
        f"answers equal to their original {stored.matching}",
        stored.jobs == options.requests
        and stored.states == Counter({"succeeded": options.requests})
        and stored.images_stored == stored.matching == options.requests,
    )
    result.line(
        "upstream calls",
        f"{sum(calls.values())} for {len(calls)} prompts",
        sum(calls.values()) == options.requests,
    )
    result.line("duplicates (jobs + upstream calls)", f"{duplicates}", duplicates == 0)
    result.line("lost (no job or no upstream call)", f"{lost}", lost == 0)
    limit = options.latency * WALL_TARGET_RATIO
    result.line(
        "wall time",
        f"{wall:.2f} s = {wall / options.latency:.2f}x latency (target < {limit:g} s)",
        wall < limit,
    )
    result.line(
        "per request p50 / max",
        f"{percentile(seconds, 0.5):.2f} / {max(seconds, default=float('nan')):.2f} s",
    )
    for label, values in phases(answers, stored, upstream, options.latency).items():
        result.line(f"  {label}", spread(values))
    result.line(
        "requests waiting at the peak",
        f"{most} of {options.requests}"
        + (
            ", none being queued or answered"
            if only_waiting
            else " (some were being queued or answered then)"
        ),
    )
    result.line(
        "web threads: idle -> peak",
        f"{idle.web_threads} -> {threads} (target <= idle + {THREAD_ALLOWANCE}); "
        f"most in the run {max(s.web_threads for s in samples or [idle])}",
        threads <= idle.web_threads + THREAD_ALLOWANCE,
    )
    result.line(
        "web DB connections at the peak",
        f"{with_listeners(web_connections, web_listeners)} (target <= {allowance}); "
        f"most in the run {max(s.web_connections for s in samples or [idle])}",
        web_connections <= allowance,
    )
    result.line(
        "worker DB connections at the peak",
        f"{with_listeners(worker_connections, worker_listeners)}; "
        f"most in the run {max(s.worker_connections for s in samples or [idle])}",
    )
    first, last = (samples or [idle])[0], (samples or [idle])[-1]
    busy = ", ".join(f"{name} {last.cpu[name] - first.cpu[name]:.1f}" for name in sorted(last.cpu))
    result.line("CPU seconds during the burst", f"{busy} (in {last.at - first.at:.1f} s)")
    return result.passed


# -- the run ---------------------------------------------------------------------------------


def run(options: Options) -> bool:
    tag = os.urandom(4).hex()
    prompts = [
        f"bench-api {tag} request {i:04d}: a lighthouse at dusk" for i in range(options.requests)
    ]
    with running(options) as stack_run:
        sampler = Sampler(stack_run)
        time.sleep(1.0)  # the web process settles after its first requests (health checks)
        idle = sampler.take()
        load = os.getloadavg()[0]  # other work on the machine slows every figure down
        sampler.start()
        progress(f"firing {options.requests} requests at once")
        began = time.monotonic()
        try:
            timeout = options.latency * WALL_TARGET_RATIO + 60
            answers = asyncio.run(fire(stack_run, prompts, timeout))
            wall = time.monotonic() - began
        finally:
            samples = sampler.stop()
        check_alive(stack_run.stack)
        progress(f"all answered in {wall:.2f} s; checking the database")
        upstream = upstream_calls(stack_run.stack, tag)
        stored = stored_jobs(stack_run.stack, tag, answers)
    return report(options, answers, wall, stored, upstream, idle, samples, load)


def main(argv: list[str] | None = None) -> int:
    options = parse_options(argv)
    return run_bench(lambda: run(options))


if __name__ == "__main__":
    sys.exit(main())
