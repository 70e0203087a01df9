"""CPU and memory one web request costs when it uploads hostile references (`make bench`).

It starts the stack of `bench_jobs.py` (gunicorn with threads, worker, offline stand-in) in a
temporary DATA_DIR, writes 16 palette PNGs of a few kilobytes each that decode to 6000x6600
pixels (just under the per-image limit), posts them as one edit with a prompt through the
playground's form endpoint as the signed-in admin, and reads the gunicorn workers' CPU time
(/proc/PID/stat) and peak resident memory (VmHWM, reset before the request) around it. It
prints both figures and the answer the person got (the status and any error shown), then
does the same for the largest edit of those images the per-request limits let through.

Target: at most a few seconds of CPU and under 400 MB for the request, whatever the answer.
Exits 1 when the target is missed, 2 when the run itself fails.
"""

import contextlib
import html
import http.client
import os
import re
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from bench_edit_memory import multipart, peak_mb, stream, web_workers
from bench_jobs import (
    JOB_FIELDS,
    BenchError,
    exit_status,
    login,
    progress,
    read_credentials,
    running_stack,
)
from PIL import Image

REFERENCES = 16
WIDTH, HEIGHT = 6000, 6600  # 39.6 megapixels each
CPU_TARGET_SECONDS = 3.0
PEAK_TARGET_MB = 400.0
# The per-request limits and their defaults (playground/settings.py).
LIMIT_SETTINGS = {"EDIT_MAX_REQUEST_MEGAPIXELS": 200, "EDIT_MAX_REQUEST_CONVERTED_MEGAPIXELS": 40}
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
ALERT = re.compile(r'<em class="field-error" role="alert"[^>]*>(.*?)</em>', re.DOTALL)


def write_references(folder: Path) -> list[Path]:
    """Flat palette images: zlib squeezes 39.6 MB of identical bytes into a few kilobytes.

    Each has its own palette colour, so the files differ and none is stored only once; a
    transparent palette entry makes each decode to RGBA, the costliest conversion."""
    paths = []
    for number in range(REFERENCES):
        path = folder / f"palette-{number + 1:02d}.png"
        picture = Image.new("P", (WIDTH, HEIGHT), 0)
        picture.putpalette([number * 15, 255 - number * 15, 128] * 256)
        picture.save(path, "PNG", optimize=True, transparency=255)
        paths.append(path)
    return paths


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def reset_peak(pid: int) -> None:
    """Start the process's VmHWM afresh, so it shows this request's peak (Linux 4.0+)."""
    with contextlib.suppress(OSError):
        Path(f"/proc/{pid}/clear_refs").write_text("5")


def shown_errors(body: str) -> list[str]:
    return [html.unescape(re.sub(r"<[^>]+>", "", text)).strip() for text in ALERT.findall(body)]


def post_edit(port: int, cookies: dict[str, str], files: list[Path]) -> tuple[int, str, float]:
    """(HTTP status, response body, seconds) of the edit, posted as htmx posts it."""
    boundary = uuid.uuid4().hex
    fields = {
        **JOB_FIELDS,
        "csrfmiddlewaretoken": cookies["csrftoken"],
        "model": "gpt-image-1.5",
        "prompt": "a poster combining the colours of all the reference pictures",
        "image_order": ",".join(["upload"] * len(files)),
    }
    parts, length = multipart(fields, files, boundary)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    headers = {
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Content-Length": str(length),
        "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
        "X-CSRFToken": cookies["csrftoken"],
        "HX-Request": "true",
    }
    started = time.monotonic()
    try:
        connection.request("POST", "/generations/", body=stream(parts), headers=headers)
        response = connection.getresponse()
        body = response.read().decode("utf-8", "replace")
        return response.status, body, time.monotonic() - started
    finally:
        connection.close()


def answer(status: int, body: str) -> str:
    if status == 201:
        return "HTTP 201: the edit was queued"
    errors = shown_errors(body)
    return f"HTTP {status}: " + (" | ".join(errors) if errors else "no error message shown")


@dataclass
class Cost:
    """What one request cost the web processes, and what the person got."""

    references: int
    cpu: float
    peak: float
    seconds: float
    answer: str

    @property
    def passed(self) -> bool:
        return self.cpu <= CPU_TARGET_SECONDS and self.peak < PEAK_TARGET_MB

    def report(self, label: str) -> None:
        megapixels = self.references * WIDTH * HEIGHT / 1e6
        print(
            f"{label}: {self.references} palette PNGs ({megapixels:.0f} megapixels decoded) "
            f"answered in {self.seconds:.1f} s: web CPU {self.cpu:.1f} s (target <= "
            f"{CPU_TARGET_SECONDS:g} s), web peak RSS {self.peak:.0f} MB (target < "
            f"{PEAK_TARGET_MB:.0f} MB) [{'ok' if self.passed else 'MISSED'}]"
        )
        print(f"  answer: {self.answer}")


def measure(port: int, cookies: dict[str, str], workers: list[int], files: list[Path]) -> Cost:
    for pid in workers:
        reset_peak(pid)
    before = {pid: cpu_seconds(pid) for pid in workers}
    status, body, seconds = post_edit(port, cookies, files)
    cpu = sum(cpu_seconds(pid) - before[pid] for pid in workers)
    peak = max(peak_mb(pid) for pid in workers)
    if status >= 500:
        raise BenchError(f"the server failed (HTTP {status})")
    return Cost(len(files), cpu, peak, seconds, answer(status, body))


def fitting_references() -> int:
    """How many of the images fit the per-request limits the stack runs with: the decoded
    pixels, and the pixels converted (a palette image is converted to RGBA)."""
    limits = [int(os.environ.get(name) or default) for name, default in LIMIT_SETTINGS.items()]
    return min(REFERENCES, *(limit * 1_000_000 // (WIDTH * HEIGHT) for limit in limits))


def run() -> bool:
    with tempfile.TemporaryDirectory(prefix="playground-palette-") as folder:
        progress(f"writing {REFERENCES} palette PNGs of {WIDTH}x{HEIGHT}")
        files = write_references(Path(folder))
        total_kb = sum(p.stat().st_size for p in files) / 1024
        with running_stack() as stack:
            username, password = read_credentials(stack)
            cookies = login(stack.web_port, username, password)
            workers = web_workers(stack.processes["web"].pid)
            progress(f"posting one edit with {len(files)} references ({total_kb:.0f} KB)")
            hostile = measure(stack.web_port, cookies, workers, files)
            fitting = files[: fitting_references()]
            progress(f"posting the largest such edit the limits allow ({len(fitting)})")
            largest = measure(stack.web_port, cookies, workers, fitting)
    hostile.report(f"edit cpu ({total_kb:.0f} KB uploaded)")
    largest.report("  largest such edit allowed")
    return hostile.passed and largest.passed


if __name__ == "__main__":
    sys.exit(exit_status(run))
