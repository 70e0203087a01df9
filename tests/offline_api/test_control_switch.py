"""`manage.py offline_images_api` serves /_control/* only when asked (--control or env)."""

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2
import pytest

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


def control_status(url: str) -> tuple[int, int]:
    """Status of reading the request log and of queueing a fault."""
    read = httpx2.get(f"{url}/_control/requests").status_code
    write = httpx2.post(f"{url}/_control/faults", json={"fail_next": ["500"]}).status_code
    return read, write


def test_the_command_serves_no_control_endpoints_by_default() -> None:
    with stand_in_command() as url:
        assert control_status(url) == (404, 404)
        assert httpx2.get(f"{url}/healthz").json() == {"status": "ok"}


@pytest.mark.parametrize("value", ["0", "", "no"])
def test_a_false_environment_value_keeps_them_off(value: str) -> None:
    with stand_in_command(control_env=value) as url:
        assert control_status(url) == (404, 404)


def test_the_control_flag_turns_them_on() -> None:
    with stand_in_command("--control") as url:
        assert control_status(url) == (200, 200)
        assert httpx2.get(f"{url}/_control/faults").json()["fail_next"] == ["500"]


def test_the_environment_variable_turns_them_on() -> None:
    with stand_in_command(control_env="1") as url:
        assert control_status(url) == (200, 200)
