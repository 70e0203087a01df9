"""`manage.py offline_images_api` serves /_control/* only when asked (--control or env)."""

import httpx2
import pytest

from tests.offline_api.commands import stand_in_command


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
