"""A worker's LISTEN connection that cannot be made or is lost comes back, with backoff,
whether the worker is idle (waiting on it) or busy (its claiming loop asks for it)."""

import itertools
import threading
import time

import pytest
from django.db import connection, connections

from playground.generations import wakeup
from playground.generations.wakeup import WakeUps
from tests.postgres import skip_unless_postgresql
from tests.workers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def notify() -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"NOTIFY {wakeup.CHANNEL}")
    finally:
        connections.close_all()  # this thread's own connection


def woken_within(wakeups: WakeUps, seconds: float) -> float | None:
    """Seconds until a NOTIFY sent now wakes `wakeups`; None if it does not within `seconds`."""
    sent = threading.Timer(0.05, notify)
    started = time.monotonic()
    sent.start()
    try:
        wakeups.wait(seconds)
    finally:
        sent.join()
        connections.close_all()
    took = time.monotonic() - started
    return took if took < seconds else None


@pytest.fixture
def database_down(monkeypatch):  # type: ignore[no-untyped-def]
    """psycopg.connect refuses while `down` is set, as a database that is restarting."""
    import psycopg

    real = psycopg.connect
    down = threading.Event()
    tries: list[float] = []

    def connect(*args, **kwargs):  # type: ignore[no-untyped-def]
        tries.append(time.monotonic())
        if down.is_set():
            raise psycopg.OperationalError("connection refused (the database is down)")
        return real(*args, **kwargs)

    monkeypatch.setattr(psycopg, "connect", connect)
    down.tries = tries  # type: ignore[attr-defined]
    return down


def test_a_listen_connection_that_failed_at_start_is_made_again_while_idle(database_down):
    skip_unless_postgresql("LISTEN/NOTIFY")
    database_down.set()
    wakeups = WakeUps()
    try:
        assert wakeups.listener is None
        wakeups.wait(2.0)  # idle through the outage: tried again, backing off
        tries = list(database_down.tries)
        assert 2 <= len(tries) <= 4, tries
        gaps = [b - a for a, b in itertools.pairwise(tries)]
        assert all(gap >= wakeup.LISTEN_RETRY_SECONDS / 2 - 0.05 for gap in gaps), gaps
        database_down.clear()
        # Back within the longest backoff; the worker looks for work as it comes back.
        assert wait_for(lambda: wakeups.keep_listening() or wakeups.listener is not None, 10)
        assert wakeups.listener is not None
        took = woken_within(wakeups, 5.0)
        assert took is not None and took < 0.5, took
    finally:
        wakeups.close()


def test_a_lost_listen_connection_comes_back_for_a_busy_worker(database_down):
    skip_unless_postgresql("LISTEN/NOTIFY")
    wakeups = WakeUps()
    try:
        pid = wakeups.listener.info.backend_pid
        with connection.cursor() as cursor:  # the server drops it, as in a restart
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        connections.close_all()
        database_down.set()
        # A busy worker never waits on it: only its claiming loop's keep_listening() runs.
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            wakeups.keep_listening()
            time.sleep(0.05)
        assert wakeups.listener is None and len(database_down.tries) >= 2
        database_down.clear()
        assert wait_for(lambda: wakeups.keep_listening() or wakeups.listener is not None, 10)
        assert wakeups.listener.info.backend_pid != pid
        took = woken_within(wakeups, 5.0)
        assert took is not None and took < 0.5, took
    finally:
        wakeups.close()


def test_a_listen_connection_lost_while_idle_is_noticed_and_made_again(database_down):
    skip_unless_postgresql("LISTEN/NOTIFY")
    wakeups = WakeUps()
    try:
        pid = wakeups.listener.info.backend_pid
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        connections.close_all()
        started = time.monotonic()
        wakeups.wait(5.0)  # noticed, made again at once, and the wait ends to look for work
        assert time.monotonic() - started < 2
        assert wakeups.listener is not None and wakeups.listener.info.backend_pid != pid
        took = woken_within(wakeups, 5.0)
        assert took is not None and took < 0.5, took
    finally:
        wakeups.close()
