"""Database connections held while 50 open pages follow running jobs (`make bench`).

Target: 50 open playground pages watching running jobs hold no more than a few database
connections in total. Each web process keeps one listener (a LISTEN connection on PostgreSQL)
and fans job announcements out to its event streams; a stream holds no connection while it
waits, so the web processes must hold at most 5 connections whatever the number of pages.

It starts the stack of `bench_jobs.py` on a throwaway PostgreSQL cluster (SQLite when PostgreSQL
is not installed), stops the job worker, submits 4 jobs with live previews over HTTP and opens
50 playground pages in headless Chromium that all follow those queued cards. Then it starts the
worker again and, while the pages wait for the jobs' previews and results, samples every
0.25 s who holds database connections: on PostgreSQL the rows of pg_stat_activity, each traced
to its process through its TCP port; on SQLite the descriptors each process has open on the
database file. A sample counts for the target when none of the pages' requests (their event
streams aside) is being served: a card fetched after an announcement holds a connection only
while it is served, and those are reported apart. It also reads each web process's threads and
memory, and counts the card requests the pages made against what polling every second would
have made. At the end every page must show every job succeeded.

It prints a short report and exits 1 when the target is missed, 2 when the run itself fails.
"""

import asyncio
import http.client
import json
import math
import os
import re
import secrets
import statistics
import sys
import time
import traceback
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench_edit_memory import web_workers
from bench_jobs import (
    CHROMIUM,
    CHROMIUM_ARGS,
    JOB_FIELDS,
    BenchError,
    Stack,
    check_alive,
    close_django,
    exit_status,
    http_request,
    login,
    progress,
    read_credentials,
    running_stack,
    start_process,
    stop_processes,
    verdict,
)
from playwright.async_api import Browser, Page, async_playwright
from playwright.async_api import TimeoutError as PlaywrightTimeout

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.postgres import postgres_bindir, postgres_cluster  # noqa: E402

PAGES = 50
JOBS = 4
PARTIAL_IMAGES = 3
# The stand-in's latency for these jobs: a preview or the result every JOB_SECONDS / 4.
JOB_SECONDS = 28.0
TARGET_WEB_CONNECTIONS = 5
SAMPLE_SECONDS = 0.25
QUIET_MARGIN = 0.1  # no request of the pages sent or done this close to a "waiting" sample
MIN_SAMPLING_SECONDS = 4.0
# Chromium opens at most 6 HTTP/1.1 connections per host and browser context, and each page's
# event stream keeps one of them: a context with more pages would leave the rest waiting.
PAGES_PER_CONTEXT = 4
OPENING_AT_ONCE = 10
BROWSER_TIMEOUT_MS = 60_000
SETTLE_TIMEOUT_SECONDS = 90.0
CARD_PATH = re.compile(r"^/generations/(\d+)/$")
EVENTS_PATH = "/generations/events/"

# Counts, in each page, the stream's openings and errors and the job announcements received.
MONITOR_JS = """
window.__bench = {opens: 0, errors: 0, events: 0};
document.addEventListener("htmx:sseOpen", (event) => {
  window.__bench.opens++;
  const source = event.detail.source;
  if (!source.__benchCounted) {
    source.__benchCounted = true;
    source.addEventListener("job", () => window.__bench.events++);
  }
});
document.addEventListener("htmx:sseError", () => window.__bench.errors++);
"""
SUCCEEDED_JS = """(ids) => ids.every((id) =>
  document.getElementById("job-" + id)?.dataset.state === "succeeded")"""


# -- processes and their sockets -------------------------------------------------------------


@dataclass
class Processes:
    """Who may hold a database connection: the web workers, the job worker, this process."""

    web_master: int
    web: list[int]
    worker: int
    bench: int

    def role(self, pid: int) -> str:
        if pid in self.web or pid == self.web_master:
            return "web"
        if pid == self.worker:
            return "worker"
        return "bench" if pid == self.bench else "other"

    @property
    def all(self) -> list[int]:
        return [self.web_master, *self.web, self.worker, self.bench]


def find_processes(stack: Stack) -> Processes:
    master = stack.processes["web"].pid
    workers = web_workers(master)
    if not workers:
        raise BenchError("gunicorn has no worker processes")
    return Processes(master, workers, stack.processes["worker"].pid, os.getpid())


def descriptors(pid: int) -> Iterator[str]:
    """Where each open descriptor of the process points (sockets as `socket:[inode]`)."""
    folder = Path(f"/proc/{pid}/fd")
    try:
        entries = list(folder.iterdir())
    except OSError:
        return
    for entry in entries:
        try:
            yield str(entry.readlink())
        except OSError:
            continue  # closed meanwhile


def socket_inodes(pid: int) -> set[int]:
    return {int(target[8:-1]) for target in descriptors(pid) if target.startswith("socket:[")}


@dataclass
class TcpSocket:
    local_port: int
    remote_port: int
    established: bool


def tcp_sockets() -> dict[int, TcpSocket]:
    """This network namespace's TCP sockets by inode."""
    found = {}
    for name in ("tcp", "tcp6"):
        try:
            lines = Path(f"/proc/net/{name}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, remote, state, inode = fields[1], fields[2], fields[3], int(fields[9])
            if inode:
                found[inode] = TcpSocket(
                    int(local.rsplit(":", 1)[1], 16),
                    int(remote.rsplit(":", 1)[1], 16),
                    state == "01",
                )
    return found


def status_fields(pid: int) -> dict[str, str]:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    return {key: value.strip() for key, _, value in (line.partition(":") for line in lines)}


@dataclass
class WebProcess:
    """What one web worker looked like over the samples (peaks)."""

    threads: int = 0
    rss_mb: float = 0.0
    browser_connections: int = 0
    database: int = 0


# -- samples ---------------------------------------------------------------------------------


@dataclass
class Sample:
    by_role: Counter[str]
    by_web_pid: Counter[int]
    web_held: Counter[str]  # what the web processes' connections are doing (PostgreSQL)
    waiting: bool = False  # none of the pages' requests (streams aside) was being served

    @property
    def web(self) -> int:
        return self.by_role["web"]


LISTENER = "idle, LISTEN (the listener)"


def describe(state: str | None, query: str | None) -> str:
    query = " ".join((query or "").split())
    if state == "idle" and query.startswith("LISTEN"):
        return LISTENER
    return f"{state or 'unknown'}, last query {query[:60]!r}"


@dataclass
class Sampler:
    """Samples who holds database connections, on PostgreSQL or on SQLite."""

    processes: Processes
    web_port: int
    database_url: str | None
    sqlite_path: Path | None
    samples: list[Sample] = field(default_factory=list)
    web: dict[int, WebProcess] = field(default_factory=dict)
    _connection: object = None
    _pg_port: int = 0

    def __post_init__(self) -> None:
        if self.database_url:
            import psycopg

            url = urllib.parse.urlsplit(self.database_url)
            self._pg_port = url.port or 5432
            self._connection = psycopg.connect(
                self.database_url, autocommit=True, application_name="bench_open_pages"
            )

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()  # type: ignore[attr-defined]

    def take(self) -> Sample:
        # Owners are looked up before and after reading the sessions, so that a connection
        # opened or closed meanwhile is still traced to its process.
        owners = self._owners_of_sockets()
        rows = self._sessions()
        owners.update(self._owners_of_sockets())
        sample = self._postgres(rows, owners) if self._connection else self._sqlite()
        for pid, count in sample.by_web_pid.items():
            self.web[pid].database = max(self.web[pid].database, count)
        self.samples.append(sample)
        return sample

    def _owners_of_sockets(self) -> dict[int, int]:
        """Local port of each connection to PostgreSQL -> its process; web processes' figures."""
        sockets = tcp_sockets()
        owners = {}
        for pid in self.processes.all:
            inodes = socket_inodes(pid)
            for inode in inodes:
                tcp = sockets.get(inode)
                if tcp is not None and self._pg_port and tcp.remote_port == self._pg_port:
                    owners[tcp.local_port] = pid
            if pid in self.processes.web:
                self._web_process(pid, inodes, sockets)
        return owners

    def _sessions(self) -> list[tuple]:
        if self._connection is None:
            return []
        return self._connection.execute(  # type: ignore[attr-defined]
            "SELECT client_port, state, query, pid = pg_backend_pid() FROM pg_stat_activity"
            " WHERE datname = current_database() AND backend_type = 'client backend'"
        ).fetchall()

    def _web_process(self, pid: int, inodes: set[int], sockets: dict[int, TcpSocket]) -> None:
        status = status_fields(pid)
        seen = self.web.setdefault(pid, WebProcess())
        seen.threads = max(seen.threads, int(status.get("Threads", "0")))
        rss_kb = int(status.get("VmRSS", "0 kB").split()[0])
        seen.rss_mb = max(seen.rss_mb, rss_kb / 1024)
        browsers = sum(
            1
            for inode in inodes
            if (tcp := sockets.get(inode)) and tcp.established and tcp.local_port == self.web_port
        )
        seen.browser_connections = max(seen.browser_connections, browsers)

    def _postgres(self, rows: list[tuple], owners: dict[int, int]) -> Sample:
        by_role: Counter[str] = Counter()
        by_web_pid: Counter[int] = Counter()
        web_held: Counter[str] = Counter()
        for client_port, state, query, mine in rows:
            pid = self.processes.bench if mine else owners.get(client_port or -1, -1)
            role = self.processes.role(pid)
            by_role[role] += 1
            if role == "web":
                by_web_pid[pid] += 1
                web_held[describe(state, query)] += 1
        return Sample(by_role, by_web_pid, web_held)

    def _sqlite(self) -> Sample:
        assert self.sqlite_path is not None
        target = str(self.sqlite_path.resolve())
        by_role: Counter[str] = Counter()
        by_web_pid: Counter[int] = Counter()
        for pid in self.processes.all:
            held = sum(1 for path in descriptors(pid) if path == target)
            by_role[self.processes.role(pid)] += held
            if pid in self.processes.web:
                by_web_pid[pid] += held
        return Sample(by_role, by_web_pid, Counter())


# -- the pages -------------------------------------------------------------------------------


@dataclass
class PagesRun:
    opened_at: list[float]  # epoch seconds each page was live
    open_seconds: float
    card_requests: int
    card_requests_opening: int  # asked on each stream's opening (catch-up)
    events: int  # job announcements the pages received
    events_sampled: int
    stream_opens: int
    stream_errors: int
    not_succeeded: list[str]
    sampled_seconds: float


def set_stand_in_latency(port: int, seconds: float) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        body = json.dumps({"latency": seconds})
        connection.request("POST", "/_control/faults", body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise BenchError(f"setting the stand-in's latency answered HTTP {response.status}")
    finally:
        connection.close()


def submit_jobs(stack: Stack, cookies: dict[str, str], tag: str) -> list[int]:
    prompts = [f"bench {tag} open pages job {i}: a tide pool at noon" for i in range(JOBS)]
    for prompt in prompts:
        fields = {
            **JOB_FIELDS,
            "csrfmiddlewaretoken": cookies["csrftoken"],
            "prompt": prompt,
            "partial_images": str(PARTIAL_IMAGES),
        }
        response = http_request(stack.web_port, "POST", "/generations/", fields, cookies)
        if response.status not in (201, 302):
            raise BenchError(f"submitting {prompt!r} answered HTTP {response.status}")
    from playground.generations.models import Generation

    ids = list(Generation.objects.filter(prompt__in=prompts).values_list("pk", flat=True))
    if len(ids) != JOBS:
        raise BenchError(f"{len(ids)} of the {JOBS} submitted jobs were stored")
    close_django()  # the bench holds only its sampling connection from here on
    return sorted(ids)


async def log_in(browser: Browser, base_url: str, username: str, password: str) -> dict:
    context = await browser.new_context()
    try:
        page = await context.new_page()
        page.set_default_timeout(BROWSER_TIMEOUT_MS)
        await page.goto(f"{base_url}/accounts/login/")
        await page.fill("input[name=username]", username)
        await page.fill("input[name=password]", password)
        async with page.expect_navigation():
            await page.click("form button[type=submit]")
        await page.wait_for_selector("#generate-form")
        return await context.storage_state()
    finally:
        await context.close()


async def follow_jobs(
    stack: Stack,
    sampler: Sampler,
    credentials: tuple[str, str],
    job_ids: list[int],
    start_worker: Callable[[], int],
) -> PagesRun:
    """Open the pages on the queued jobs, start the worker, sample until every page is done."""
    username, password = credentials
    # Card requests made, and any request but the event streams: in flight, last sent or done.
    cards = {"total": 0, "in_flight": 0, "last": 0.0}

    def served_request(request) -> str | None:  # type: ignore[no-untyped-def]
        url = urllib.parse.urlsplit(request.url)
        if url.port != stack.web_port or url.path == EVENTS_PATH:
            return None
        return url.path

    def on_request(request) -> None:  # type: ignore[no-untyped-def]
        if (path := served_request(request)) is not None:
            cards["in_flight"] += 1
            cards["last"] = time.monotonic()
            if CARD_PATH.match(path):
                cards["total"] += 1

    def on_done(request) -> None:  # type: ignore[no-untyped-def]
        if served_request(request) is not None:
            cards["in_flight"] -= 1
            cards["last"] = time.monotonic()

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            state = await log_in(browser, stack.web_url, username, password)
            pages: list[Page] = []
            for _ in range(math.ceil(PAGES / PAGES_PER_CONTEXT)):
                context = await browser.new_context(storage_state=state)
                await context.add_init_script(MONITOR_JS)
                context.set_default_timeout(BROWSER_TIMEOUT_MS)
                context.on("request", on_request)
                context.on("requestfinished", on_done)
                context.on("requestfailed", on_done)
                for _ in range(min(PAGES_PER_CONTEXT, PAGES - len(pages))):
                    pages.append(await context.new_page())

            progress(f"opening {PAGES} playground pages ({PAGES_PER_CONTEXT} per context)")
            started = time.monotonic()
            opened_at = [0.0] * PAGES
            gate = asyncio.Semaphore(OPENING_AT_ONCE)

            async def open_page(number: int) -> None:
                async with gate:
                    page = pages[number]
                    await page.goto(f"{stack.web_url}/")
                    await page.wait_for_function(
                        "() => document.documentElement.dataset.push === 'live'", polling=100
                    )
                    opened_at[number] = time.time()
                    shown = await page.locator("#results article.job").count()
                    if shown < JOBS:
                        raise BenchError(f"page {number + 1} shows {shown} of the {JOBS} jobs")

            await asyncio.gather(*(open_page(number) for number in range(PAGES)))
            open_seconds = time.monotonic() - started

            following = await pages[0].locator("#results article.job[data-following]").count()
            if following != JOBS:
                raise BenchError(f"the first page follows {following} of the {JOBS} jobs")
            counts_before = await page_counts(pages)
            cards_before = cards["total"]
            progress(
                f"all {PAGES} pages live after {open_seconds:.1f} s; starting the worker and "
                "sampling database connections"
            )
            sampler.processes.worker = start_worker()
            sampling_started = time.monotonic()
            deadline = sampling_started + SETTLE_TIMEOUT_SECONDS
            settled = False
            while time.monotonic() < deadline:
                begun = time.monotonic()
                idle_before = cards["in_flight"] == 0 and cards["last"] < begun - QUIET_MARGIN
                sample = sampler.take()
                # Requests sent meanwhile reach this loop a little later: give them that time.
                # A request just done may still hold its connection while it is closed.
                await asyncio.sleep(QUIET_MARGIN)
                sample.waiting = idle_before and cards["last"] < begun
                if len(sampler.samples) % 4 == 0:
                    settled = await pages[0].evaluate(SUCCEEDED_JS, job_ids)
                    enough = time.monotonic() - sampling_started >= MIN_SAMPLING_SECONDS
                    if settled and enough:
                        break
                await asyncio.sleep(max(0.0, begun + SAMPLE_SECONDS - time.monotonic()))
            sampled_seconds = time.monotonic() - sampling_started
            counts_after = await page_counts(pages)

            not_succeeded = []
            for number, page in enumerate(pages):
                try:
                    await page.wait_for_function(SUCCEEDED_JS, arg=job_ids, timeout=10_000)
                except PlaywrightTimeout:  # a page that never caught up is reported
                    states = await page.evaluate(
                        "(ids) => ids.map((id) => document.getElementById('job-' + id)"
                        "?.dataset.state ?? 'missing')",
                        job_ids,
                    )
                    not_succeeded.append(f"page {number + 1}: {', '.join(states)}")
            return PagesRun(
                opened_at=opened_at,
                open_seconds=open_seconds,
                card_requests=cards["total"],
                card_requests_opening=cards_before,
                events=counts_after["events"],
                events_sampled=counts_after["events"] - counts_before["events"],
                stream_opens=counts_after["opens"],
                stream_errors=counts_after["errors"],
                not_succeeded=not_succeeded,
                sampled_seconds=sampled_seconds,
            )
        finally:
            await browser.close()


async def page_counts(pages: list[Page]) -> Counter[str]:
    totals: Counter[str] = Counter()
    for counts in await asyncio.gather(*(page.evaluate("window.__bench") for page in pages)):
        totals.update(counts)
    return totals


def polling_requests(opened_at: list[float], job_ids: list[int]) -> int:
    """Card requests the pages would have made asking every second until their jobs settled."""
    from playground.generations.models import Generation

    finished = Generation.objects.filter(pk__in=job_ids).values_list("finished_at", flat=True)
    ends = [moment.timestamp() for moment in finished if moment is not None]
    close_django()
    return sum(max(0, math.floor(end - opened)) for opened in opened_at for end in ends)


# -- report ----------------------------------------------------------------------------------


def summary(values: list[int]) -> str:
    if not values:
        return "n/a"
    return f"peak {max(values)}, median {statistics.median(values):g}"


def report(database: str, sampler: Sampler, pages: PagesRun, polling: int) -> bool:
    samples = sampler.samples
    waiting = [s for s in samples if s.waiting]
    serving = [s for s in samples if not s.waiting]
    held = max((s.web for s in waiting), default=0)
    updated = not pages.not_succeeded and pages.events_sampled > 0
    passed = bool(waiting) and held <= TARGET_WEB_CONNECTIONS and updated
    what = "connections" if database == "PostgreSQL" else "descriptors on the database file"
    print(
        f"open pages: {PAGES} pages following {JOBS} jobs on {database}, {len(samples)} samples "
        f"over {pages.sampled_seconds:.1f} s; while the pages wait ({len(waiting)} samples with "
        f"none of their requests being served) the web processes hold "
        f"{summary([s.web for s in waiting])} {what} "
        f"(target <= {TARGET_WEB_CONNECTIONS}) [{verdict(passed)}]"
    )
    print(
        f"  while the pages fetch announced cards and previews ({len(serving)} samples): web "
        f"processes hold {summary([s.web for s in serving])} {what}; over the whole run "
        f"{summary([s.web for s in samples])}"
    )
    others = [sum(s.by_role.values()) - s.by_role["bench"] for s in samples]
    print(
        f"  all {what} but the bench's: {summary(others)}; "
        f"worker {summary([s.by_role['worker'] for s in samples])}; "
        f"bench {summary([s.by_role['bench'] for s in samples])}; "
        f"not traced to a process {summary([s.by_role['other'] for s in samples])}"
    )
    if database == "PostgreSQL":
        for label, group in (("waiting", waiting), ("fetching", serving)):
            if group:
                peak = max(group, key=lambda s: s.web)
                held_as = peak.web_held.most_common(4)
                parts = "; ".join(f"{count} {doing}" for doing, count in held_as)
                print(f"  web connections at the {label} peak: {parts or 'none'}")
    for pid, seen in sorted(sampler.web.items()):
        print(
            f"  web process {pid}: {what} peak {seen.database}, threads peak {seen.threads}, "
            f"RSS peak {seen.rss_mb:.0f} MB, browser connections peak "
            f"{seen.browser_connections}"
        )
    print(
        f"  pages: all live in {pages.open_seconds:.1f} s; {pages.events} job announcements "
        f"received ({pages.events_sampled} while sampling), {pages.stream_opens} stream openings, "
        f"{pages.stream_errors} stream errors; "
        f"{pages.card_requests} card requests ({pages.card_requests_opening} of them on "
        f"opening the streams) where polling every second would have made about {polling}"
    )
    if pages.events_sampled == 0:
        print("  the pages received no announcement while sampling")
    for line in pages.not_succeeded[:10]:
        print(f"  not all jobs shown succeeded on {line}")
    return passed


# -- run -------------------------------------------------------------------------------------


@contextmanager
def database() -> Iterator[str | None]:
    """A DATABASE_URL on a throwaway PostgreSQL cluster, or None (SQLite) without PostgreSQL."""
    if postgres_bindir() is None:
        progress("PostgreSQL is not installed: measuring on SQLite (descriptors, not sessions)")
        yield None
        return
    import psycopg

    with postgres_cluster() as url:
        admin = urllib.parse.urlsplit(url)._replace(path="/postgres").geturl()
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute("CREATE DATABASE playground")
        yield url


def run() -> bool:
    with database() as database_url, running_stack(database_url=database_url) as stack:
        name = "PostgreSQL" if database_url else "SQLite"
        username, password = read_credentials(stack)
        cookies = login(stack.web_port, username, password)
        set_stand_in_latency(stack.api_port, JOB_SECONDS)
        # The jobs wait in the queue while the pages open (that takes tens of seconds on a busy
        # machine), so that all their progress happens while every page is following.
        stop_processes({"worker": stack.processes["worker"]})
        progress(f"submitting {JOBS} jobs with {PARTIAL_IMAGES} previews, {JOB_SECONDS:g} s each")
        job_ids = submit_jobs(stack, cookies, secrets.token_hex(4))

        def start_worker() -> int:
            start_process(stack, "worker", [sys.executable, "manage.py", "run_worker"])
            return stack.processes["worker"].pid

        sampler = Sampler(
            find_processes(stack),
            stack.web_port,
            database_url,
            None if database_url else stack.data_dir / "playground.sqlite3",
        )
        try:
            pages = asyncio.run(
                follow_jobs(stack, sampler, (username, password), job_ids, start_worker)
            )
        finally:
            sampler.close()
        check_alive(stack)
        polling = polling_requests(pages.opened_at, job_ids)
    passed = report(name, sampler, pages, polling)
    if not any(sample.waiting for sample in sampler.samples):
        raise BenchError("no sample caught the pages with none of their requests being served")
    return passed


def guarded_run() -> bool:
    """run(), with any unexpected error (Playwright, psycopg, ...) counted as a failed run."""
    try:
        return run()
    except BenchError:
        raise
    except Exception as error:
        traceback.print_exc()
        raise BenchError(f"unexpected {type(error).__name__}") from error


if __name__ == "__main__":
    sys.exit(exit_status(guarded_run))
