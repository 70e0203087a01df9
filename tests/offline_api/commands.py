"""Running `manage.py offline_images_api` as its own process, as the Procfile does."""

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]


@contextmanager
def stand_in_command(*flags: str, control_env: str | None = None) -> Iterator[str]:
    """Run the command on a free port; yields its root URL (http://127.0.0.1:port)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("OFFLINE_API_CONTROL", None)
    if control_env is not None:
        env["OFFLINE_API_CONTROL"] = control_env
    process = subprocess.Popen(
        [sys.executable, "manage.py", "offline_images_api", "--port", "0", "--quiet", *flags],
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().split(" on ", 1)[1].split()[0]
        yield base_url.removesuffix("/v1")
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
