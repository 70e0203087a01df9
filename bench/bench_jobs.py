"""Job throughput and latency benchmark of the playground (`make bench`).

It starts the whole stack the way the Procfile does (gunicorn with uvicorn workers, `run_worker`,
the offline stand-in of the Images API answering every request after 5 s) in a temporary
DATA_DIR, so ./var is never touched, and measures two targets:

1. Throughput: 32 jobs submitted at once over HTTP (logged-in session, plain form posts) must all
   finish within 10 s of wall time, from the first submit to the last job's `finished_at`. Jobs
   are followed through the Django ORM from this process (every 50 ms); per-job end-to-end is
   `finished_at` minus the moment that job's POST was sent.
2. Latency: in headless Chromium (Playwright), the time from clicking Generate to every image
   of the new job card loaded and shown (both timestamped in the page), for n=1 and for n=4.
   It runs 5 times each; the median must be at most 1.05x the upstream latency (overhead under
   250 ms). The overhead is also given over the upstream call as the worker timed it, which
   includes the stand-in's own drawing of the images. A breakdown from the job's row (request,
   queue, upstream, storing, page) says where the time went; the page learns of the result
   over its event stream.

It prints a short report and exits 1 when a target is missed, 2 when the run itself fails.
"""

import contextlib
import http.client
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.cookies import SimpleCookie
from pathlib import Path
from types import FrameType

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.prefix) / "bin"

UPSTREAM_LATENCY = 5.0
JOBS = 32
THROUGHPUT_TARGET_SECONDS = 10.0
LATENCY_TARGET_RATIO = 1.05
LATENCY_RUNS = 5
LATENCY_IMAGE_COUNTS = (1, 4)

POLL_SECONDS = 0.05
JOBS_TIMEOUT_SECONDS = 90.0
HEALTH_TIMEOUT_SECONDS = 60.0
BROWSER_TIMEOUT_MS = 60_000
STOP_TIMEOUT_SECONDS = 10.0

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
JOB_FIELDS = {
    "model": "gpt-image-2",
    "size": "1024x1024",
    "quality": "low",
    "n": "1",
    "output_format": "png",
    "background": "auto",
    "moderation": "auto",
    "partial_images": "0",
}
# Inherited variables that would point the stack outside its temporary DATA_DIR or offline mode.
ISOLATING_VARIABLES = (
    "DATABASE_URL",
    "STATIC_ROOT",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "TASKS_BACKEND",
    "WEB_PORT",
)


class BenchError(Exception):
    """The benchmark could not run (the stack did not start, a request failed, ...)."""


# -- the stack ---------------------------------------------------------------------------------


@dataclass
class Stack:
    data_dir: Path
    env: dict[str, str]
    web_port: int
    api_port: int
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stack_env(data_dir: Path, web_port: int, api_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ISOLATING_VARIABLES}
    env.update(
        DATA_DIR=str(data_dir),
        SECRET_KEY="bench",
        PORT=str(web_port),
        OFFLINE_API_PORT=str(api_port),
        DJANGO_SETTINGS_MODULE="playground.settings",
        PYTHONUNBUFFERED="1",
    )
    return env


def manage(stack: Stack, *args: str) -> str:
    """Run one management command to completion and return what it printed; raise with its
    output if it fails."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=stack.env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"manage.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def start_process(stack: Stack, name: str, argv: Sequence[str]) -> None:
    """Start one long-running process in its own session, its output in logs/<name>.log."""
    stack.log_dir.mkdir(exist_ok=True)
    with (stack.log_dir / f"{name}.log").open("wb") as log:
        stack.processes[name] = subprocess.Popen(
            list(argv),
            cwd=ROOT,
            env=stack.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def start_services(stack: Stack) -> None:
    """The three processes of the Procfile, with the stand-in's latency at UPSTREAM_LATENCY."""
    start_process(
        stack,
        "web",
        [
            str(BIN / "gunicorn"),
            "playground.asgi:application",
            "--bind",
            f"127.0.0.1:{stack.web_port}",
            "--worker-class",
            "uvicorn_worker.UvicornWorker",
            "--workers",
            "2",
            "--timeout",
            "0",
            "--graceful-timeout",
            "3",
            "--no-control-socket",
        ],
    )
    start_process(stack, "worker", [sys.executable, "manage.py", "run_worker"])
    # --control: bench_open_pages.py sets the latency through /_control/faults
    start_process(stack, "offline", stand_in_argv(stack.api_port, UPSTREAM_LATENCY))


def stand_in_argv(port: int, latency: float) -> list[str]:
    """The offline stand-in on loopback with its control endpoints (and request log) on."""
    return [
        sys.executable,
        "manage.py",
        "offline_images_api",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--latency",
        f"{latency:g}",
        "--control",
    ]


def check_alive(stack: Stack) -> None:
    for name, process in stack.processes.items():
        if process.poll() is not None:
            raise BenchError(f"{name} exited with code {process.returncode}")


def wait_healthy(stack: Stack, port: int) -> None:
    deadline = time.monotonic() + HEALTH_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        check_alive(stack)
        with contextlib.suppress(OSError, http.client.HTTPException):
            if http_request(port, "GET", "/healthz").status == 200:
                return
        time.sleep(0.1)
    raise BenchError(f"http://127.0.0.1:{port}/healthz did not answer 200 in time")


def stop_processes(processes: dict[str, subprocess.Popen[bytes]]) -> None:
    """SIGTERM each process group we started, then SIGKILL what is left after a grace period."""
    for process in processes.values():
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    for process in processes.values():
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # stragglers, e.g. gunicorn's workers
        process.wait()


def log_tails(stack: Stack, lines: int = 15) -> str:
    parts = []
    for name in stack.processes:
        path = stack.log_dir / f"{name}.log"
        if path.exists():
            tail = path.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- {name} (last {len(tail)} lines) ---\n" + "\n".join(tail))
    return "\n".join(parts)


def setup_django(stack: Stack) -> None:
    """Let this process read the stack's database through the ORM."""
    os.environ.update(stack.env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def close_django() -> None:
    if "django.db" in sys.modules:
        from django.db import connections

        connections.close_all()


@contextmanager
def running_stack(database_url: str | None = None) -> Iterator[Stack]:
    """A migrated, prepared and running stack in a temporary DATA_DIR; all torn down after.

    Its database is SQLite in that DATA_DIR unless `database_url` names another (PostgreSQL).
    """
    data_dir = Path(tempfile.mkdtemp(prefix="playground-bench-"))
    web_port = free_port()
    api_port = free_port()
    while api_port == web_port:
        api_port = free_port()
    stack = Stack(data_dir, stack_env(data_dir, web_port, api_port), web_port, api_port)
    if database_url:
        stack.env["DATABASE_URL"] = database_url
    try:
        progress("migrating and collecting static files in a temporary DATA_DIR")
        manage(stack, "migrate", "--noinput", "-v0")
        manage(stack, "collectstatic", "--noinput", "-v0")
        manage(stack, "prepare_playground")
        progress(f"starting web :{web_port}, worker, stand-in :{api_port}")
        start_services(stack)
        wait_healthy(stack, web_port)
        wait_healthy(stack, api_port)
        setup_django(stack)
        yield stack
    except BenchError:
        if stack.processes:
            progress(log_tails(stack))
        raise
    finally:
        close_django()
        stop_processes(stack.processes)
        shutil.rmtree(data_dir, ignore_errors=True)


def read_credentials(stack: Stack) -> tuple[str, str]:
    values: dict[str, str] = {}
    for line in (stack.data_dir / "admin-credentials.txt").read_text().splitlines():
        key, _, value = line.partition(":")
        values[key.strip()] = value.strip()
    return values["username"], values["password"]


# -- plain HTTP with a cookie session --------------------------------------------------------


@dataclass
class Response:
    status: int
    cookies: dict[str, str]


def http_request(
    port: int,
    method: str,
    path: str,
    fields: dict[str, str] | None = None,
    cookies: dict[str, str] | None = None,
) -> Response:
    """One request on a fresh connection (thread-safe); redirects are not followed."""
    headers = {}
    body = None
    if fields is not None:
        body = urllib.parse.urlencode(fields)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        jar: SimpleCookie = SimpleCookie()
        for header in response.headers.get_all("Set-Cookie") or []:
            jar.load(header)
        return Response(response.status, {k: morsel.value for k, morsel in jar.items()})
    finally:
        connection.close()


def login(port: int, username: str, password: str) -> dict[str, str]:
    """Session and CSRF cookies of a logged-in user."""
    cookies = http_request(port, "GET", "/accounts/login/").cookies
    fields = {
        "username": username,
        "password": password,
        "csrfmiddlewaretoken": cookies["csrftoken"],
    }
    response = http_request(port, "POST", "/accounts/login/", fields, cookies)
    if response.status != 302 or "sessionid" not in response.cookies:
        raise BenchError(f"logging in failed (HTTP {response.status})")
    return {**cookies, **response.cookies}


# -- target 1: throughput --------------------------------------------------------------------


@dataclass
class JobRow:
    prompt: str
    state: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    upstream_seconds: float | None
    error_message: str


@dataclass
class Throughput:
    wall_seconds: float
    end_to_end: list[float]
    queue_waits: list[float]
    upstream: list[float]
    failed: list[str]

    @property
    def passed(self) -> bool:
        return not self.failed and self.wall_seconds < THROUGHPUT_TARGET_SECONDS


def submit_job(port: int, cookies: dict[str, str], prompt: str, start: threading.Barrier) -> float:
    """POST one job once every submitter is ready; returns when it was sent (epoch seconds)."""
    fields = {"csrfmiddlewaretoken": cookies["csrftoken"], "prompt": prompt, **JOB_FIELDS}
    start.wait()
    sent = time.time()
    response = http_request(port, "POST", "/generations/", fields, cookies)
    if response.status not in (201, 302):
        raise BenchError(f"submitting {prompt!r} answered HTTP {response.status}")
    return sent


def submit_all(port: int, cookies: dict[str, str], prompts: list[str]) -> dict[str, float]:
    start = threading.Barrier(len(prompts))
    with ThreadPoolExecutor(max_workers=len(prompts)) as pool:
        futures = {p: pool.submit(submit_job, port, cookies, p, start) for p in prompts}
        return {prompt: future.result() for prompt, future in futures.items()}


def job_rows(prompts: list[str]) -> list[JobRow]:
    from playground.generations.models import Generation

    fields = [
        "prompt",
        "state",
        "created_at",
        "started_at",
        "finished_at",
        "upstream_seconds",
        "error_message",
    ]
    return [JobRow(**row) for row in Generation.objects.filter(prompt__in=prompts).values(*fields)]


def wait_until_finished(prompts: list[str]) -> list[JobRow]:
    """Poll the jobs until all of them have finished (succeeded, failed or cancelled)."""
    deadline = time.monotonic() + JOBS_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        rows = job_rows(prompts)
        if len(rows) == len(prompts) and all(row.finished_at for row in rows):
            return rows
        time.sleep(POLL_SECONDS)
    raise BenchError(f"the {len(prompts)} jobs did not all finish in {JOBS_TIMEOUT_SECONDS:g} s")


def measure_throughput(stack: Stack, cookies: dict[str, str]) -> Throughput:
    tag = secrets.token_hex(4)
    prompts = [f"bench {tag} throughput job {i:02d}: a lighthouse at dusk" for i in range(JOBS)]
    sent = submit_all(stack.web_port, cookies, prompts)
    rows = wait_until_finished(prompts)
    finished = {row.prompt: row.finished_at.timestamp() for row in rows if row.finished_at}
    return Throughput(
        wall_seconds=max(finished.values()) - min(sent.values()),
        end_to_end=[finished[p] - sent[p] for p in prompts],
        queue_waits=[
            (row.started_at - row.created_at).total_seconds() for row in rows if row.started_at
        ],
        upstream=[row.upstream_seconds for row in rows if row.upstream_seconds is not None],
        failed=[f"{row.state}: {row.error_message}" for row in rows if row.state != "succeeded"],
    )


# -- target 2: latency in a real browser -----------------------------------------------------


@dataclass
class BrowserRun:
    """One job timed in the browser; phases (from the job's row) say where the time went."""

    prompt: str
    n: int
    clicked: float  # epoch seconds
    seconds: float
    phases: dict[str, float] = field(default_factory=dict)


@dataclass
class Latency:
    n: int
    runs: list[BrowserRun]

    @property
    def median_seconds(self) -> float:
        return statistics.median(run.seconds for run in self.runs)

    @property
    def median_overhead(self) -> float:
        return self.median_seconds - UPSTREAM_LATENCY

    @property
    def median_overhead_over_upstream_call(self) -> float | None:
        """Click to images shown, less the upstream call as the worker measured it."""
        over = [run.seconds - run.phases["upstream"] for run in self.runs if run.phases]
        return statistics.median(over) if over else None

    @property
    def passed(self) -> bool:
        return self.median_seconds <= UPSTREAM_LATENCY * LATENCY_TARGET_RATIO


def phases(row: JobRow, clicked: float, visible: float) -> dict[str, float]:
    """Click to row created, queued, upstream call, storing, and finished to images in page."""
    if row.started_at is None or row.finished_at is None or row.upstream_seconds is None:
        return {}
    created, started = row.created_at.timestamp(), row.started_at.timestamp()
    finished = row.finished_at.timestamp()
    return {
        "request": created - clicked,
        "queue": started - created,
        "upstream": row.upstream_seconds,
        "storing": finished - started - row.upstream_seconds,
        "page": visible - finished,
    }


# Timestamps taken in the page itself (epoch ms): the click on Generate, and the moment every
# image of the succeeded card with this prompt has loaded (decoded, with a size) and is laid
# out. Playwright's own wait_for backs off to re-checking every 500 ms during a long wait,
# which alone would add up to ~0.5 s to the figure.
WATCH_JOB_JS = """([prompt, count]) => {
  const now = () => performance.timeOrigin + performance.now();
  const marks = (window.__bench = {clicked: null, visible: null});
  document.addEventListener("click", (event) => {
    if (marks.clicked === null && event.target.closest("#generate-form button[type=submit]")) {
      marks.clicked = now();
    }
  }, true);
  const shown = () => [...document.querySelectorAll("#results article.job")].some((card) => {
    if (!(card.querySelector(".job-prompt")?.textContent ?? "").includes(prompt)) return false;
    const images = [...card.querySelectorAll(".job-images a.thumb img")];
    return images.length === count && images.every((img) =>
      img.complete && img.naturalWidth > 0 && img.getBoundingClientRect().width > 0);
  });
  const check = () => {
    if (marks.visible === null && shown()) marks.visible = now();
  };
  new MutationObserver(check).observe(document.getElementById("results"),
    {subtree: true, childList: true, attributes: true});
  document.addEventListener("load", check, true);  // an image finished loading
}"""


def browser_job(page: Page, base_url: str, prompt: str, n: int) -> BrowserRun:
    """Time from clicking Generate to every image of the new job card loaded and shown."""
    page.goto(f"{base_url}/")
    page.wait_for_function("() => document.documentElement.dataset.push === 'live'")
    page.fill("#id_prompt", prompt)
    page.fill("#id_n", str(n))
    page.evaluate(WATCH_JOB_JS, [prompt, n])
    card = page.locator("#results article.job").filter(
        has=page.locator(".job-prompt", has_text=prompt)
    )
    page.click("#generate-form button[type=submit]")
    page.wait_for_function("() => window.__bench.visible !== null", timeout=BROWSER_TIMEOUT_MS)
    state = card.get_attribute("data-state")
    if state != "succeeded":
        raise BenchError(f"the browser job ended {state!r}, not 'succeeded'")
    marks = page.evaluate("window.__bench")
    if marks["clicked"] is None:
        raise BenchError("the click on Generate was not seen in the page")
    clicked, visible = marks["clicked"] / 1000, marks["visible"] / 1000
    return BrowserRun(prompt, n, clicked, visible - clicked)


def add_phases(runs: list[BrowserRun]) -> None:
    """Fill in each run's phases (the ORM may not run inside Playwright's event loop)."""
    rows = {row.prompt: row for row in job_rows([run.prompt for run in runs])}
    for run in runs:
        if row := rows.get(run.prompt):
            run.phases = phases(row, run.clicked, run.clicked + run.seconds)


def measure_latency(stack: Stack, username: str, password: str) -> list[Latency]:
    tag = secrets.token_hex(4)
    runs: list[BrowserRun] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.set_default_timeout(BROWSER_TIMEOUT_MS)
            page.goto(f"{stack.web_url}/accounts/login/")
            page.fill("input[name=username]", username)
            page.fill("input[name=password]", password)
            with page.expect_navigation():
                page.click("form button[type=submit]")
            page.wait_for_selector("#generate-form")
            for n in LATENCY_IMAGE_COUNTS:
                for i in range(1, LATENCY_RUNS + 1):
                    prompt = f"bench {tag} latency n={n} run {i}: a red kite"
                    runs.append(browser_job(page, stack.web_url, prompt, n))
        finally:
            browser.close()
    add_phases(runs)
    return [Latency(n, [run for run in runs if run.n == n]) for n in LATENCY_IMAGE_COUNTS]


# -- report ----------------------------------------------------------------------------------


def progress(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def spread(values: list[float], digits: int = 1) -> str:
    if not values:
        return "n/a"
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"min {low:.{digits}f} / median {mid:.{digits}f} / max {high:.{digits}f} s"


def verdict(passed: bool) -> str:
    return "ok" if passed else "MISSED"


def report_throughput(result: Throughput) -> None:
    print(
        f"throughput: {JOBS} jobs, upstream latency {UPSTREAM_LATENCY:.1f} s: all finished in "
        f"{result.wall_seconds:.1f} s wall (target < {THROUGHPUT_TARGET_SECONDS:g} s) "
        f"[{verdict(result.passed)}]; per job end-to-end {spread(result.end_to_end)}"
    )
    print(
        f"  breakdown: queue wait (created to started) {spread(result.queue_waits, 2)}; "
        f"upstream call {spread(result.upstream, 2)}"
    )
    for failure in result.failed:
        print(f"  job not succeeded: {failure}")


def report_latency(result: Latency) -> None:
    runs = " / ".join(f"{run.seconds:.2f}" for run in result.runs)
    over_call = result.median_overhead_over_upstream_call
    over_call_text = f"; over the upstream call {over_call * 1000:.0f} ms" if over_call else ""
    print(
        f"latency n={result.n}: submit to images shown {runs} s; median "
        f"{result.median_seconds:.2f} s = {result.median_seconds / UPSTREAM_LATENCY:.3f}x the "
        f"{UPSTREAM_LATENCY:.1f} s upstream latency (target <= {LATENCY_TARGET_RATIO}x), "
        f"overhead {result.median_overhead * 1000:.0f} ms{over_call_text} "
        f"[{verdict(result.passed)}]"
    )
    names = dict.fromkeys(name for run in result.runs for name in run.phases)
    medians = {
        name: statistics.median(run.phases[name] for run in result.runs if name in run.phases)
        for name in names
    }
    if medians:
        parts = ", ".join(f"{name} {seconds * 1000:.0f}" for name, seconds in medians.items())
        print(f"  breakdown (median ms): {parts}")


def run() -> bool:
    """Set up, measure both targets, print the report; True when both targets are met."""
    with running_stack() as stack:
        username, password = read_credentials(stack)
        cookies = login(stack.web_port, username, password)
        progress(f"submitting {JOBS} jobs at once")
        throughput = measure_throughput(stack, cookies)
        progress(f"timing {LATENCY_RUNS} jobs for each n in {LATENCY_IMAGE_COUNTS} in Chromium")
        latencies = measure_latency(stack, username, password)
        check_alive(stack)
    report_throughput(throughput)
    for latency in latencies:
        report_latency(latency)
    return throughput.passed and all(latency.passed for latency in latencies)


def terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def exit_status(run: Callable[[], bool]) -> int:
    """0 when the targets are met, 1 when one is missed, 2 when the run itself failed."""
    try:
        return 0 if run() else 1
    except BenchError as error:
        print(f"bench failed: {error}", file=sys.stderr)
        return 2


def main() -> int:
    signal.signal(signal.SIGTERM, terminate)
    try:
        return 0 if run() else 1
    except BenchError as error:
        progress(f"failed: {error}")
        return 2
    except KeyboardInterrupt:
        progress("interrupted; the stack was torn down")
        return 130
    except Exception:
        traceback.print_exc()
        progress("failed unexpectedly; the stack was torn down")
        return 2


if __name__ == "__main__":
    sys.exit(main())
