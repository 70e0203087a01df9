"""Peak memory of the web process for an edit with 16 references of 20 MB each (`make bench`).

It starts the stack of `bench_jobs.py` (gunicorn with threads, worker, offline stand-in) in a
temporary DATA_DIR, writes 16 distinct 20 MB PNGs (random pixels, so they do not compress),
posts them as one edit request through the playground's form endpoint, and reads each gunicorn
worker's peak resident memory (VmHWM in /proc) before and after. Uploads are streamed to disk
and decoded one at a time, so the peak must stay under 400 MB.

Exits 1 when the target is missed, 2 when the run itself fails.
"""

import http.client
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

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
TARGET_FILE_BYTES = 20 * 1024 * 1024
PEAK_TARGET_MB = 400.0
SIDE = 2650  # 2650 x 2650 random RGB pixels: a PNG of about 20 MB


def write_references(folder: Path) -> list[Path]:
    paths = []
    for number in range(REFERENCES):
        path = folder / f"reference-{number + 1:02d}.png"
        noise = Image.frombytes("RGB", (SIDE, SIDE), os.urandom(SIDE * SIDE * 3))
        noise.save(path, "PNG", compress_level=1)
        paths.append(path)
    return paths


def multipart(fields: dict[str, str], files: list[Path], boundary: str) -> tuple[list, int]:
    """The body as parts (file parts as paths, streamed later) and its total length."""
    parts: list[bytes | Path] = []
    for name, value in fields.items():
        header = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        parts.append(f"{header}{value}\r\n".encode())
    for path in files:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="image[]"; '
            f'filename="{path.name}"\r\nContent-Type: image/png\r\n\r\n'.encode()
        )
        parts.append(path)
        parts.append(b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    length = sum(p.stat().st_size if isinstance(p, Path) else len(p) for p in parts)
    return parts, length


def stream(parts: list) -> Iterator[bytes]:
    for part in parts:
        if isinstance(part, Path):
            with part.open("rb") as handle:
                while chunk := handle.read(1024 * 1024):
                    yield chunk
        else:
            yield part


def web_workers(master_pid: int) -> list[int]:
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    return [int(pid) for pid in children]


def peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise BenchError(f"no VmHWM for process {pid}")


def post_edit(port: int, cookies: dict[str, str], files: list[Path]) -> tuple[int, float]:
    boundary = uuid.uuid4().hex
    fields = {
        **JOB_FIELDS,
        "csrfmiddlewaretoken": cookies["csrftoken"],
        "model": "gpt-image-1.5",
        "prompt": "a gift basket containing all the items from the reference pictures",
        "image_order": ",".join(["upload"] * len(files)),
    }
    parts, length = multipart(fields, files, boundary)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    headers = {
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Content-Length": str(length),
        "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
        "X-CSRFToken": cookies["csrftoken"],
    }
    started = time.monotonic()
    try:
        connection.request("POST", "/generations/", body=stream(parts), headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status, time.monotonic() - started
    finally:
        connection.close()


def run() -> bool:
    with tempfile.TemporaryDirectory(prefix="playground-refs-") as folder:
        progress(f"writing {REFERENCES} reference PNGs of about 20 MB")
        files = write_references(Path(folder))
        total_mb = sum(p.stat().st_size for p in files) / 1024 / 1024
        with running_stack() as stack:
            username, password = read_credentials(stack)
            cookies = login(stack.web_port, username, password)
            workers = web_workers(stack.processes["web"].pid)
            before = {pid: peak_mb(pid) for pid in workers}
            progress(f"posting one edit with {len(files)} references ({total_mb:.0f} MB)")
            status, seconds = post_edit(stack.web_port, cookies, files)
            if status not in (201, 302):
                raise BenchError(f"the edit was refused (HTTP {status})")
            after = {pid: peak_mb(pid) for pid in workers}
    peak = max(after.values())
    passed = peak < PEAK_TARGET_MB
    print(
        f"edit memory: {len(files)} references, {total_mb:.0f} MB uploaded in {seconds:.1f} s: "
        f"web worker peak RSS {peak:.0f} MB (before the request {max(before.values()):.0f} MB; "
        f"target < {PEAK_TARGET_MB:.0f} MB) [{'ok' if passed else 'MISSED'}]"
    )
    return passed


if __name__ == "__main__":
    sys.exit(exit_status(run))
