"""Slow callback receivers against another user's job: the job is not delayed.

It starts the stack as `bench_jobs.py` does (web, `run_worker`, the offline stand-in) with
WORKER_CONCURRENCY=4, CALLBACK_CONCURRENCY=4 and the stand-in answering after 0.5 s, plus a
callback receiver on loopback that reads each callback and then answers one byte a second
(CALLBACK_TIMEOUT_SECONDS=45, so an attempt lasts 45 s). It measures:

1. Idle: a task made through `createTask` (no callback) on an idle worker, RUNS times; its
   time is the job's `finished_at` minus its `created_at`.
2. Loaded: four tasks whose callbacks go to the trickling receiver; once all four callbacks
   are on their way, the same task again, RUNS times.

The target: the loaded median within 1.2x the idle median. It prints a short report and exits
1 when the target is missed, 2 when the run itself fails.
"""

import os
import socket
import statistics
import sys
import threading
import time

import bench_jobs
import requests
from bench_jobs import (
    BenchError,
    check_alive,
    exit_status,
    manage,
    progress,
    running_stack,
    verdict,
)

UPSTREAM_LATENCY = 0.5
WORKER_CONCURRENCY = 4
CALLBACKS = 4
CALLBACK_TIMEOUT_SECONDS = 45
RUNS = 5
TARGET_RATIO = 1.2
JOB_TIMEOUT_SECONDS = 30.0
SETTINGS = {
    "WORKER_CONCURRENCY": str(WORKER_CONCURRENCY),
    "CALLBACK_CONCURRENCY": str(CALLBACKS),
    "CALLBACK_TIMEOUT_SECONDS": str(CALLBACK_TIMEOUT_SECONDS),
    "API_ALLOW_PRIVATE_URLS": "true",  # the receiver is on loopback
    "API_RATE_LIMIT_PER_KEY": "0",
    "API_RATE_LIMIT_PER_USER": "0",
}
TASK_INPUT = {"prompt": "a lighthouse at dusk", "size": "1024x1024", "quality": "low"}


class Trickler:
    """Reads a callback, then answers one byte a second (a 200 with a 60-byte body)."""

    ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 60\r\n\r\n" + b"." * 60

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/hook"
        self.open = 0
        self.lock = threading.Lock()
        self.stop = threading.Event()
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            with self.lock:
                self.open += 1
            try:
                for byte in self.ANSWER:
                    if self.stop.wait(1.0):
                        return
                    conn.sendall(bytes([byte]))
            except OSError:
                pass
            finally:
                with self.lock:
                    self.open -= 1

    def close(self) -> None:
        self.stop.set()
        self.listener.close()


def create_task(base_url: str, key: str, callback_url: str = "") -> str:
    body: dict = {"model": "gpt-image-1.5", "input": TASK_INPUT}
    if callback_url:
        body["callBackUrl"] = callback_url
    answer = requests.post(
        f"{base_url}/api/v1/jobs/createTask",
        json=body,
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    if answer.status_code != 200 or answer.json().get("code") != 200:
        raise BenchError(f"createTask answered {answer.status_code}: {answer.text[:300]}")
    return answer.json()["data"]["taskId"]


def job_seconds(task_id: str) -> float:
    """The task's job from creation to settled, as the server recorded it."""
    from django.db import connections

    from playground.api.models import ApiTask

    deadline = time.monotonic() + JOB_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        job = ApiTask.objects.select_related("generation").get(task_id=task_id).generation
        connections.close_all()
        if job.finished_at is not None:
            if job.state != "succeeded":
                raise BenchError(f"task {task_id} ended {job.state}: {job.error_message}")
            return (job.finished_at - job.created_at).total_seconds()
        time.sleep(0.02)
    raise BenchError(f"task {task_id} did not finish within {JOB_TIMEOUT_SECONDS:g} s")


def timed_runs(base_url: str, key: str) -> list[float]:
    return [job_seconds(create_task(base_url, key)) for _ in range(RUNS)]


def run() -> bool:
    os.environ.update(SETTINGS)
    bench_jobs.UPSTREAM_LATENCY = UPSTREAM_LATENCY
    trickler = Trickler()
    try:
        with running_stack() as stack:
            from django.contrib.auth import get_user_model

            from playground.webhooks.secrets import new_webhook_secret

            admin = get_user_model().objects.filter(is_superuser=True).first()
            username = admin.get_username()
            new_webhook_secret(admin)  # createTask asks for one before taking a callBackUrl
            key = manage(stack, "create_api_key", username).strip().splitlines()[-1]
            progress(f"{RUNS} jobs on an idle worker")
            idle = timed_runs(stack.web_url, key)
            progress(f"{CALLBACKS} callbacks to a receiver answering a byte a second")
            for _ in range(CALLBACKS):
                create_task(stack.web_url, key, trickler.url)
            deadline = time.monotonic() + JOB_TIMEOUT_SECONDS
            while trickler.open < CALLBACKS:
                if time.monotonic() > deadline:
                    raise BenchError(f"only {trickler.open} callbacks arrived")
                time.sleep(0.05)
            progress(f"{RUNS} jobs while the {CALLBACKS} callbacks trickle")
            loaded = timed_runs(stack.web_url, key)
            still_open = trickler.open
            check_alive(stack)
    finally:
        trickler.close()
    idle_median, loaded_median = statistics.median(idle), statistics.median(loaded)
    ratio = loaded_median / idle_median
    passed = ratio <= TARGET_RATIO and still_open == CALLBACKS
    print(
        f"callbacks vs jobs: WORKER_CONCURRENCY={WORKER_CONCURRENCY}, {CALLBACKS} callbacks "
        f"trickling a byte a second (deadline {CALLBACK_TIMEOUT_SECONDS} s), "
        f"upstream latency {UPSTREAM_LATENCY:g} s"
    )
    print(
        f"  idle worker:       {', '.join(f'{s:.3f}' for s in idle)} s; median {idle_median:.3f} s"
    )
    print(
        f"  callbacks running: {', '.join(f'{s:.3f}' for s in loaded)} s; "
        f"median {loaded_median:.3f} s"
    )
    print(f"  callbacks still on their way at the end: {still_open} of {CALLBACKS}")
    print(f"  ratio {ratio:.2f}x (target <= {TARGET_RATIO:g}x): {verdict(passed)}")
    return passed


if __name__ == "__main__":
    sys.exit(exit_status(run))
